#!/usr/bin/env bash
# bench/scan.sh: the ABI catalog's speed. Scans the three Debian test root
# filesystems of scripts/testdata.sh into a fresh SQLite catalog and into a
# fresh PostgreSQL (scripts/test-postgres.sh; needs root), then rescans one
# unchanged, then scans bookworm's OCI form twice (another image sharing
# every object: flattened into the cache and read the first time, taken
# from the catalog unread the second); prints seconds, objects/s, MiB/s of
# the ELF objects' size and peak memory. The scan cache is emptied first. Then times hitch matrix on the SQLite catalog, the three roots
# as images × the three as hosts, for MPI alone and for every interface
# the images use. Needs GNU time and jq. Best of RUNS (default 3) for the
# matrix, after a warm-up (which recreates the catalog trees).
set -euo pipefail
cd "$(dirname "$0")/.."
data=${HITCH_TESTDATA:-$HOME/.cache/hitch-testdata}
runs=${RUNS:-3}
out=bench/out
mkdir -p "$out"
go build -o "$out/hitch" ./cmd/hitch
export HITCH_CACHE_DIR=$out/cache
rm -rf "$HITCH_CACHE_DIR"
suites=(bullseye bookworm trixie)

pg=$PWD/$out/pg
bash scripts/test-postgres.sh stop "$pg" >/dev/null 2>&1 || true
rm -rf "$pg"
pgurl=$(bash scripts/test-postgres.sh start "$pg")
trap 'bash scripts/test-postgres.sh stop "$pg" >/dev/null 2>&1 || true' EXIT
# A fresh database for the benchmark on that server.
psql "$pgurl" -qc 'DROP DATABASE IF EXISTS hitchbench' -c 'CREATE DATABASE hitchbench' >/dev/null
pgbench=${pgurl/\/postgres\?/\/hitchbench?}

# elf_mib ROOT: MiB of ELF objects under ROOT (what a scan reads).
elf_mib() {
  "$out/hitch" inspect "$1" --format json 2>/dev/null | jq '.stats.bytes / 1048576'
}

# scan DB NAME REF...: one scan, timed; prints a result line.
scan() {
  local db=$1 name=$2 ref=$3 mib=$4
  /usr/bin/time -f '%e %M' -o "$out/time" "$out/hitch" scan --db "$db" --name "$name" --format json "$ref" >"$out/scan.json"
  read -r s k < <(tail -n 1 "$out/time")
  local objs new
  objs=$(jq '.scanned[0].objects' "$out/scan.json")
  new=$(jq '.scanned[0].new_objects' "$out/scan.json")
  printf '  %-22s %6.2f s  %5d objects (%4d new)  %6.0f objects/s  %6.1f MiB/s  %5.0f MiB peak\n' \
    "$name" "$s" "$objs" "$new" "$(echo "$objs/$s" | bc -l)" "$(echo "$mib/$s" | bc -l)" "$(echo "$k/1024" | bc -l)"
}

declare -A mib
for s in "${suites[@]}"; do
  mib[$s]=$(elf_mib "$data/rootfs/$s")
done
oci=$(ls -d "$data"/images/bookworm-*/oci 2>/dev/null | head -1 || true)

echo "$(nproc) CPUs; ELF MiB: bullseye ${mib[bullseye]}, bookworm ${mib[bookworm]}, trixie ${mib[trixie]}"
for engine in sqlite postgres; do
  if [ "$engine" = sqlite ]; then db=$out/bench.db; rm -f "$db" "$db"-*; else db=$pgbench; fi
  echo "$engine:"
  for s in "${suites[@]}"; do scan "$db" "$s" "$data/rootfs/$s" "${mib[$s]}"; done
  scan "$db" "bookworm" "$data/rootfs/bookworm" "${mib[bookworm]}"
  if [ -n "$oci" ]; then
    scan "$db" "bookworm-oci" "oci:$oci" "${mib[bookworm]}"
    scan "$db" "bookworm-oci" "oci:$oci" "${mib[bookworm]}"
  fi
done

# The matrix on the SQLite catalog.
db=$out/bench.db
for s in "${suites[@]}"; do
  "$out/hitch" scan --db "$db" --role host --name "host-$s" "$data/rootfs/$s" >/dev/null
done
best() {
  "$@" >/dev/null 2>&1 || true
  local b="" m=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$out/time" "$@" >/dev/null 2>"$out/stderr" || true
    read -r s k < <(tail -n 1 "$out/time")
    if [ -z "$b" ] || awk -v s="$s" -v b="$b" 'BEGIN{exit !(s<b)}'; then b=$s m=$k; fi
  done
  echo "$b $m"
}
images=bullseye,bookworm,trixie
echo "hitch matrix, 3 images × 3 hosts (9 cells), best of $runs:"
for ifs in "--interface mpi" ""; do
  read -r s k < <(best "$out/hitch" matrix --db "$db" --images "$images" --hosts 'host-*' $ifs)
  printf '  %-26s %6.2f s  %6.1f cells/s  %5.0f MiB peak\n' "${ifs:-every interface used}" "$s" "$(echo "9/$s" | bc -l)" "$(echo "$k/1024" | bc -l)"
done

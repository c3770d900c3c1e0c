#!/usr/bin/env bash
# bench/ldd.sh [ROOT]: time hitch's loader emulation over every dynamic
# x86-64 ELF file of a root filesystem against its peers on the same
# files, and print the ratios. ROOT defaults to the bookworm root of
# scripts/testdata.sh. Needs root (chroot), GNU time, libtree and lddtree
# (Debian packages time, libtree, pax-utils).
#
#   ld.so trace   LD_TRACE_LOADED_OBJECTS=1 ld.so FILE in the chroot, one
#                 process per file: what ldd runs
#   libtree       libtree FILE... in the chroot, one process per 64 files
#   lddtree       lddtree -R ROOT FILE..., one process per 64 files
#   hitch ldd     hitch ldd ROOT FILE... (one process, all files)
#   hitch check   hitch check ROOT: resolution, version needs and symbol
#                 binding of every ELF file (the walk included)
#
# Each is run once to warm the page cache, then RUNS times (default 3);
# the best wall time and its peak RSS are reported.
set -euo pipefail
cd "$(dirname "$0")/.."
root=${1:-${HITCH_TESTDATA:-$HOME/.cache/hitch-testdata}/rootfs/bookworm}
runs=${RUNS:-3}
out=bench/out
mkdir -p "$out"
go build -o "$out/hitch" ./cmd/hitch
for tool in /usr/bin/time libtree lddtree chroot python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (apt-get install time libtree pax-utils python3)" >&2; exit 2; }
done
[ -d "$root" ] || { echo "bench: no root filesystem at $root (scripts/testdata.sh builds it)" >&2; exit 2; }

# The dynamic files, as hitch check sees them (not static, not unreadable).
"$out/hitch" check --format json "$root" 2>/dev/null |
  python3 -c 'import json,sys; [print(v["path"]) for v in json.load(sys.stdin)["verdicts"] if v["type"] != "static"]' > "$out/dyn.list" || true
n=$(wc -l < "$out/dyn.list")
cp "$(command -v libtree)" "$root/tmp/.hitch-bench-libtree"
trap 'rm -f "$root/tmp/.hitch-bench-libtree" "$root/tmp/.hitch-bench-trace"' EXIT
cat > "$root/tmp/.hitch-bench-trace" <<'SH'
while read -r f; do LD_TRACE_LOADED_OBJECTS=1 /lib64/ld-linux-x86-64.so.2 "$f"; done
SH

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

trace=$(best sh -c "chroot '$root' sh /tmp/.hitch-bench-trace < '$out/dyn.list'")
libtree=$(best sh -c "xargs -n 64 chroot '$root' /tmp/.hitch-bench-libtree < '$out/dyn.list'")
lddtree=$(RUNS=1 best sh -c "sed 's|^|$root|' '$out/dyn.list' | xargs -n 64 lddtree -R '$root'")
hldd=$(best sh -c "xargs -a '$out/dyn.list' '$out/hitch' ldd '$root'")
hcheck=$(best "$out/hitch" check "$root")

echo "root: $root, $n dynamic ELF files, $(nproc) CPUs"
printf '%-14s %8s %10s %s\n' tool seconds "peak MiB" "hitch ldd is"
row() {
  read -r s k <<<"$2"
  printf '%-14s %8s %10.0f %s\n' "$1" "$s" "$(echo "$k/1024" | bc -l)" "$3"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.1fx faster", a/b; else print "-" }'; }
hs=${hldd%% *}
row "ld.so trace" "$trace" "$(ratio "${trace%% *}" "$hs")"
row "libtree" "$libtree" "$(ratio "${libtree%% *}" "$hs")"
row "lddtree -R" "$lddtree" "$(ratio "${lddtree%% *}" "$hs")"
row "hitch ldd" "$hldd" ""
row "hitch check" "$hcheck" "(trace pass / check: $(awk -v a="${trace%% *}" -v b="${hcheck%% *}" 'BEGIN{printf "%.1f", a/b}'))"

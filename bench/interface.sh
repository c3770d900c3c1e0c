#!/usr/bin/env bash
# bench/interface.sh [IMAGE-ROOT [HOST-ROOT]]: time hitch plan, hitch check
# --interface mpi (the default set, and --all) and hitch verify
# (the real loader in a mount namespace, the run users avoid) on the test
# root filesystems of scripts/testdata.sh: a trixie image, a bookworm host.
# Needs root (verify), GNU time. Best of RUNS (default 3), after a warm-up.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${HITCH_TESTDATA:-$HOME/.cache/hitch-testdata}/rootfs
image=${1:-$data/trixie}
host=${2:-$data/bookworm}
runs=${RUNS:-3}
out=bench/out
mkdir -p "$out"
go build -o "$out/hitch" ./cmd/hitch
best() {
  "$@" >/dev/null 2>&1 || true
  local b="" m=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$out/time" "$@" >/dev/null 2>"$out/stderr" || true
    read -r s k < <(tail -n 1 "$out/time")
    if [ -z "$b" ] || awk -v s="$s" -v b="$b" 'BEGIN{exit !(s<b)}'; then b=$s m=$k; fi
  done
  printf '%8s s %6.0f MiB' "$b" "$(echo "$m/1024" | bc -l)"
}
echo "image $image, host $host, $(nproc) CPUs"
printf '%-36s %s\n' "hitch plan --interface mpi" "$(best "$out/hitch" plan "$image" --interface mpi --host "$host")"
printf '%-36s %s\n' "hitch check --interface mpi" "$(best "$out/hitch" check "$image" --interface mpi --host "$host")"
printf '%-36s %s\n' "hitch check --interface mpi --all" "$(best "$out/hitch" check "$image" --interface mpi --host "$host" --all)"
printf '%-36s %s\n' "hitch verify --interface mpi" "$(best "$out/hitch" verify "$image" --interface mpi --host "$host")"
"$out/hitch" verify "$image" --interface mpi --host "$host" | tail -1

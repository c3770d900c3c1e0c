#!/usr/bin/env bash
# bench/diff.sh: hitch diff beside abidiff (Debian's abigail-tools) on the
# same pairs: libraries of the Debian test roots of scripts/testdata.sh,
# bullseye's against bookworm's. Debian's libraries carry no debug info,
# so both compare symbol tables here (the debug-info comparison comes with
# hitch's DWARF level). Prints seconds, peak memory and exit codes. Best
# of RUNS (default 3). Needs GNU time and abidiff.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${HITCH_TESTDATA:-$HOME/.cache/hitch-testdata}/rootfs
runs=${RUNS:-3}
out=bench/out
mkdir -p "$out"
go build -o "$out/hitch" ./cmd/hitch
lib() { readlink -f "$(ls "$data/$1/usr/lib/x86_64-linux-gnu/$2" "$data/$1/lib/x86_64-linux-gnu/$2" 2>/dev/null | head -1)"; }
best() {
  local b="" m="" rc=0
  for _ in $(seq "$runs"); do
    rc=0
    /usr/bin/time -f '%e %M' -o "$out/time" "$@" >/dev/null 2>&1 || rc=$?
    read -r s k < <(tail -n 1 "$out/time")
    if [ -z "$b" ] || awk -v s="$s" -v b="$b" 'BEGIN{exit !(s<b)}'; then b=$s m=$k; fi
  done
  printf '%6s s %5.0f MiB exit %2d' "$b" "$(echo "$m/1024" | bc -l)" "$rc"
}
printf '%-16s %-32s %s\n' library abidiff "hitch diff"
for so in libc.so.6 libstdc++.so.6 libmpich.so.12 libucp.so.0 libpmix.so.2 libibverbs.so.1 libmpi.so.40; do
  a=$(lib bullseye "$so") b=$(lib bookworm "$so")
  x=$(best abidiff "$a" "$b")
  y=$(best "$out/hitch" diff "$a" "$b")
  printf '%-16s %-32s %s\n' "$so" "$x" "$y"
done

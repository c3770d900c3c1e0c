#!/usr/bin/env bash
# bench/diff-scale.sh [N...]: how hitch diff and abidiff scale with the
# number of changed symbols. For each N (default 1000 4000 16000 64000),
# gcc builds a library exporting N functions and a new version that
# keeps the first half: N/2 removed symbols, the case where abidiff is
# super-linear. No debug info (both compare symbol tables). Prints
# seconds and peak memory, best of RUNS (default 3), and hitch's
# microseconds per symbol. Needs gcc, GNU time and abidiff.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-3}
out=bench/out/scale
mkdir -p "$out"
go build -o bench/out/hitch ./cmd/hitch
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 4000 16000 64000)
best() {
  local b="" m="" rc=0
  for _ in $(seq "$runs"); do
    rc=0
    /usr/bin/time -f '%e %M' -o "$out/time" "$@" >/dev/null 2>&1 || rc=$?
    read -r s k < <(tail -n 1 "$out/time")
    if [ -z "$b" ] || awk -v s="$s" -v b="$b" 'BEGIN{exit !(s<b)}'; then b=$s m=$k; fi
  done
  echo "$b $m $rc"
}
printf '%8s %-26s %-26s %s\n' N abidiff "hitch diff" "hitch µs/symbol"
for n in "${sizes[@]}"; do
  for side in old new; do
    lib=$out/lib$n-$side.so
    [ -f "$lib" ] && continue
    keep=$n
    [ "$side" = new ] && keep=$((n / 2))
    awk -v k="$keep" 'BEGIN { for (i = 0; i < k; i++) printf "int f%d(int x) { return x + %d; }\n", i, i }' > "$out/lib$n-$side.c"
    gcc -O0 -shared -fPIC -Wl,-soname,libscale.so.1 -o "$lib" "$out/lib$n-$side.c"
  done
  read -r as am arc < <(best abidiff "$out/lib$n-old.so" "$out/lib$n-new.so")
  read -r hs hm hrc < <(best bench/out/hitch diff "$out/lib$n-old.so" "$out/lib$n-new.so")
  printf '%8d %6s s %5.0f MiB exit %2d  %6s s %5.0f MiB exit %2d  %6.2f\n' "$n" "$as" "$(echo "$am/1024" | bc -l)" "$arc" \
    "$hs" "$(echo "$hm/1024" | bc -l)" "$hrc" "$(echo "$hs*1000000/$n" | bc -l)"
done

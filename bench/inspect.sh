#!/usr/bin/env bash
# bench/inspect.sh [DIR]: time hitch inspect over a library tree against
# readelf over the same ELF files, and print the ratios.
#
#   hitch        hitch inspect --format json DIR > /dev/null (one process)
#   readelf/1    readelf -dW --dyn-syms FILE, one process per ELF file
#   readelf/xargs  the same, 64 files per readelf process
#
# Each is run once to warm the page cache, then RUNS times (default 3);
# the best wall time and its peak RSS are reported. Needs GNU time
# (Debian package "time") and perl.
set -euo pipefail
dir=${1:-/usr/lib/x86_64-linux-gnu}
runs=${RUNS:-3}
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
go build -o "$out/hitch" ./cmd/hitch
for tool in /usr/bin/time perl readelf; do
  command -v "$tool" >/dev/null || { echo "bench: $tool not found (apt-get install time binutils perl)" >&2; exit 2; }
done

# The ELF files under DIR, not following symlinks (what hitch reads).
find "$dir" -type f -print0 |
  perl -0ne 'chomp; open(my $f, "<", $_) or next; read($f, my $b, 4); print "$_\0" if $b eq "\x7fELF"' > "$out/elf.list"
n=$(tr -cd '\0' < "$out/elf.list" | wc -c)
mib=$(xargs -0 stat -c %s < "$out/elf.list" | awk '{s += $1} END {printf "%.0f", s/1048576}')

# best CMD...: prints "seconds maxrss_kib" of the fastest of $runs runs.
best() {
  "$@" >/dev/null 2>&1 || true
  local b="" m=""
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$out/time" "$@" >/dev/null 2>"$out/stderr" || true
    read -r s k < "$out/time"
    if [ -z "$b" ] || awk -v s="$s" -v b="$b" 'BEGIN{exit !(s<b)}'; then b=$s m=$k; fi
  done
  echo "$b $m"
}

read -r th tm < <(best "$out/hitch" inspect --format json "$dir")
read -r t1 m1 < <(best sh -c 'xargs -0 -n1 readelf -dW --dyn-syms < "$0"' "$out/elf.list")
read -r tx mx < <(best sh -c 'xargs -0 -n64 readelf -dW --dyn-syms < "$0"' "$out/elf.list")

echo "tree: $dir: $n ELF files, $mib MiB; best of $runs runs; $(nproc) CPUs; $(date -u +%F)"
printf '%-14s %9s %12s %10s\n' tool seconds "peak RSS" "vs hitch"
printf '%-14s %9s %9s MiB %10s\n' hitch "$th" "$((tm / 1024))" "1.0x"
printf '%-14s %9s %9s MiB %9.1fx\n' readelf/1 "$t1" "$((m1 / 1024))" "$(awk -v a="$t1" -v b="$th" 'BEGIN{print a/b}')"
printf '%-14s %9s %9s MiB %9.1fx\n' readelf/xargs "$tx" "$((mx / 1024))" "$(awk -v a="$tx" -v b="$th" 'BEGIN{print a/b}')"

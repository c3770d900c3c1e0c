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

# With debug info: bullseye's libc (libc6-dbg 2.31-13+deb11u11, fetched
# and unpacked into bench/out) against this machine's bookworm libc
# (libc6-dbg installed here: apt-get install libc6-dbg).
if [ -d /usr/lib/debug/.build-id ] && dpkg-query -W -f='${Status}' libc6-dbg 2>/dev/null | grep -q 'install ok installed'; then
  dbg=$out/libc6-dbg-bullseye
  if [ ! -d "$dbg/usr/lib/debug" ]; then
    curl -fsS -o "$out/libc6-dbg.deb" http://deb.debian.org/debian/pool/main/g/glibc/libc6-dbg_2.31-13+deb11u11_amd64.deb
    echo "d34d4c479c3f508391edf56adc408626dff8c6d19bbfd7f2e33f5001057288de  $out/libc6-dbg.deb" | sha256sum -c --quiet
    dpkg-deb -x "$out/libc6-dbg.deb" "$dbg"
  fi
  a=$(lib bullseye libc.so.6) b=/lib/x86_64-linux-gnu/libc.so.6
  printf '%-16s %-32s %s\n' "libc (debug)" "$(best abidiff --d1 "$dbg/usr/lib/debug" --d2 /usr/lib/debug "$a" "$b")" \
    "$(best "$out/hitch" diff --debug-dir "$dbg/usr/lib/debug" "$a" "$b")"
else
  echo "libc with debug info: skipped (apt-get install libc6-dbg)"
fi

# libstdc++ with debug info: bullseye's libstdc++6-10-dbg (an unstripped
# copy of the library, fetched and unpacked into bench/out) against this
# machine's bookworm libstdc++6-12-dbg (apt-get install libstdc++6-12-dbg).
new=/usr/lib/x86_64-linux-gnu/debug/libstdc++.so.6.0.30
if [ -f "$new" ]; then
  dbg=$out/stdcxx-dbg-bullseye
  if [ ! -d "$dbg/usr/lib" ]; then
    curl -fsS -o "$out/libstdcxx-dbg.deb" http://deb.debian.org/debian/pool/main/g/gcc-10/libstdc++6-10-dbg_10.2.1-6_amd64.deb
    echo "9b4b59dadd6807bff6cd4b76938668759de6c5385f3126fead91b17d7899c4fd  $out/libstdcxx-dbg.deb" | sha256sum -c --quiet
    dpkg-deb -x "$out/libstdcxx-dbg.deb" "$dbg"
  fi
  old=$dbg/usr/lib/x86_64-linux-gnu/debug/libstdc++.so.6.0.28
  printf '%-16s %-32s %s\n' "libstdc++ (debug)" "$(best abidiff "$old" "$new")" "$(best "$out/hitch" diff "$old" "$new")"
else
  echo "libstdc++ with debug info: skipped (apt-get install libstdc++6-12-dbg)"
fi

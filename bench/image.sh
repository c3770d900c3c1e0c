#!/usr/bin/env bash
# bench/image.sh [SUITE]: open the Debian test rootfs (default bookworm)
# as an OCI layout, a docker archive and a SIF with hitch inspect (which
# also reads every ELF object), first into an empty cache, then again from
# the cache; print wall time and peak RSS of each, and the ratio.
#
# The images are made by the test fixtures: run
#   bash scripts/testdata.sh && go test ./image -run TestDebianFormatsAgree
# first. Needs GNU time (Debian package "time").
set -euo pipefail
suite=${1:-bookworm}
cd "$(dirname "$0")/.."
data=${HITCH_TESTDATA:-${XDG_CACHE_HOME:-$HOME/.cache}/hitch-testdata}
images=$(ls -d "$data"/images/"$suite"-*-p1 2>/dev/null | head -1)
if [ -z "$images" ] || [ ! -f "$images/done" ]; then
  echo "bench: no packed $suite images in $data/images; see the header of $0" >&2
  exit 2
fi
out=bench/out
mkdir -p "$out"
go build -o "$out/hitch" ./cmd/hitch
cache=$(mktemp -d)
trap 'rm -rf "$cache"' EXIT

run() { # run LABEL REF: prints "seconds maxrss_kib"
  HITCH_CACHE_DIR=$cache /usr/bin/time -f '%e %M' -o "$out/time" "$out/hitch" inspect --format json "$2" > /dev/null
  cat "$out/time"
}

echo "$suite: $(du -sh "$data/rootfs/$suite" | cut -f1) rootfs; $(nproc) CPUs; $(date -u +%F)"
printf '%-16s %10s %10s %10s %10s %8s\n' format "first s" "first RSS" "cached s" "cached RSS" "ratio"
for f in oci:"$images/oci" docker-archive:"$images/image.tar" sif:"$images/image.sif"; do
  rm -rf "${cache:?}"/*
  read -r t1 m1 < <(run first "$f")
  read -r t2 m2 < <(run cached "$f")
  printf '%-16s %10s %7s MiB %10s %7s MiB %7.1f%%\n' "${f%%:*}" "$t1" "$((m1 / 1024))" "$t2" "$((m2 / 1024))" \
    "$(awk -v a="$t2" -v b="$t1" 'BEGIN{print 100*a/b}')"
done

#!/usr/bin/env bash
# scripts/testdata.sh [SUITE...]: build the real Debian root filesystems
# that hitch's tests use as ground truth (default: bullseye bookworm
# trixie), with mmdebstrap (variant minbase) plus Open MPI, MPICH,
# libfabric, gcc and an MPI hello program per MPI, compiled inside.
#
# They go to $HITCH_TESTDATA/rootfs/SUITE (default
# ~/.cache/hitch-testdata), outside the repository, and are rebuilt only
# when missing or when this recipe changes (a stamp file holds its hash).
# Each is built in a temporary directory and renamed into place, so an
# interrupted build leaves nothing half made. Needs root and mmdebstrap.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${HITCH_TESTDATA:-${XDG_CACHE_HOME:-$HOME/.cache}/hitch-testdata}
mirror=${HITCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bullseye bookworm trixie)

packages=openmpi-bin,libopenmpi-dev,mpich,libmpich-dev,libfabric1,gcc,libc6-dev
recipe=$( { cat "$0" "$here/testdata/rootfs/hello_mpi.c"; echo "$packages"; } | sha256sum | cut -c1-16)

command -v mmdebstrap >/dev/null || { echo "testdata: mmdebstrap not installed (apt-get install mmdebstrap)" >&2; exit 2; }
mkdir -p "$data/rootfs"

for suite in "${suites[@]}"; do
  dst=$data/rootfs/$suite
  if [ -f "$dst/.hitch-testdata" ] && [ "$(cat "$dst/.hitch-testdata")" = "$recipe" ]; then
    echo "testdata: $suite up to date in $dst"
    continue
  fi
  echo "testdata: building $suite in $dst"
  tmp=$(mktemp -d "$data/rootfs/.build-$suite-XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  mmdebstrap --quiet --variant=minbase --include="$packages" \
    --customize-hook='mkdir -p "$1/opt/hitch"' \
    --customize-hook="copy-in $here/testdata/rootfs/hello_mpi.c /opt/hitch" \
    --customize-hook='chroot "$1" mpicc.openmpi -o /opt/hitch/hello_openmpi /opt/hitch/hello_mpi.c' \
    --customize-hook='chroot "$1" mpicc.mpich -o /opt/hitch/hello_mpich /opt/hitch/hello_mpi.c' \
    "$suite" "$tmp/root" "$mirror"
  echo "$recipe" > "$tmp/root/.hitch-testdata"
  rm -rf "$dst.old"
  [ ! -e "$dst" ] || mv "$dst" "$dst.old"
  mv "$tmp/root" "$dst"
  rm -rf "$dst.old" "$tmp"
  trap - EXIT
  echo "testdata: $suite ready ($(du -sh "$dst" | cut -f1))"
done

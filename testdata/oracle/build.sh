#!/bin/sh
# Builds the static helper the loader oracle uses to enter a root with a
# clean environment (see chroot_exec.c) into OUTDIR.
set -eu
src=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR}
${CC:-gcc} -static -O1 -o "$out/chroot_exec" "$src/chroot_exec.c"

#!/bin/sh
# Builds the ABI-diff corpus of testdata/abi into OUTDIR: for each pair,
# OUTDIR/PAIR/old.so and new.so with debug info (gcc/g++ -g), and
# old.stripped.so and new.stripped.so without it (strip --strip-debug).
# manifest.toml holds the expected verdicts. The tests call it (through
# internal/fixture); its output is never committed.
set -eu
src=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR}
cc=${CC:-gcc}
cxx=${CXX:-g++}

# lib PAIR SIDE SOURCE [FLAGS...]: one side of a pair, soname libpair.so.1
# unless FLAGS set another, with SIDE.map as version script when present.
lib() {
  pair=$1 side=$2 file=$3
  shift 3
  mkdir -p "$out/$pair"
  compiler=$cc
  case $file in *.cc) compiler=$cxx ;; esac
  map=
  if [ -f "$src/$pair-$side.map" ]; then map="-Wl,--version-script=$src/$pair-$side.map"; fi
  $compiler -shared -fPIC -g -O1 -o "$out/$pair/$side.so" -Wl,-soname,libpair.so.1 $map "$src/$file" "$@"
  strip --strip-debug -o "$out/$pair/$side.stripped.so" "$out/$pair/$side.so"
}

# both PAIR: both sides from PAIR-old.* and PAIR-new.* (or PAIR.c for
# both), with the default flags.
both() {
  pair=$1
  for side in old new; do
    for f in "$pair-$side.c" "$pair-$side.cc" "$pair.c"; do
      if [ -f "$src/$f" ]; then lib "$pair" "$side" "$f"; break; fi
    done
  done
}

both same
both added
both removed
both var-resized
both func-to-var
both made-weak
both version-added
both version-removed
both version-moved
both default-changed
lib needed-added old needed-added-old.c
lib needed-added new needed-added-new.c -lm
both cxx-virtual-added
both cxx-virtual-reordered
both cxx-base-added
both cxx-member-added
# Type-level pairs: the symbol tables agree; the debug info does not.
both param-type
both return-type
both struct-grown
both struct-reordered
both enum-value
both enum-added
both typedef-renamed
# struct-grown in DWARF 4 (gcc 12 writes DWARF 5 by default).
lib struct-grown-dwarf4 old struct-grown-old.c -gdwarf-4
lib struct-grown-dwarf4 new struct-grown-new.c -gdwarf-4
lib bitfields old bitfields.c -gdwarf-4
lib bitfields new bitfields.c -gdwarf-5
# struct-grown with compressed debug sections: zlib (gcc -gz) and zstd
# (objcopy; gcc 12 cannot emit it): the same verdict must come out.
for z in zlib zstd; do
  mkdir -p "$out/struct-grown-$z"
  for side in old new; do
    objcopy --compress-debug-sections=$z "$out/struct-grown/$side.so" "$out/struct-grown-$z/$side.so"
    cp "$out/struct-grown/$side.stripped.so" "$out/struct-grown-$z/$side.stripped.so"
  done
done
# soname-bump: the same code, libpair.so.1 then libpair.so.2 (the later
# -soname wins).
lib soname-bump old soname-bump.c
lib soname-bump new soname-bump.c -Wl,-soname,libpair.so.2
# isa-raised: the new build says it needs x86-64-v3 CPUs.
lib isa-raised old isa-raised.c
lib isa-raised new isa-raised.c -march=x86-64-v3 -Wl,-z,x86-64-v3

# Programs linked against a pair's old library, for hitch compat:
# app PAIR APP [FLAGS...] builds OUTDIR/PAIR/APP from APP.c.
app() {
  pair=$1 name=$2
  shift 2
  $cc -g -O1 -o "$out/$pair/$name" "$src/$name.c" "$out/$pair/old.so" "$@"
}
app removed app-f
app removed app-g
app var-resized app-f
app var-resized app-table -no-pie -fno-pic
app version-removed app-f
app version-removed app-g
app soname-bump app-f
app default-changed app-f
app param-type app-f
app struct-grown app-f

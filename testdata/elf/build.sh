#!/bin/sh
# Builds the ELF fixtures of testdata/elf into OUTDIR with the machine's gcc
# and g++. The tests call it (through internal/fixture); its output is never
# committed. Each line states the property the fixture exists to show.
set -eu
src=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out/lib" "$out/bin"
cc=${CC:-gcc}
cxx=${CXX:-g++}

# Versioned symbols, weak, TLS, IFUNC, BIND_NOW.
$cc -shared -fPIC -O1 -o "$out/lib/libver.so.1" -Wl,-soname,libver.so.1 \
    -Wl,--version-script="$src/ver.map" -Wl,-z,now "$src/ver.c"
ln -sf libver.so.1 "$out/lib/libver.so"

# Non-PIE program with a copy relocation and DT_RPATH (old dtags).
$cc -O1 -no-pie -fno-pic -o "$out/bin/app_copyreloc" "$src/app.c" \
    -L"$out/lib" -lver -Wl,--disable-new-dtags,-rpath,/opt/hitch/rpath
# PIE with DT_RUNPATH holding $ORIGIN and an empty entry.
$cc -O1 -fPIE -pie -o "$out/bin/app_runpath" "$src/app.c" \
    -L"$out/lib" -lver -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib:'
# Library with NODEFLIB (ld -z nodefaultlib).
$cc -shared -fPIC -O1 -o "$out/lib/libnodeflib.so" -Wl,-soname,libnodeflib.so \
    -Wl,-z,nodefaultlib -Wl,--enable-new-dtags,-rpath,'$ORIGIN' "$src/hello.c"

# Static program: no PT_INTERP, no dynamic segment.
$cc -O1 -static -o "$out/bin/hello_static" "$src/hello.c"
# x86-64-v3 ISA marker and CET features in the GNU property note.
$cc -O1 -fcf-protection=full -o "$out/bin/hello_v3" "$src/hello.c" \
    -Wl,-z,x86-64-v3,-z,ibt,-z,shstk

# C++ library.
$cxx -shared -fPIC -O1 -o "$out/lib/libcxx.so" -Wl,-soname,libcxx.so "$src/cxx.cc"

# 32-bit program, when gcc-multilib is installed.
if echo 'int main(void){return 0;}' | $cc -m32 -x c -o /dev/null - 2>/dev/null; then
    $cc -m32 -O1 -o "$out/bin/hello_32" "$src/hello.c"
fi

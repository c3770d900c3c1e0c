#!/bin/sh
# Builds a tree of programs and libraries, one per loader rule, into
# OUTDIR/root (no libc: the tests copy the machine's loader and libc in).
# The tests compare hitch's load list of each program with the real
# loader's in a chroot; each line says which rule the program exercises.
set -eu
src=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR}
r="$out/root"
cc=${CC:-gcc}
mkdir -p "$r/usr/lib/x86_64-linux-gnu" "$r/usr/bin"

# lib NAME SONAME DIR [ld flags...]: a shared library NAME in DIR.
lib() {
	name=$1 soname=$2 dir=$3
	shift 3
	mkdir -p "$r$dir"
	$cc -shared -fPIC -O1 -DID="f_$(echo "$name$dir" | tr -c 'a-zA-Z0-9\n' _)" \
		-o "$r$dir/$name" -Wl,-soname,"$soname" "$src/lib.c" -Wl,--no-as-needed "$@"
}
# prog NAME DIR [ld flags...]: a program in DIR.
prog() {
	name=$1 dir=$2
	shift 2
	mkdir -p "$r$dir"
	$cc -O1 -o "$r$dir/$name" "$src/prog.c" -Wl,--no-as-needed "$@"
}
L=/usr/lib/x86_64-linux-gnu

# libA.so.1 in many places, to see which one each rule picks.
for d in /opt/rpath /opt/runpath /opt/llp /opt/wc2 $L /opt/lib/x86_64-linux-gnu /opt/x86_64; do
	lib libA.so.1 libA.so.1 $d
done
# The same name, 32-bit: another class, skipped by the search.
mkdir -p "$r/opt/wc"
$cc -m32 -shared -fPIC -O1 -DID=f32 -o "$r/opt/wc/libA.so.1" -Wl,-soname,libA.so.1 "$src/lib.c"
# The same name, not an ELF file: a fatal "invalid ELF header".
mkdir -p "$r/opt/bad"
echo "not a library" > "$r/opt/bad/libA.so.1"
A="-L$r/opt/rpath -l:libA.so.1"

# DT_RPATH beats LD_LIBRARY_PATH; DT_RUNPATH does not.
prog rpath /usr/bin $A -Wl,--disable-new-dtags,-rpath,/opt/rpath
prog runpath /usr/bin $A -Wl,--enable-new-dtags,-rpath,/opt/runpath
# No path tags: the cache, then the trusted directories.
prog plain /usr/bin $A

# DT_RPATH is inherited down the loader chain; DT_RUNPATH is not.
lib libC.so.1 libC.so.1 /opt/chain
lib libB.so.1 libB.so.1 /opt/chain -L"$r/opt/chain" -l:libC.so.1
lib libB.so.1 libB.so.1 /opt/chain-runpath -L"$r/opt/chain" -l:libC.so.1 -Wl,--enable-new-dtags,-rpath,/nonexistent
prog rpath_chain /usr/bin -L"$r/opt/chain" -l:libB.so.1 -Wl,--disable-new-dtags,-rpath,/opt/chain
prog runpath_chain /usr/bin -L"$r/opt/chain" -l:libB.so.1 -Wl,--enable-new-dtags,-rpath,/opt/chain
# A library with DT_RUNPATH stops the inherited DT_RPATH.
prog rpath_stop /usr/bin -L"$r/opt/chain-runpath" -l:libB.so.1 -Wl,--disable-new-dtags,-rpath,/opt/chain-runpath:/opt/chain

# $ORIGIN, $LIB and $PLATFORM.
lib libO.so.1 libO.so.1 /opt/app/lib
prog origin /opt/app/bin -L"$r/opt/app/lib" -l:libO.so.1 -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib'
prog origin_braced /opt/app/bin -L"$r/opt/app/lib" -l:libO.so.1 -Wl,--enable-new-dtags,-rpath,'${ORIGIN}/../lib'
prog lib_token /usr/bin $A -Wl,--enable-new-dtags,-rpath,'/opt/$LIB'
prog platform_token /usr/bin $A -Wl,--enable-new-dtags,-rpath,'/opt/$PLATFORM'
prog unknown_token /usr/bin $A -Wl,--enable-new-dtags,-rpath,'/opt/$NOPE:/opt/runpath'

# DF_1_NODEFLIB: neither the trusted directories nor their cache entries.
prog nodeflib /usr/bin $A -Wl,-z,nodefaultlib
prog nodeflib_runpath /usr/bin $A -Wl,-z,nodefaultlib -Wl,--enable-new-dtags,-rpath,/opt/runpath

# glibc-hwcaps subdirectories, chosen by CPU level.
lib libH.so.1 libH.so.1 /opt/hw
lib libH.so.1 libH.so.1 /opt/hw/glibc-hwcaps/x86-64-v2
lib libH.so.1 libH.so.1 /opt/hw/glibc-hwcaps/x86-64-v3
prog hwcaps /usr/bin -L"$r/opt/hw" -l:libH.so.1 -Wl,--enable-new-dtags,-rpath,/opt/hw

# Soname reuse: libP.so.1 has soname libQ.so.1, which the program needs.
# No file is named libQ.so.1, but once libP.so.1 is loaded (preloaded by
# path) the need is met by its soname, without a search: how a library
# bound over the container's takes its place.
lib libP.so.1 libQ.so.1 /opt/soname
prog soname /usr/bin -L"$r/opt/soname" -l:libP.so.1 -Wl,--enable-new-dtags,-rpath,/opt/nowhere
# One file under two names is one object.
ln -s libA.so.1 "$r/opt/runpath/libA-alias.so.1"
lib libAlias.so.1 libAlias.so.1 /opt/alias -L"$r/opt/runpath" -l:libA-alias.so.1 -Wl,--enable-new-dtags,-rpath,/opt/runpath
prog same_file /usr/bin $A -L"$r/opt/alias" -l:libAlias.so.1 -Wl,--enable-new-dtags,-rpath,/opt/runpath:/opt/alias

# Wrong class skipped; a non-ELF file is fatal.
prog wrong_class /usr/bin $A -Wl,--enable-new-dtags,-rpath,/opt/wc:/opt/wc2
prog bad_elf /usr/bin $A -Wl,--enable-new-dtags,-rpath,/opt/bad:/opt/wc2

# Missing libraries, needed twice: each need is listed.
lib libnope.so.1 libnope.so.1 /tmp/gone
lib libM.so.1 libM.so.1 /opt/missing -L"$r/tmp/gone" -l:libnope.so.1
prog missing /usr/bin -L"$r/tmp/gone" -l:libnope.so.1 -L"$r/opt/missing" -l:libM.so.1 \
	-Wl,--enable-new-dtags,-rpath,/opt/missing
rm -r "$r/tmp"

# A dependency cycle.
lib libCy1.so.1 libCy1.so.1 /opt/cycle
lib libCy2.so.1 libCy2.so.1 /opt/cycle -L"$r/opt/cycle" -l:libCy1.so.1
lib libCy1.so.1 libCy1.so.1 /opt/cycle -L"$r/opt/cycle" -l:libCy2.so.1
prog cycle /usr/bin -L"$r/opt/cycle" -l:libCy1.so.1 -Wl,--disable-new-dtags,-rpath,/opt/cycle

# A DT_NEEDED with a slash is opened as written: absolute (a soname with a
# slash), and relative (a library without soname linked by a relative
# path), which the loader opens from the working directory.
lib libS.so /opt/slash/libS.so /opt/slash
prog slash /usr/bin "$r/opt/slash/libS.so"
mkdir -p "$r/opt/rel"
$cc -shared -fPIC -O1 -DID=f_rel -o "$r/opt/rel/libT.so" "$src/lib.c"
(cd "$r" && $cc -O1 -o usr/bin/relative "$src/prog.c" -Wl,--no-as-needed opt/rel/libT.so)
# An empty DT_RUNPATH entry is the working directory.
prog empty_entry /usr/bin $A -Wl,--enable-new-dtags,-rpath,':/opt/runpath'

# ld.so.conf for the cache the tests build with ldconfig -r.
mkdir -p "$r/etc"
printf '/opt/x86_64\n' > "$r/etc/ld.so.conf"

# musl, when musl-gcc is installed: its loader searches LD_LIBRARY_PATH
# first, then DT_RUNPATH or DT_RPATH of the object and of every object up
# its needed-by chain, then /etc/ld-musl-ARCH.path or its defaults; it
# serves libc.so and the other names of libc itself, and has no versions.
if command -v musl-gcc >/dev/null 2>&1; then
	M=/opt/musl
	mkdir -p "$r$M/lib" "$r$M/llp" "$r$M/sys"
	mcc() { musl-gcc -O1 -Wl,--no-as-needed "$@"; }
	mcc -shared -fPIC -DID=f_mz -o "$r$M/lib/libmz.so.1" -Wl,-soname,libmz.so.1 "$src/lib.c"
	cp "$r$M/lib/libmz.so.1" "$r$M/llp/libmz.so.1"
	mcc -shared -fPIC -DID=f_ms -o "$r$M/sys/libms.so.1" -Wl,-soname,libms.so.1 "$src/lib.c"
	mcc -shared -fPIC -DID=f_mw -o "$r$M/lib/libmw.so.1" -Wl,-soname,libmw.so.1 "$src/lib.c" \
		-L"$r$M/lib" -l:libmz.so.1 -lpthread -lm
	# RUNPATH inherited: libmw's need for libmz is met by the program's.
	mcc -o "$r/usr/bin/musl_runpath" "$src/prog.c" -L"$r$M/lib" -l:libmw.so.1 \
		-Wl,-rpath-link,"$r$M/lib" -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../..'"$M/lib"
	# A library only in the directories of the path file.
	mcc -o "$r/usr/bin/musl_sys" "$src/prog.c" -L"$r$M/sys" -l:libms.so.1
	# A library needed twice and found nowhere.
	mkdir -p "$r/tmp"
	mcc -shared -fPIC -DID=f_mn -o "$r/tmp/libmnope.so.1" -Wl,-soname,libmnope.so.1 "$src/lib.c"
	mcc -o "$r/usr/bin/musl_missing" "$src/prog.c" -L"$r/tmp" -l:libmnope.so.1 -L"$r$M/lib" -l:libmz.so.1 \
		-Wl,--enable-new-dtags,-rpath,$M/lib
	rm -r "$r/tmp"
	# An undefined symbol: libmu needs one no object defines.
	printf 'int gone(void); int f_mu(void) { return gone(); }\n' > "$out/mu.c"
	mcc -shared -fPIC -o "$r$M/lib/libmu.so.1" -Wl,-soname,libmu.so.1 "$out/mu.c"
	mcc -o "$r/usr/bin/musl_undefined" "$src/prog.c" -L"$r$M/lib" -l:libmu.so.1 -Wl,-rpath,$M/lib \
		-Wl,--allow-shlib-undefined
	printf '%s/sys\n' "$M" > "$r/etc/ld-musl-x86_64.path"
fi

# Absurd but legal: a program that needs 1,000 libraries (empty ones, made
# by ld alone), found through its RUNPATH.
mkdir -p "$r/opt/many"
: > "$out/empty.s"
as -o "$out/empty.o" "$out/empty.s"
i=0
libs=
while [ $i -lt 1000 ]; do
	ld -shared -soname "libmany$i.so" -o "$r/opt/many/libmany$i.so" "$out/empty.o"
	libs="$libs -l:libmany$i.so"
	i=$((i + 1))
done
prog many /usr/bin -L"$r/opt/many" $libs -Wl,--enable-new-dtags,-rpath,/opt/many

# A copy relocation: a non-PIE program reads arr, defined in libcopy; the
# program gets its own copy, 16 bytes as linked. The libcopy in /opt/copy2
# defines a 32-byte arr: the loader warns that the sizes differ.
mkdir -p "$r/opt/copy" "$r/opt/copy2"
printf 'int arr[4] = {1, 2, 3, 4};\n' > "$out/copy4.c"
printf 'int arr[8] = {1, 2, 3, 4, 5, 6, 7, 8};\n' > "$out/copy8.c"
printf 'extern int arr[];\nint main(void) { return arr[1] != 2; }\n' > "$out/copymain.c"
$cc -shared -fPIC -O1 -o "$r/opt/copy/libcopy.so.1" -Wl,-soname,libcopy.so.1 "$out/copy4.c"
$cc -shared -fPIC -O1 -o "$r/opt/copy2/libcopy.so.1" -Wl,-soname,libcopy.so.1 "$out/copy8.c"
$cc -O1 -no-pie -fno-pic -o "$r/usr/bin/copyreloc" "$out/copymain.c" -L"$r/opt/copy" -l:libcopy.so.1 \
	-Wl,--enable-new-dtags,-rpath,/opt/copy

# Versions: libv.so.1 defines vfun at VER_2 (and VER_1); a program linked
# against it needs VER_2. /opt/vold holds a libv.so.1 with VER_1 only (the
# loader: "version `VER_2' not found"); /opt/vnone one without versions
# ("no version information available", and the symbol binds anyway).
mkdir -p "$r/opt/v" "$r/opt/vold" "$r/opt/vnone"
printf 'VER_1 { global: vfun; local: *; };\nVER_2 { global: vfun2; } VER_1;\n' > "$out/v2.map"
printf 'VER_1 { global: vfun; vfun2; local: *; };\n' > "$out/v1.map"
printf 'int vfun(void) { return 1; }\nint vfun2(void) { return 2; }\n' > "$out/v.c"
printf 'int vfun2(void);\nint main(void) { return vfun2() != 2; }\n' > "$out/vmain.c"
$cc -shared -fPIC -O1 -o "$r/opt/v/libv.so.1" -Wl,-soname,libv.so.1 -Wl,--version-script="$out/v2.map" "$out/v.c"
$cc -shared -fPIC -O1 -o "$r/opt/vold/libv.so.1" -Wl,-soname,libv.so.1 -Wl,--version-script="$out/v1.map" "$out/v.c"
$cc -shared -fPIC -O1 -o "$r/opt/vnone/libv.so.1" -Wl,-soname,libv.so.1 "$out/v.c"
$cc -O1 -o "$r/usr/bin/versioned" "$out/vmain.c" -L"$r/opt/v" -l:libv.so.1 -Wl,--enable-new-dtags,-rpath,/opt/v

# A host library bound into a container keeps its DT_RUNPATH, which the
# loader applies inside the container: libHX's $ORIGIN/../deps is looked
# up next to where libHX is mounted, not where it came from. The program
# expects libHX in /opt/hxbind, which the tests bind it onto.
lib libHY.so.1 libHY.so.1 /opt/hx/deps
lib libHX.so.1 libHX.so.1 /opt/hx/lib -L"$r/opt/hx/deps" -l:libHY.so.1 -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../deps'
prog hx /usr/bin -L"$r/opt/hx/lib" -l:libHX.so.1 -Wl,-rpath-link,"$r/opt/hx/deps" -Wl,--enable-new-dtags,-rpath,/opt/hxbind

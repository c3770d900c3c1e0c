#!/usr/bin/env bash
# scripts/cuda-testdata.sh [SUITE...]: fetch Debian's NVIDIA driver
# libraries and CUDA runtime (non-free) for each suite (default bullseye
# bookworm trixie) and unpack them, not install them, into
# $HITCH_TESTDATA/cuda/SUITE:
#   driver/   libcuda1, libnvidia-ml1, libnvidia-ptxjitcompiler1 (dpkg-deb -x)
#   runtime/  libcudart (11.2 in bullseye, 11.8 in bookworm, 12.4 in trixie)
#   graphics/ libnvidia-egl-wayland1 and the libwayland it needs (main: the
#             distribution builds them, against its own glibc)
# plus bin/hello_cuda, a program linked against that libcudart (it calls
# cudaRuntimeGetVersion; no GPU is needed to load it). Each .deb is
# checked against the SHA256 of the suite's Packages index. Built in a
# temporary directory and renamed into place; rebuilt when this recipe
# changes. Needs curl, xz, dpkg-deb and gcc.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${HITCH_TESTDATA:-${XDG_CACHE_HOME:-$HOME/.cache}/hitch-testdata}
mirror=${HITCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bullseye bookworm trixie)
recipe=$(sha256sum "$0" | cut -c1-16)
for tool in curl xz dpkg-deb gcc; do
  command -v "$tool" >/dev/null || { echo "cuda-testdata: $tool not installed" >&2; exit 2; }
done
mkdir -p "$data/cuda"

for suite in "${suites[@]}"; do
  dst=$data/cuda/$suite
  if [ -f "$dst/.hitch-testdata" ] && [ "$(cat "$dst/.hitch-testdata")" = "$recipe" ]; then
    echo "cuda-testdata: $suite up to date in $dst"
    continue
  fi
  echo "cuda-testdata: fetching $suite"
  tmp=$(mktemp -d "$data/cuda/.build-$suite-XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  for area in non-free main; do
    curl -fsS -o "$tmp/Packages-$area.xz" "$mirror/dists/$suite/$area/binary-amd64/Packages.xz"
    xz -d "$tmp/Packages-$area.xz"
  done
  # fetch PACKAGE DIR [AREA]: download the newest PACKAGE, check it,
  # unpack it.
  fetch() {
    local pkg=$1 dir=$2 area=${3:-non-free} file sum
    read -r file sum < <(awk -v p="$pkg" '
      /^Package: / { cur = ($2 == p) }
      cur && /^Filename: / { f = $2 }
      cur && /^SHA256: / { s = $2 }
      /^$/ { if (cur && f != "") { print f, s; exit } }' "$tmp/Packages-$area")
    [ -n "${file:-}" ] || { echo "cuda-testdata: $pkg not in $suite $area" >&2; exit 1; }
    curl -fsS -o "$tmp/$pkg.deb" "$mirror/$file"
    echo "$sum  $tmp/$pkg.deb" | sha256sum -c --quiet
    dpkg-deb -x "$tmp/$pkg.deb" "$tmp/$dir"
    rm "$tmp/$pkg.deb"
  }
  for pkg in libcuda1 libnvidia-ml1 libnvidia-ptxjitcompiler1; do
    fetch "$pkg" driver
  done
  for pkg in libnvidia-egl-wayland1 libwayland-client0 libwayland-server0; do
    fetch "$pkg" graphics main
  done
  cudart=$(awk '/^Package: libcudart[0-9.]+$/ { print $2; exit }' "$tmp/Packages-non-free")
  fetch "$cudart" runtime
  lib=$(ls "$tmp"/runtime/usr/lib/x86_64-linux-gnu/libcudart.so.* | head -1)
  mkdir -p "$tmp/bin"
  printf 'int cudaRuntimeGetVersion(int *);\nint main(void) { int v = 0; return cudaRuntimeGetVersion(&v) != 0; }\n' > "$tmp/hello_cuda.c"
  gcc -O1 -o "$tmp/bin/hello_cuda" "$tmp/hello_cuda.c" "$lib" -Wl,--no-as-needed
  rm "$tmp/hello_cuda.c" "$tmp"/Packages-*
  echo "$recipe" > "$tmp/.hitch-testdata"
  rm -rf "$dst"
  mv "$tmp" "$dst"
  trap - EXIT
  echo "cuda-testdata: $suite ready: $(ls "$dst"/driver/usr/lib/x86_64-linux-gnu/nvidia/current/ | grep -m1 libcuda.so.), $(basename "$lib")"
done

#!/usr/bin/env bash
# scripts/deb-testdata.sh: fetch a few Debian packages (main, amd64) whose
# libraries change between releases, into $HITCH_TESTDATA/debs/SUITE/,
# each checked against the SHA256 of the suite's Packages index: libffi7
# (bullseye) and libffi8 (bookworm), a soname bump; zlib1g and libxml2 of
# both. hitch diff and the image package's .deb reader are tested on
# them. The suite's Packages.xz (main, amd64) is kept beside them: the
# debrepo and solve tests read a whole Debian universe from it (trixie's
# index alone, for requests across two suites). Rebuilt
# when this recipe changes. Needs curl and xz.
set -euo pipefail
data=${HITCH_TESTDATA:-${XDG_CACHE_HOME:-$HOME/.cache}/hitch-testdata}
mirror=${HITCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
recipe=$(sha256sum "$0" | cut -c1-16)
for tool in curl xz; do
  command -v "$tool" >/dev/null || { echo "deb-testdata: $tool not installed" >&2; exit 2; }
done
declare -A want=([bullseye]="libffi7 zlib1g libxml2" [bookworm]="libffi8 zlib1g libxml2" [trixie]="")
mkdir -p "$data/debs"
for suite in bullseye bookworm trixie; do
  dst=$data/debs/$suite
  if [ -f "$dst/.hitch-testdata" ] && [ "$(cat "$dst/.hitch-testdata")" = "$recipe" ]; then
    echo "deb-testdata: $suite up to date in $dst"
    continue
  fi
  echo "deb-testdata: fetching $suite"
  tmp=$(mktemp -d "$data/debs/.build-$suite-XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  curl -fsS -o "$tmp/Packages.xz" "$mirror/dists/$suite/main/binary-amd64/Packages.xz"
  xz -dk "$tmp/Packages.xz"
  for pkg in ${want[$suite]}; do
    read -r file sum < <(awk -v p="$pkg" '
      /^Package: / { cur = ($2 == p) }
      cur && /^Filename: / { f = $2 }
      cur && /^SHA256: / { s = $2 }
      /^$/ { if (cur && f != "") { print f, s; exit } }' "$tmp/Packages")
    [ -n "${file:-}" ] || { echo "deb-testdata: $pkg not in $suite main" >&2; exit 1; }
    curl -fsS -o "$tmp/$pkg.deb" "$mirror/$file"
    echo "$sum  $tmp/$pkg.deb" | sha256sum -c --quiet
  done
  rm "$tmp/Packages"
  chmod 755 "$tmp"
  echo "$recipe" > "$tmp/.hitch-testdata"
  rm -rf "$dst"
  mv "$tmp" "$dst"
  trap - EXIT
  echo "deb-testdata: $suite: $(ls "$dst" | tr '\n' ' ')"
done

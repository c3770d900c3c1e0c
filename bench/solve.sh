#!/usr/bin/env bash
# bench/solve.sh: hitch solve against the CUDF solvers of the Debian
# archive (aspcud, mccs) and apt's own solver, on the same real requests,
# one run each side by side: CPU seconds (user+sys) and peak memory from
# /usr/bin/time, and each answer measured by `hitch cudf check` (is it a
# solution, what is it worth by the criteria).
#
# The instances are this machine's: apt's EDSP scenario for each request
# (apt-get -s --solver dump, the installed set and the lists of this
# machine) and apt-cudf's CUDF of it (apt-cudf --dump). They are ~40 MB
# each and are written under bench/out/solve/, never committed.
#
# Needs root (apt's dump solver writes as root here), apt lists
# (apt-get update), aspcud, mccs, apt-cudf, cudf-tools.
#
#   bash bench/solve.sh                 # the four requests below
#   REQUESTS="python3-scipy" bash bench/solve.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=bench/out/solve
mkdir -p "$out"
go build -o "$out/hitch" ./cmd/hitch
hitch=$PWD/$out/hitch
requests=${REQUESTS:-"openmpi-bin,libopenmpi-dev python3-scipy mpich,libmpich-dev gnome"}

# measure LABEL CMD...: CPU seconds and peak MiB of one run.
measure() {
  local label=$1; shift
  local t
  /usr/bin/time -f '%U %S %M' -o "$out/time.txt" "$@" >/dev/null 2>&1 || true
  t=$(tail -1 "$out/time.txt")
  awk -v l="$label" -v t="$t" 'BEGIN { split(t, a, " "); printf "  %-34s %6.2f s CPU %6.0f MiB\n", l, a[1] + a[2], a[3] / 1024 }'
}

solvers=$out/solvers
mkdir -p "$solvers"
printf '#!/bin/sh\nexec %s solve --edsp\n' "$hitch" > "$solvers/hitch"
chmod 755 "$solvers/hitch"

for req in $requests; do
  pkgs=${req//,/ }
  name=${req%%,*}
  edsp=$out/$name.edsp
  # shellcheck disable=SC2086
  APT_EDSP_DUMP_FILENAME=$PWD/$edsp apt-get -s -o APT::Solver::RunAsUser=root --solver dump install $pkgs >/dev/null 2>&1 || true
  [ -s "$edsp" ] || { echo "solve.sh: apt dumped no scenario for $pkgs" >&2; exit 1; }
  # apt-cudf's CUDF of the scenario (its --dump writes it to TMPDIR).
  tmp=$(mktemp -d "$PWD/$out/apt-cudf-XXXXXX")
  TMPDIR=$tmp apt-cudf --dump -s aspcud -c '-removed,-changed' < "$edsp" > /dev/null 2>&1 || true
  cudf=$out/$name.cudf
  mv "$(ls -S "$tmp"/apt-cudf-universe*.cudf | head -1)" "$cudf"
  rm -rf "$tmp"
  echo "== install $pkgs: $(grep -c '^package: ' "$cudf") packages in the CUDF, $(du -m "$edsp" | cut -f1) MB of EDSP"
  for crit in paranoid trendy; do
    case $crit in
      paranoid) misc=-removed,-changed; lex='-lexagregate[-removed,-changed]' ;;
      trendy) misc=-removed,-notuptodate,-unsat_recommends,-new; lex='-lexagregate[-removed,-notuptodate,-unsat_recommends,-new]' ;;
    esac
    echo " $crit"
    rm -f "$out"/*.sol
    measure "aspcud" aspcud "$cudf" "$out/aspcud.sol" "$misc"
    measure "mccs (lp_solve)" mccs -i "$cudf" -o "$out/mccs.sol" "$lex"
    [ -s "$out/mccs.sol" ] || echo FAIL > "$out/mccs.sol"
    measure "hitch solve" "$hitch" solve "$cudf" "$out/hitch.sol" "$misc"
    "$hitch" cudf check --criteria "$crit" "$cudf" "$out/hitch.sol" "$out/aspcud.sol" "$out/mccs.sol" | sed 's/^/    /' || true
  done
  echo " apt, end to end"
  # shellcheck disable=SC2086
  measure "apt-get -s install (apt's solver)" apt-get -s install $pkgs
  # shellcheck disable=SC2086
  measure "apt-get -s --solver hitch install" apt-get -s -o Dir::Bin::Solvers::="$PWD/$solvers" -o APT::Solver::RunAsUser=root --solver hitch install $pkgs
  measure "hitch solve --edsp < scenario" sh -c "'$hitch' solve --edsp < '$edsp'"
done

#!/usr/bin/env bash
# scripts/test-postgres.sh start|stop DIR: a throwaway PostgreSQL cluster
# for the catalog tests, owned by the postgres user, listening only on a
# unix socket in DIR (port 55432), trusting local connections. "start"
# prints the URL to export as HITCH_TEST_POSTGRES. Needs root and
# Debian's postgresql package.
set -euo pipefail
cmd=${1:?usage: test-postgres.sh start|stop DIR}
dir=${2:?usage: test-postgres.sh start|stop DIR}
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
case $cmd in
start)
  mkdir -p "$dir"
  chown postgres: "$dir"
  runuser -u postgres -- "$pgbin/initdb" -D "$dir/data" -A trust -U postgres >/dev/null
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-k $dir -c listen_addresses= -p 55432 -c max_connections=200 -c fsync=off" start >/dev/null
  echo "postgres:///postgres?host=$dir&port=55432&user=postgres&sslmode=disable"
  ;;
stop)
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
esac

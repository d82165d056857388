#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the test suite and prints the DSN to use as SYNCD_TEST_PG_DSN.
# Needs Debian's postgresql package (installed by .ci/run). Data lives in a temp dir; port 55432 by default.
set -euo pipefail
PORT="${SYNCD_PG_PORT:-55432}"
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
DATA="${SYNCD_PG_DATA:-/tmp/syncd-pg-$PORT}"
RUNAS=()
if [ "$(id -u)" = 0 ]; then
  id postgres >/dev/null 2>&1 || { echo "no postgres user: install Debian's postgresql package" >&2; exit 1; }
  RUNAS=(runuser -u postgres --)
fi
if ! "${RUNAS[@]}" "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  rm -rf "$DATA"; mkdir -p "$DATA"; [ "$(id -u)" = 0 ] && chown postgres "$DATA"
  "${RUNAS[@]}" "$BIN/initdb" -D "$DATA" -U syncd --auth=trust >/dev/null
  "${RUNAS[@]}" "$BIN/pg_ctl" -D "$DATA" -o "-p $PORT -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" -l "$DATA/log" -w start >/dev/null
fi
"$BIN/psql" -h 127.0.0.1 -p "$PORT" -U syncd -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='syncd_test'" | grep -q 1 \
  || "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U syncd syncd_test
echo "postgresql+psycopg://syncd@127.0.0.1:$PORT/syncd_test"

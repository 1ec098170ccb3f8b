#!/bin/sh
# PostgreSQL 15 from Debian's package: initialise the data directory on first start (the
# password comes from POSTGRES_PASSWORD at run time, never from the image), then run postgres.
set -eu
PGBIN=/usr/lib/postgresql/15/bin
DATA=${PGDATA:-/var/lib/postgresql/data}
PORT=${PGPORT:-5433}
: "${POSTGRES_USER:=mlflow}" "${POSTGRES_DB:=mlflow}"
if [ ! -s "$DATA/PG_VERSION" ]; then
  [ -n "${POSTGRES_PASSWORD:-}" ] || { echo "postgres: POSTGRES_PASSWORD is not set: set MR_POSTGRES_PASSWORD in .env" >&2; exit 2; }
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
  "$PGBIN/initdb" -D "$DATA" -U "$POSTGRES_USER" --pwfile="$pwfile" -A scram-sha-256 -E UTF8 >/dev/null
  rm -f "$pwfile"
  "$PGBIN/pg_ctl" -D "$DATA" -o "-c listen_addresses='' -c unix_socket_directories=/tmp -p $PORT" -w start >/dev/null
  PGPASSWORD=$POSTGRES_PASSWORD psql -h /tmp -p "$PORT" -U "$POSTGRES_USER" -d postgres \
    -v ON_ERROR_STOP=1 -q -c "CREATE DATABASE \"$POSTGRES_DB\""
  "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
  echo "postgres: initialised $DATA (user $POSTGRES_USER, database $POSTGRES_DB)"
fi
exec "$PGBIN/postgres" -D "$DATA" -p "$PORT" -c listen_addresses=127.0.0.1 -c unix_socket_directories=/tmp

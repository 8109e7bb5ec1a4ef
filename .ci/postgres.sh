#!/usr/bin/env bash
# Start a throwaway PostgreSQL 15 cluster on loopback for the test suite and
# print the URL to export as GRASSROOTS_TEST_PG (SECURITY §4.6: the whole
# suite runs against PostgreSQL 15 in CI).
#
# Idempotent: installs the server if missing, creates the cluster once,
# starts it if it is not running, creates the database if it does not exist.
# Progress goes to stderr; stdout is the URL alone, so CI can do
#   export GRASSROOTS_TEST_PG="$(bash .ci/postgres.sh)"
# Settings: PGPORT (5433), PGDATA_DIR (/tmp/grassroots-pgdata), PGDB (grassroots_test).
set -euo pipefail

port="${PGPORT:-5433}"
data="${PGDATA_DIR:-/tmp/grassroots-pgdata}"
name="${PGDB:-grassroots_test}"
bin="/usr/lib/postgresql/15/bin"

log() { echo "postgres.sh: $*" >&2; }

as_postgres() {
    if [ "$(id -un)" = postgres ]; then
        bash -c "$1"
    else
        su postgres -s /bin/bash -c "$1"
    fi
}

if [ ! -x "$bin/pg_ctl" ]; then
    log "installing postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
fi

if [ ! -f "$data/PG_VERSION" ]; then
    log "creating the cluster in $data"
    mkdir -p "$data"
    chown postgres: "$data"
    chmod 700 "$data"
    as_postgres "$bin/initdb -D '$data' -A trust -U postgres -E UTF8 --locale=C.UTF-8" >&2
fi

if ! as_postgres "$bin/pg_ctl -D '$data' status" >/dev/null 2>&1; then
    log "starting on 127.0.0.1:$port"
    # a throwaway cluster: no fsync (the suite resets databases for every test,
    # and each reset would wait for the disk; durability is tested on SQLite, §4.4)
    as_postgres "$bin/pg_ctl -D '$data' -w -l '$data/server.log' \
        -o \"-k /tmp -c listen_addresses=127.0.0.1 -p $port -c max_connections=200 \
              -c fsync=off -c synchronous_commit=off -c full_page_writes=off\" start" >&2
fi

for _ in $(seq 1 30); do
    "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
    sleep 1
done

exists="$("$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$name'")"
if [ "$exists" != 1 ]; then
    log "creating database $name"
    "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$name"
fi

echo "postgresql://postgres@127.0.0.1:$port/$name"

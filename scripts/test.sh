#!/usr/bin/env bash
# Run every test: the whole suite on SQLite (end-to-end browser tests included), then the
# suite again on PostgreSQL 15 without the browser tests. Both passes use two workers: each
# SQLite test has its own file and each pytest process its own PostgreSQL database
# (core.testing.PostgresReset). Exits non-zero if either pass fails or finds no tests
# (pytest's exit code 5 counts as a failure).
# Extra arguments go to both pytest runs, e.g. `bash scripts/test.sh -x`.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh test || exit 1
pg_url="$(bash .ci/postgres.sh)" || { echo "test: PostgreSQL did not start" >&2; exit 1; }
export PYTHONDONTWRITEBYTECODE=1

echo "== pass 1/2: SQLite, all tests including e2e (pytest -n 2)"
start=$SECONDS
env -u GRASSROOTS_TEST_PG .venv/bin/python -m pytest -q -n 2 "$@"
sqlite_rc=$?
echo "== SQLite pass: exit $sqlite_rc after $((SECONDS - start)) s"

echo "== pass 2/2: PostgreSQL ($pg_url), all tests except e2e (pytest -n 2)"
start=$SECONDS
GRASSROOTS_TEST_PG="$pg_url" .venv/bin/python -m pytest -q -n 2 -m "not e2e" "$@"
pg_rc=$?
echo "== PostgreSQL pass: exit $pg_rc after $((SECONDS - start)) s"

if [ $sqlite_rc -ne 0 ] || [ $pg_rc -ne 0 ]; then
    echo "test: FAILED (SQLite exit $sqlite_rc, PostgreSQL exit $pg_rc; 5 means no tests ran)" >&2
    exit 1
fi
echo "test: all passed on SQLite and PostgreSQL"

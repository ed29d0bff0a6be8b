#!/usr/bin/env bash
# Set everything up, then run the whole test suite on SQLite and on PostgreSQL.
#   PAPERFEED_TEST_BACKENDS="sqlite"   skip PostgreSQL (e.g. on a laptop without it)
#   PAPERFEED_TEST_PG_URL=postgres://user@host:5432/paperfeed   which server to use
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test

backends="${PAPERFEED_TEST_BACKENDS:-sqlite postgres}"
pg_url="${PAPERFEED_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/paperfeed}"
export PAPERFEED_DATA_DIR="${PAPERFEED_DATA_DIR:-$(mktemp -d)}"

.venv/bin/ruff check paperfeed
status=0
for backend in $backends; do
  echo "==> tests on $backend"
  if [[ $backend == postgres ]]; then
    if ! .venv/bin/python scripts/pg_ready.py "$pg_url"; then
      echo "PostgreSQL is not reachable at $pg_url; set PAPERFEED_TEST_PG_URL or PAPERFEED_TEST_BACKENDS=sqlite." >&2
      exit 1
    fi
    DATABASE_URL="$pg_url" .venv/bin/python -m pytest "$@" || status=$?
  else
    env -u DATABASE_URL .venv/bin/python -m pytest "$@" || status=$?
  fi
  [[ $status != 0 ]] && break
done
exit $status

#!/usr/bin/env bash
# The test command: sets up what is missing (venv, PostgreSQL), lints, then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${SYNC_TEST_POSTGRES_URL:-}" ]; then
  SYNC_TEST_POSTGRES_URL=$(bash scripts/postgres.sh || true)
  export SYNC_TEST_POSTGRES_URL
fi
[ -n "$SYNC_TEST_POSTGRES_URL" ] && echo "PostgreSQL store tests against $SYNC_TEST_POSTGRES_URL" || echo "PostgreSQL not available: those tests are skipped"
.venv/bin/ruff check sync_provider tests bench dags_examples
exec .venv/bin/python -m pytest -n 2 -p no:cacheprovider "$@"

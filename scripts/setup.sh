#!/usr/bin/env bash
# Creates .venv and installs the package with its test extras from the pinned constraints. Idempotent:
# a second call only re-checks. PostgreSQL for the multi-worker store tests comes from scripts/postgres.sh
# (apt-get when running as root and missing); Chromium, used only to screenshot the demo report for the docs,
# is not installed by any script (apt-get install chromium; docs/demo.md has the command).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
stamp=.venv/.sync-installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -c constraints.txt -e ".[test]"
  echo "$want" > "$stamp"
fi

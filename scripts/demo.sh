#!/usr/bin/env bash
# The main job: set up, then run the closed loop through real Airflow against the local Databricks emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/sync-cli demo "$@"

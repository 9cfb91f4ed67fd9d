#!/usr/bin/env bash
# Installs (apt-get, as root) and starts a local PostgreSQL server for the multi-worker store tests, then
# prints the SQLAlchemy URL of a fresh test database. Prints nothing when PostgreSQL cannot be had here.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null) >&2 || { echo "postgresql install failed" >&2; exit 0; }
  else
    exit 0
  fi
fi
ver=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h 2>/dev/null | grep -q online; then
  if ! pg_lsclusters -h 2>/dev/null | grep -q .; then
    pg_createcluster "$ver" main >/dev/null 2>&1 || true
  fi
  pg_ctlcluster "$ver" main start >&2 || service postgresql start >&2 || true
fi
for _ in $(seq 1 30); do
  su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break
  sleep 1
done
su postgres -c "psql -qtAc \"DO \\\$\\\$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='sync') THEN CREATE ROLE sync LOGIN PASSWORD 'sync' CREATEDB; END IF; END\\\$\\\$;\"" >/dev/null
su postgres -c "psql -qtAc 'DROP DATABASE IF EXISTS sync_test'" >/dev/null
su postgres -c "psql -qtAc 'CREATE DATABASE sync_test OWNER sync'" >/dev/null
port=$(su postgres -c "psql -qtAc 'show port'")
echo "postgresql+psycopg2://sync:sync@127.0.0.1:${port}/sync_test"

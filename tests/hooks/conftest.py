"""Hook fixtures: Airflow reads connections from AIRFLOW_CONN_* env vars, so no metadata database is needed."""

from __future__ import annotations

import json

import pytest


@pytest.fixture(autouse=True)
def _airflow_home(tmp_path, monkeypatch):
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))


@pytest.fixture
def set_conn(monkeypatch):
    """Define an Airflow connection through its AIRFLOW_CONN_<ID> environment variable."""

    def _set(conn_id: str, **fields) -> None:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(fields))

    return _set

"""Emulator test fixtures: an HTTP client and Airflow connections pointing at the session emulator."""

from __future__ import annotations

import json

import httpx
import pytest


@pytest.fixture
def api(emulator) -> httpx.Client:
    """A plain HTTP client with the emulator's token (for error paths and admin endpoints)."""
    with httpx.Client(base_url=emulator.url, headers={"Authorization": f"Bearer {emulator.token}"}, timeout=30) as c:
        yield c


@pytest.fixture
def airflow_conns(emulator, monkeypatch) -> tuple[str, str]:
    """Airflow connections (env-var JSON): `emu_databricks` -> the emulator, `emu_aws` -> its S3."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_EMU_DATABRICKS",
        json.dumps(
            {
                "conn_type": "databricks",
                "host": emulator.host,
                "port": emulator.port,
                "schema": "http",
                "password": emulator.token,
            }
        ),
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_EMU_AWS",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing",
                "extra": {"endpoint_url": emulator.s3_endpoint_url, "region_name": "us-east-1"},
            }
        ),
    )
    return "emu_databricks", "emu_aws"

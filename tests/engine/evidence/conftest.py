"""Fixtures for the evidence tests: real Spark event logs and logs generated the way Spark writes them."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "data" / "eventlogs"


@pytest.fixture
def real_logs() -> dict[str, Path]:
    return {
        "spark-2.3-standalone-failures": DATA / "spark-2.3-standalone-failures" / "app-20180109111548-0000",
        "spark-2.4-yarn": DATA / "spark-2.4-yarn" / "application_1506645932520_24630151",
        "spark-3.0-yarn": DATA / "spark-3.0-yarn" / "application_1578436911597_0052",
        "spark-4.2-rolling": DATA / "spark-4.2-rolling" / "eventlog_v2_local-1766844910796",
    }

"""Small measurement tables for the backtest tests (a known world: serial + parallel work)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

TYPES = {"m5.xlarge": (4, 16.0, 0.192), "c5.xlarge": (4, 8.0, 0.17), "x1.custom": (8, 64.0, 0.5)}


def truth(itype: str, n: int) -> float:
    vcpus = TYPES[itype][0]
    return 60 + 20000 / (n * vcpus) + 2 * n


@pytest.fixture
def tables(tmp_path: Path) -> tuple[Path, Path]:
    prices = tmp_path / "prices.csv"
    with open(prices, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["instance_type", "vcpus", "memory_gib", "hourly_usd"])
        for t, (v, m, p) in TYPES.items():
            w.writerow([t, v, m, p])
    runs = tmp_path / "runs.csv"
    with open(runs, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["workload", "instance_type", "num_workers", "runtime_s"])
        for t in TYPES:
            for n in (2, 4, 8, 16):
                for jitter in (0.98, 1.02):
                    w.writerow(["etl", t, n, round(truth(t, n) * jitter, 2)])
        w.writerow(["etl", "c5.xlarge", 1, ""])  # a failed run: too small
    return runs, prices

"""A short demo through real Airflow and the emulator: the --json contract and the report.

Runs `sync-cli demo --runs 3 --json` as a user would (a subprocess), so it covers the whole chain: the private
Airflow home, `airflow db migrate`, the connections, three `airflow dags test` runs of dags_examples/sync_recipe.py,
the store and ground-truth readback, and the HTML report. About 75 s on a busy 2-core machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sync_provider.demo.rows import JSON_KEYS

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration


def _sync_cli() -> str:
    return str(Path(sys.executable).with_name("sync-cli"))


@pytest.fixture(scope="module")
def short_demo(tmp_path_factory):
    work = tmp_path_factory.mktemp("demo")
    report = work / "out" / "report.html"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "SYNC_"))}
    env["HOME"] = str(work / "home")
    proc = subprocess.run(
        [
            _sync_cli(),
            "demo",
            "--runs",
            "3",
            "--json",
            "--group-runs",
            "0",
            "--dir",
            str(work / ".demo"),
            "--report",
            str(report),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    return proc, report, work


def test_demo_exits_cleanly(short_demo):
    proc, _, _ = short_demo
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"


def test_json_lines_follow_the_contract(short_demo):
    proc, _, _ = short_demo
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert [row["run"] for row in lines] == [1, 2, 3]
    for row in lines:
        assert tuple(row) == JSON_KEYS
        assert isinstance(row["instance_type"], str) and isinstance(row["num_workers"], int)
        assert isinstance(row["photon"], bool) and isinstance(row["spot"], bool)
        assert isinstance(row["reverted"], bool)
        assert row["sla_seconds"] == 1800.0
        assert row["phase"] in {"learning", "optimizing", "stable", "rollback", "relearning"}
        assert row["true_cost_usd"] > 0 and row["runtime_s"] > 0
        assert row["sla_met"] == (row["runtime_s"] <= row["sla_seconds"])
    first = lines[0]
    assert (first["instance_type"], first["num_workers"]) == ("r5.4xlarge", 24), "the job starts oversized"


def test_report_is_written_and_named(short_demo):
    proc, report, _ = short_demo
    assert report.is_file()
    html = report.read_text()
    assert html.count("<svg ") >= 3 and "daily-orders-etl" in html
    assert str(report) in proc.stderr


def test_demo_cleans_up_its_airflow_home(short_demo):
    _, _, work = short_demo
    assert not (work / ".demo" / "airflow").exists()

"""`sync-cli eventlog summarize`: the JSON contract, the table, errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from typer.testing import CliRunner

from sync_provider.cli.main import app
from sync_provider.engine.evidence.eventlog import SUMMARY_KEYS

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine" / "evidence"))
from eventlog_factory import write_log  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "eventlogs"
runner = CliRunner()


def test_summarize_json_has_exactly_the_design_keys(tmp_path):
    path = tmp_path / "app.log"
    totals = write_log(path, jobs=2, tasks_per_stage=30)
    result = runner.invoke(app, ["eventlog", "summarize", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert tuple(data) == SUMMARY_KEYS
    assert data["num_tasks"] == totals.num_tasks and data["num_jobs"] == totals.num_jobs
    assert data["input_bytes"] == totals.input_bytes


def test_summarize_table_on_a_real_rolling_log():
    result = runner.invoke(
        app, ["eventlog", "summarize", str(DATA / "spark-4.2-rolling" / "eventlog_v2_local-1766844910796")]
    )
    assert result.exit_code == 0, result.output
    assert "4.2.0-SNAPSHOT" in result.stdout and "num_tasks" in result.stdout
    assert "<script>alert('XSS')</script>" in result.stdout  # printed as text, not interpreted


def test_summarize_missing_path_exits_1_with_the_path(tmp_path):
    import pytest

    from sync_provider.cli.main import main

    with pytest.raises(SystemExit) as exc:
        main(["eventlog", "summarize", str(tmp_path / "missing")])
    assert exc.value.code == 1

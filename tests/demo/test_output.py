"""What the demo prints: JSON lines only on stdout with --json; a readable table otherwise."""

from __future__ import annotations

import io
import json

from rich.console import Console

from sync_provider.demo.output import DemoDisplay, runs_table
from sync_provider.demo.rows import JSON_KEYS, DemoRow


def _row(run: int, **changes) -> DemoRow:
    base = dict(
        job="daily-etl",
        run=run,
        instance_type="m5.2xlarge",
        num_workers=8,
        photon=False,
        spot=False,
        runtime_s=1500.0,
        true_cost_usd=2.5,
        sla_seconds=1800.0,
        sla_met=True,
        phase="optimizing",
        config_version=run,
        reverted=False,
    )
    base.update(changes)
    return DemoRow(**base)


def _consoles():
    out, err = io.StringIO(), io.StringIO()
    return out, err, Console(file=out, width=160), Console(file=err, width=160)


def test_json_mode_prints_only_contract_lines(capsys):
    out, err, console, err_console = _consoles()
    with DemoDisplay(total_steps=3, json_lines=True, console=console, err_console=err_console) as display:
        display.step("day 1")
        display.add_row(_row(1))
        display.message("a note for humans")
        display.add_row(_row(2, runtime_s=None, true_cost_usd=None, sla_met=False, succeeded=False))
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    parsed = [json.loads(line) for line in lines]
    assert all(tuple(p) == JSON_KEYS for p in parsed)
    assert parsed[1]["runtime_s"] is None and parsed[1]["sla_met"] is False
    assert out.getvalue() == ""  # nothing else on stdout
    assert "a note for humans" in err.getvalue()


def test_plain_mode_prints_a_line_per_run(capsys):
    out, err, console, err_console = _consoles()
    with DemoDisplay(total_steps=2, json_lines=False, console=console, err_console=err_console) as display:
        display.add_row(_row(1, events=["data +50%"], changed="workers 16 → 8"))
        display.add_row(_row(2, reverted=True, config_version=1))
    text = out.getvalue()
    assert "daily-etl run  1: 8 x m5.2xlarge" in text
    assert "[data +50%] workers 16 → 8" in text
    assert text.count("daily-etl run") == 2
    assert capsys.readouterr().out == ""


def test_table_marks_failures_reverts_and_misses():
    console = Console(file=io.StringIO(), width=200)
    console.print(
        runs_table(
            [
                _row(1, sla_met=False),
                _row(2, succeeded=False, runtime_s=None, true_cost_usd=None),
                _row(3, reverted=True, config_version=1),
            ]
        )
    )
    text = console.file.getvalue()
    assert "missed" in text and "failed" in text and "↺ v1" in text


def test_json_mode_leaves_the_group_example_out(capsys):
    out, err, console, err_console = _consoles()
    with DemoDisplay(total_steps=2, json_lines=True, console=console, err_console=err_console) as display:
        display.add_row(_row(1))
        display.add_row(_row(1, job="orders-etl"), main_job=False)
    assert len(capsys.readouterr().out.strip().splitlines()) == 1
    assert [r.job for rows in display.rows.values() for r in rows] == ["daily-etl", "orders-etl"]

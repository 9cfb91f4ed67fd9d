"""`sync-cli recommend` and `sync-cli backtest` through the real typer app."""

from __future__ import annotations

import csv
import json

import orjson
from typer.testing import CliRunner

from sync_provider.cli.main import app

runner = CliRunner()


def _request(rid: str, runtime: float = 600) -> dict:
    return {
        "id": rid,
        "goal": {"sla_seconds": 1200, "preference": "economy"},
        "space": {"candidates": [{"instance_type": "m5.xlarge", "num_workers": n} for n in (2, 4, 8, 16)]},
        "cost_model": {"driver": False},
        "history": [{"instance_type": "m5.xlarge", "num_workers": 16, "runtime_s": runtime, "succeeded": True}],
    }


def test_recommend_writes_one_line_per_request_in_order(tmp_path):
    inp = tmp_path / "req.jsonl"
    lines = [orjson.dumps(_request("r1")).decode(), "garbage", orjson.dumps(_request("r3", runtime=-1)).decode(),
             orjson.dumps(_request("r4")).decode()]  # fmt: skip
    inp.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out" / "resp.jsonl"
    res = runner.invoke(app, ["recommend", "--input", str(inp), "--output", str(out)])
    assert res.exit_code == 0, res.output
    got = [json.loads(x) for x in out.read_text().splitlines()]
    assert [g.get("id") for g in got] == ["r1", None, "r3", "r4"]
    assert "error" in got[1] and "error" in got[2]
    assert list(got[0])[:10] == [
        "id", "instance_type", "num_workers", "photon", "spot", "predicted_runtime_s", "predicted_runtime_p90_s",
        "predicted_cost_usd", "phase", "reason",
    ]  # fmt: skip
    assert got[0]["num_workers"] in (2, 4, 8, 16)


def test_recommend_to_stdout(tmp_path):
    inp = tmp_path / "req.jsonl"
    inp.write_text(orjson.dumps(_request("only")).decode() + "\n")
    res = runner.invoke(app, ["recommend", "--input", str(inp)])
    assert res.exit_code == 0
    assert json.loads(res.stdout.strip())["id"] == "only"


def test_recommend_missing_input_fails_cleanly(tmp_path):
    res = runner.invoke(app, ["recommend", "--input", str(tmp_path / "nope.jsonl")])
    # Exit 1 with one message naming the file (an uncaught exception would also exit 1, with a traceback).
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit)
    assert "nope.jsonl does not exist" in res.output and "Traceback" not in res.output


def test_a_file_that_is_not_utf8_loses_only_its_bad_line(tmp_path):
    inp = tmp_path / "req.jsonl"
    inp.write_bytes(orjson.dumps(_request("r1")) + b'\n{"id": "caf\xe9"}\n' + orjson.dumps(_request("r3")) + b"\n")
    res = runner.invoke(app, ["recommend", "--input", str(inp)])
    assert res.exit_code == 0, res.output
    got = [json.loads(x) for x in res.stdout.splitlines()]
    assert [g.get("id") for g in got] == ["r1", None, "r3"]
    assert "line 2" in got[1]["error"] and "UTF-8" in got[1]["error"]


def test_directories_instead_of_files_are_named(tmp_path):
    res = runner.invoke(app, ["recommend", "--input", str(tmp_path)])
    assert res.exit_code != 0 and "is a directory" in res.output and "Traceback" not in res.output
    inp = tmp_path / "req.jsonl"
    inp.write_text(orjson.dumps(_request("r1")).decode() + "\n")
    res = runner.invoke(app, ["recommend", "--input", str(inp), "--output", str(tmp_path)])
    assert res.exit_code != 0 and "cannot write the responses" in res.output


def _tables(tmp_path):
    prices = tmp_path / "prices.csv"
    prices.write_text("instance_type,hourly_usd\nm5.xlarge,0.192\nc5.xlarge,0.17\n")
    runs = tmp_path / "runs.csv"
    with open(runs, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["workload", "instance_type", "num_workers", "runtime_s"])
        for t in ("m5.xlarge", "c5.xlarge"):
            for n in (2, 4, 8):
                w.writerow(["job", t, n, 60 + 8000 / (4 * n)])
    return runs, prices


def test_backtest_json(tmp_path):
    runs, prices = _tables(tmp_path)
    res = runner.invoke(
        app, ["backtest", "--measurements", str(runs), "--prices", str(prices), "--iterations", "3", "--json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert {"engine", "stay", "random", "heuristic"} <= set(data["policies"])
    assert data["iterations"] == 3 and data["workloads"] == ["job"]
    assert "after_3" in data["policies"]["engine"]["closed_loop"]


def test_backtest_table(tmp_path):
    runs, prices = _tables(tmp_path)
    res = runner.invoke(app, ["backtest", "-m", str(runs), "-p", str(prices), "-k", "2", "--slack", "0.5"])
    assert res.exit_code == 0, res.output
    assert "engine" in res.stdout and "bayesopt" in res.stdout


def test_backtest_bad_table_is_a_clean_error(tmp_path):
    _, prices = _tables(tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("workload,instance_type\njob,m5.xlarge\n")
    res = runner.invoke(app, ["backtest", "-m", str(bad), "-p", str(prices)])
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit)
    assert "missing columns ['num_workers', 'runtime_s']" in res.output and "Traceback" not in res.output

"""The `recommend` JSONL contract: field names, order, cost formula, error lines that never stop the batch."""

from __future__ import annotations

import orjson
import pytest

from sync_provider.engine.offline.requests import RESPONSE_FIELDS, answer, recommend_lines


def request(rid="a", **over):
    req = {
        "id": rid,
        "goal": {"sla_seconds": 1500, "preference": "economy"},
        "space": {"instance_types": ["m5.xlarge", "r5.xlarge"], "min_workers": 1, "max_workers": 32},
        "cost_model": {"driver": False},
        "history": [{"instance_type": "m5.xlarge", "num_workers": 16, "photon": False, "spot": False,
                     "runtime_s": 600, "succeeded": True, "input_bytes": 10**10}],
    }  # fmt: skip
    req.update(over)
    return req


def test_response_has_exactly_the_contract_fields():
    out = answer(request())
    assert list(out)[: len(RESPONSE_FIELDS)] == list(RESPONSE_FIELDS)
    assert out["id"] == "a"
    assert out["instance_type"] in ("m5.xlarge", "r5.xlarge")
    assert out["predicted_runtime_p90_s"] >= out["predicted_runtime_s"] > 0
    assert out["phase"] == "learning"


def test_without_driver_cost_is_runtime_hours_times_hourly_times_workers():
    out = answer(request())
    hourly = {"m5.xlarge": 0.192, "r5.xlarge": 0.252}[out["instance_type"]]
    want = out["predicted_runtime_s"] / 3600 * hourly * out["num_workers"]
    assert out["predicted_cost_usd"] == pytest.approx(want, rel=1e-3)


def test_explicit_candidates_answer_one_of_them_with_custom_prices():
    cands = [{"instance_type": "z9.custom", "num_workers": n} for n in (4, 8, 12)]
    prices = [{"instance_type": "z9.custom", "vcpus": 8, "memory_gib": 32, "hourly_usd": 0.3}]
    hist = [{"instance_type": "z9.custom", "num_workers": 12, "runtime_s": 300, "succeeded": True}]
    out = answer(request(space={"candidates": cands}, prices=prices, history=hist))
    assert "error" not in out, out
    assert (out["instance_type"], out["num_workers"]) in {("z9.custom", n) for n in (4, 8, 12)}


def test_candidates_outside_the_catalog_without_prices_are_an_error_line():
    out = answer(request(space={"candidates": [{"instance_type": "z9.custom", "num_workers": 4}]}))
    assert set(out) == {"id", "error"} and "prices" in out["error"]


@pytest.mark.parametrize(
    ("over", "needle"),
    [
        ({"history": [{"instance_type": "m5.xlarge", "num_workers": 4, "runtime_s": 0}]}, "positive"),
        ({"history": [{"instance_type": "m5.xlarge", "num_workers": 4, "runtime_s": -5}]}, "positive"),
        ({"history": []}, "history is empty"),
        ({"history": [{"instance_type": "q1.nothing", "num_workers": 4, "runtime_s": 50}]}, "q1.nothing"),
        ({"goal": {"sla_seconds": -1}}, "goal"),
        ({"goal": {"preference": "cheapest"}}, "goal"),
        ({"space": {"min_workers": 5, "max_workers": 2}}, "workers"),
        # Absurd numbers are named, not turned into NaN answers or silently truncated.
        ({"history": [{"instance_type": "m5.xlarge", "num_workers": 4, "runtime_s": 1e308}]}, "at most 1e+07"),
        ({"history": [{"instance_type": "m5.xlarge", "num_workers": 8.7, "runtime_s": 50}]}, "whole number"),
        ({"history": [{"instance_type": "m5.xlarge", "num_workers": "eight", "runtime_s": 50}]}, "num_workers"),
        ({"history": [{"instance_type": "m5.xlarge", "num_workers": 10**20, "runtime_s": 50}]}, "100,000"),
        ({"history": [{"instance_type": "m5.xlarge", "num_workers": 4, "runtime_s": 5, "input_bytes": -1}]}, "input"),
        ({"goal": {"sla_seconds": 0}}, "goal.sla_seconds: Input should be greater than 0"),
        ({"cost_model": {"dbu_usd": -3}}, "cost_model.dbu_usd must be a positive number"),
        # A typo in the range would build a hundred million candidates: refused before any is built.
        ({"space": {"instance_types": ["m5.xlarge"], "max_workers": 100_000_000}}, "whole number from 0 to 100,000"),
        (
            {
                "space": {
                    "instance_types": ["m5.xlarge", "r5.xlarge"],
                    "max_workers": 100_000,
                    "photon": [True, False],
                    "spot": [True, False],
                }
            },
            "narrow the worker range",
        ),
    ],
)
def test_bad_requests_get_an_error_line(over, needle):
    out = answer(request(**over))
    assert set(out) == {"id", "error"}
    assert needle in out["error"]


def test_unknown_fields_are_answered_with_a_warning_not_ignored_in_silence():
    out = answer(request(goal={"sla_secs": 1500}, colour="blue"))
    assert "error" not in out
    assert out["warnings"] == [
        "unknown field colour ignored (a typo?)",
        "unknown field goal.sla_secs ignored (a typo?)",
    ]
    assert "warnings" not in answer(request())


def test_unmeetable_sla_is_flagged_not_an_error():
    out = answer(request(goal={"sla_seconds": 1}))
    assert "error" not in out
    assert out["meets_sla"] is False and "SLA cannot be met" in out["reason"]


def test_batch_keeps_order_and_survives_bad_lines():
    lines = [
        orjson.dumps(request("first")).decode(),
        "{not json",
        "",
        orjson.dumps(request("third", history=[])).decode(),
        orjson.dumps(request("fourth")).decode(),
    ]
    out = list(recommend_lines(lines))
    assert [o.get("id") for o in out] == ["first", None, "third", "fourth"]
    assert out[1]["error"].startswith("line 2 is not valid JSON") and out[2]["error"].startswith("line 4: history")
    assert "error" not in out[0] and "error" not in out[3]


def test_a_line_that_is_not_utf8_or_not_an_object_loses_only_itself():
    good = orjson.dumps(request("ok"))
    lines = [b"\xef\xbb\xbf" + good, b'{"id": "caf\xe9"}', b"[1, 2, 3]", good]
    out = list(recommend_lines(lines))
    assert "error" not in out[0] and "error" not in out[3]  # a byte-order mark on the first line is fine
    assert out[1]["error"].startswith("line 2 is not valid JSON") and "save the file as UTF-8" in out[1]["error"]
    assert out[2]["error"] == "line 3: a request must be a JSON object"


def test_history_with_an_event_log_uses_the_profile(tmp_path):
    from sync_provider.emulator.eventlog_writer import write_eventlog
    from sync_provider.emulator.simulator import ClusterSpec, simulate
    from sync_provider.emulator.workloads import load_workload

    sim = simulate(load_workload("generic"), ClusterSpec("m5.xlarge", 4), 0, seed=1)
    path = tmp_path / "eventlog"
    write_eventlog(sim, path)
    hist = [{"instance_type": "m5.xlarge", "num_workers": 4, "runtime_s": sim.runtime_s, "eventlog": str(path)}]
    out = answer(request(history=hist, goal={"sla_seconds": sim.runtime_s * 2}))
    assert "error" not in out, out
    assert "profile model" in out["reason"]
    bad = answer(request(history=[{**hist[0], "eventlog": str(tmp_path / "missing")}]))
    assert "could not be parsed" in bad["error"]


def test_an_event_log_gives_the_input_size_unless_the_request_does(tmp_path):
    from sync_provider.emulator.eventlog_writer import write_eventlog
    from sync_provider.emulator.simulator import ClusterSpec, simulate
    from sync_provider.emulator.workloads import load_workload
    from sync_provider.engine.offline.requests import build_history

    # Iterative training on small-memory nodes re-reads its cached input: the data is what it reads once.
    sim = simulate(load_workload("iterative_ml"), ClusterSpec("c5.2xlarge", 5), 0, seed=1)
    path = tmp_path / "eventlog"
    write_eventlog(sim, path)
    run = {"instance_type": "c5.2xlarge", "num_workers": 5, "runtime_s": sim.runtime_s, "eventlog": str(path)}
    (from_log,) = build_history(request(history=[run]))
    assert from_log.input_bytes is not None and 0 < from_log.input_bytes < 0.5 * sim.input_bytes
    (given,) = build_history(request(history=[{**run, "input_bytes": 123}]))
    assert given.input_bytes == 123

"""`backtest` on a small known table: loading, episodes, metrics against the oracle."""

from __future__ import annotations

import pytest

from sync_provider.engine.errors import InvalidRequestError
from sync_provider.engine.models import ClusterConfig
from sync_provider.engine.offline.backtest import load_measurements, load_prices, run_backtest


def test_tables_load_into_worlds(tables):
    runs, prices = tables
    worlds = load_measurements(runs, load_prices(prices))
    assert [w.workload for w in worlds] == ["etl"]
    w = worlds[0]
    failed = ClusterConfig(instance_type="c5.xlarge", num_workers=1)
    assert w.expected(failed, 0)[0] is None
    rt, cost = w.expected(ClusterConfig(instance_type="x1.custom", num_workers=4), 0)
    assert cost == pytest.approx(rt / 3600 * 0.5 * 4)


def test_backtest_reports_every_policy_against_the_oracle(tables):
    runs, prices = tables
    worlds = load_measurements(runs, load_prices(prices))
    result = run_backtest(worlds, iterations=5, slack=0.3, max_starts=4, baselines=["stay", "heuristic"])
    pols = result["policies"]
    assert list(pols) == ["engine", "stay", "heuristic"]
    eng = pols["engine"]
    assert eng["episodes"] == 4
    assert set(eng["closed_loop"]) == {"after_3", "after_5"}
    assert 0 <= eng["sla_violation_rate"] <= 1
    # Staying never changes the cost, so it never beats the start in a single shot.
    assert pols["stay"]["single_shot"]["cheaper_within_sla"] in (0.0, None)


def test_unpriced_instance_types_are_named(tables, tmp_path):
    runs, _ = tables
    prices = tmp_path / "p.csv"
    prices.write_text("instance_type,hourly_usd\nm5.xlarge,0.192\n")
    with pytest.raises(InvalidRequestError, match="no prices"):
        load_measurements(runs, load_prices(prices))


def test_bad_runtime_is_named(tmp_path, tables):
    _, prices = tables
    runs = tmp_path / "r.csv"
    runs.write_text("workload,instance_type,num_workers,runtime_s\netl,m5.xlarge,4,-3\n")
    with pytest.raises(InvalidRequestError, match="line 2"):
        load_measurements(runs, load_prices(prices))

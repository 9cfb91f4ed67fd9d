"""Scoring against the oracle on hand-made episodes, where every figure can be worked out by hand."""

from __future__ import annotations

import pytest

from sync_provider.engine.models import ClusterConfig, RunObservation
from sync_provider.engine.offline.episodes import Episode, Outcome
from sync_provider.engine.offline.metrics import summarize

START = ClusterConfig(instance_type="m5.xlarge", num_workers=8)


def _episode(runtimes: list[float | None], costs: list[float], oracle: float = 5.0, sla: float = 100.0) -> Episode:
    """An episode whose runs took `runtimes` (None = failed) at expected `costs`, against a constant oracle."""
    runs = [
        Outcome(START, rt, c, RunObservation(config=START, runtime_s=rt, succeeded=rt is not None))
        for rt, c in zip(runtimes, costs, strict=True)
    ]
    return Episode(
        policy="p",
        workload="w",
        start=START,
        sla_seconds=sla,
        runs=runs,
        oracle_costs=[oracle] * len(runs),
        expected_costs=costs,
        expected_runtimes=list(runtimes),
    )


def test_single_shot_counts_first_recommendations_that_break_the_sla():
    episodes = [
        _episode([90, 95], [10, 6]),  # cheaper within the SLA
        _episode([90, 120], [10, 6]),  # cheaper, but missed the SLA
        _episode([90, None], [10, 6]),  # failed
        _episode([90, 80], [10, 10]),  # within the SLA, no cheaper
    ]
    s = summarize(episodes, checkpoints=(1,))["single_shot"]
    assert s["improvable_episodes"] == 4
    assert s["cheaper_within_sla"] == pytest.approx(1 / 4)
    assert s["sla_violations"] == pytest.approx(2 / 4)
    # Median cost change -40% (three at -40%, one at 0%) against the oracle's -50%.
    assert s["median_cost_change"] == pytest.approx(-0.4)
    assert s["saving_vs_oracle"] == pytest.approx(0.8)


def test_closed_loop_and_violations_over_all_runs_after_the_start():
    episodes = [_episode([90, 95, 99, 120], [10, 6, 5.4, 5.0]), _episode([90, None, 95, 96], [10, 9, 8, 7])]
    m = summarize(episodes, checkpoints=(2, 3))
    # After 2 runs only the first is within 10% of the oracle; after 3 the first missed the SLA.
    assert m["closed_loop"]["after_2"]["within_10pct"] == pytest.approx(1 / 2)
    assert m["closed_loop"]["after_3"]["within_10pct"] == 0.0
    assert m["sla_violation_rate"] == pytest.approx(2 / 6)
    assert m["failed_runs"] == 1
    assert m["single_shot"]["sla_violations"] == pytest.approx(1 / 2)

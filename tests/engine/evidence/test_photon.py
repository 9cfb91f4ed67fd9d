"""Photon speedup estimate from the operator mix and the task time split."""

from __future__ import annotations

import pytest

from sync_provider.engine.evidence.cost import CostModel
from sync_provider.engine.evidence.photon import (
    PHOTON_CPU_SPEEDUP,
    PHOTON_OPERATOR_COVERAGE,
    estimate_photon_speedup,
    operator_share,
    photon_break_even,
)
from sync_provider.engine.evidence.profile import ClusterFacts, Profile, SqlExecution


def _profile(cpu: float, run: float, ops: dict[str, int], duration=100.0, driver_only=20.0) -> Profile:
    return Profile(
        duration_s=duration,
        driver_only_s=driver_only,
        executor_run_time_s=run,
        executor_cpu_time_s=cpu,
        sql_executions=[SqlExecution(execution_id=0, operators=ops)],
    )


def test_amdahl_on_cpu_share_of_native_operators():
    p = _profile(cpu=600, run=1000, ops={"WholeStageCodegen": 3, "HashAggregate": 2, "Scan parquet": 1,
                                          "BatchEvalPython": 1})  # fmt: skip
    share = 3 / 4  # wrappers ignored; the Python UDF is not native
    assert operator_share(p) == pytest.approx(share)
    f = 0.6 * share * PHOTON_OPERATOR_COVERAGE
    expected = 100 / (20 + 80 * ((1 - f) + f / PHOTON_CPU_SPEEDUP))
    assert estimate_photon_speedup(p) == pytest.approx(expected)


def test_a_photon_runs_log_counts_what_photon_took_and_runs_amdahl_the_other_way():
    ops = {"ColumnarToRow": 1, "Scan json": 1, "BatchEvalPython": 1}  # left to Spark; the wrapper counts for neither
    p = _profile(cpu=600, run=1000, ops=ops)
    p.sql_executions[0].photon_operators = 6
    p.cluster = ClusterFacts(photon=True)
    assert operator_share(p) == pytest.approx(6 / 8)
    f = 0.6 * 6 / 8 * PHOTON_OPERATOR_COVERAGE
    # The CPU time measured is Photon's: without Photon it grows, so the speedup is the slower standard run's
    # time over this one's, not what a second dose of Photon would do (which the other formula gives).
    expected = (20 + 80 * ((1 - f) + f * PHOTON_CPU_SPEEDUP)) / 100
    assert estimate_photon_speedup(p) == pytest.approx(expected)
    assert expected > 100 / (20 + 80 * ((1 - f) + f / PHOTON_CPU_SPEEDUP))
    # A Photon run whose plan stayed on Spark: Photon took nothing, so it buys nothing.
    p.sql_executions[0].photon_operators = 0
    assert operator_share(p) == 0.0 and estimate_photon_speedup(p) == pytest.approx(1.0)


def test_io_bound_or_rdd_jobs_gain_little():
    io_bound = _profile(cpu=50, run=1000, ops={"Scan parquet": 1, "Filter": 1})
    rdd = Profile(duration_s=100, executor_run_time_s=1000, executor_cpu_time_s=900)
    assert estimate_photon_speedup(io_bound) < 1.05
    assert estimate_photon_speedup(rdd) < 1.1
    assert estimate_photon_speedup(Profile()) == 1.0


def test_break_even_function():
    assert photon_break_even("m5.xlarge", 4, CostModel()) == pytest.approx((0.96 + 2.9 * 0.5175) / (0.96 + 0.5175))

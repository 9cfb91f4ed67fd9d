"""Synthetic per-run data shaped like a demo run: oversized start, data growth, code change, one revert."""

from __future__ import annotations

import pytest

from sync_provider.report import JobSeries, ReportData, RunPoint


def synthetic_job(
    name: str = "daily-etl", runs: int = 15, sla: float | None = 2400.0, cost_target: float | None = 12.0
) -> JobSeries:
    """A job whose cost falls run after run, with a data-growth event, a code change and a failed run."""
    configs = [("r5.4xlarge", 16), ("r5.4xlarge", 10), ("m5.2xlarge", 12), ("m5.2xlarge", 8), ("m5.2xlarge", 6)]
    points = []
    for i in range(runs):
        itype, workers = configs[min(i, len(configs) - 1)]
        events = ["data +50%"] if i == 5 else ["code change"] if i == 9 else []
        failed = i == 11
        points.append(
            RunPoint(
                run=i + 1,
                instance_type=itype,
                num_workers=workers + (2 if i >= 6 else 0),
                photon=i >= 8,
                spot=False,
                runtime_s=None if failed else 1500.0 + 40 * i,
                true_cost_usd=None if failed else round(30.0 - 1.4 * min(i, 12), 2),
                sla_seconds=sla,
                sla_met=None if failed else (i != 5),
                succeeded=not failed,
                phase="learning" if i < 2 else "optimizing" if i < 11 else "rollback" if i == 11 else "stable",
                config_version=min(i, 5) + 1 if i < 12 else 5,
                reverted=i >= 12,
                events=events,
                changed="" if i == 0 else "workers 16 → 10",
                baseline_cost_usd=30.0 if i < 5 else 36.0,
            )
        )
    return JobSeries(
        name=name, sla_seconds=sla, cost_target_usd=cost_target, runs=points, baseline_label="16 x r5.4xlarge"
    )


@pytest.fixture
def report_data() -> ReportData:
    group = [
        synthetic_job("sla-job", runs=4, sla=1800.0, cost_target=None),
        synthetic_job("cost-job", runs=4, sla=None, cost_target=9.0),
    ]
    return ReportData(primary=synthetic_job(), group=group, meta={"workload": "demo-oversized", "seed": "7"})

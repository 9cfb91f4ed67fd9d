"""The demo's per-run row: the --json contract and the 'what changed' wording."""

from __future__ import annotations

import pytest

from sync_provider.demo.rows import JSON_KEYS, DemoRow, describe_change
from sync_provider.engine.models import ClusterConfig


def _row(**changes) -> DemoRow:
    base = dict(
        job="daily-etl",
        run=3,
        instance_type="m5.2xlarge",
        num_workers=8,
        photon=True,
        spot=False,
        runtime_s=1500.0,
        true_cost_usd=12.5,
        sla_seconds=2400.0,
        sla_met=True,
        phase="optimizing",
        config_version=3,
        reverted=False,
        events=["data +50%"],
        changed="workers 12 → 8",
        external_run_id="42",
        dag_seconds=11.2,
    )
    base.update(changes)
    return DemoRow(**base)


def test_contract_has_exactly_the_documented_keys_in_order():
    assert list(_row().contract()) == [
        "run",
        "instance_type",
        "num_workers",
        "photon",
        "spot",
        "runtime_s",
        "true_cost_usd",
        "sla_seconds",
        "sla_met",
        "phase",
        "config_version",
        "reverted",
    ]
    assert tuple(_row().contract()) == JSON_KEYS


def test_contract_values_keep_their_types_and_nulls():
    line = _row(runtime_s=None, true_cost_usd=None, sla_met=None, config_version=None, succeeded=False).contract()
    assert line["runtime_s"] is None and line["sla_met"] is None and line["config_version"] is None
    assert line["num_workers"] == 8 and line["photon"] is True and line["reverted"] is False


def test_point_carries_events_and_revert():
    point = _row(reverted=True).point()
    assert point.reverted and point.events == ["data +50%"] and point.config_label == "8 x m5.2xlarge (photon)"


@pytest.mark.parametrize(
    ("previous", "current", "reverted_to", "expected"),
    [
        (
            None,
            ClusterConfig(instance_type="r5.4xlarge", num_workers=16),
            None,
            "first run on the job's own configuration",
        ),
        (
            ClusterConfig(instance_type="r5.4xlarge", num_workers=16),
            ClusterConfig(instance_type="m5.2xlarge", num_workers=10, photon=True),
            None,
            "r5.4xlarge → m5.2xlarge, workers 16 → 10, photon on",
        ),
        (
            ClusterConfig(instance_type="m5.2xlarge", num_workers=8),
            ClusterConfig(instance_type="m5.2xlarge", num_workers=8),
            None,
            "no change",
        ),
        (
            ClusterConfig(instance_type="m5.2xlarge", num_workers=6, spot=True),
            ClusterConfig(instance_type="m5.2xlarge", num_workers=8),
            4,
            "reverted to v4, workers 6 → 8, spot off",
        ),
    ],
)
def test_describe_change(previous, current, reverted_to, expected):
    assert describe_change(previous, current, reverted_to=reverted_to) == expected

"""Delivery layout and the collector's node records, without the HTTP server."""

from __future__ import annotations

import json

from sync_provider.emulator.delivery import (
    build_files,
    collector_destination,
    collector_records,
    eventlog_dir,
    write_dbfs,
)
from sync_provider.emulator.simulator import ClusterSpec, simulate
from sync_provider.emulator.workloads import parse_workload

SPOTTY = "name: s\nstages: [{name: a, tasks: 200, cpu_s_per_task: 20}]\nscenario: {spot_loss_probability: 1.0}\n"


def _cluster(**nc) -> dict:
    return {
        "cluster_id": "0101-123456-abcdefgh",
        "driver_ip": "10.1.2.3",
        "job_id": 7,
        "create_ms": 1_700_000_000_000,
        "terminated_ms": 1_700_003_600_000,
        "spec": {"instance_type": "m5.xlarge", "driver_instance_type": None, "spot": True},
        "new_cluster": {"spark_version": "14.3.x-scala2.12", **nc},
    }


def test_layout_of_delivered_files(tmp_path):
    sim = simulate(parse_workload(SPOTTY, "s.yaml"), ClusterSpec("m5.xlarge", 4, spot=True), 0, seed=2)
    cl = _cluster()
    files = build_files(
        sim, cl, {"spark_context_id": "42", "run_id": 9}, {"cluster_name": "c"}, None, 1_700_000_100_000
    )
    ev = eventlog_dir("", cl["cluster_id"], "10.1.2.3", "42").lstrip("/")
    assert ev == "0101-123456-abcdefgh/eventlog/0101-123456-abcdefgh_10_1_2_3/42"
    assert f"{ev}/eventlog" in files
    assert {"0101-123456-abcdefgh/driver/stdout", "0101-123456-abcdefgh/driver/log4j-active.log"} <= set(files)
    assert b"Running Spark version 3.5.0" in files["0101-123456-abcdefgh/driver/log4j-active.log"]
    write_dbfs(tmp_path, "dbfs:/logs", files)
    assert (tmp_path / "logs" / ev / "eventlog").read_bytes() == files[f"{ev}/eventlog"]
    assert not list(tmp_path.rglob("*.part"))
    # cancelled before Spark started: driver logs only
    none = build_files(sim, cl, {"spark_context_id": "42", "run_id": 9}, {}, 0, 1_700_000_100_000)
    assert not [k for k in none if "/eventlog/" in k]


def test_collector_records_follow_the_init_script_format():
    sim = simulate(parse_workload(SPOTTY, "s.yaml"), ClusterSpec("m5.xlarge", 4, spot=True), 0, seed=2)
    assert sim.spot_nodes_lost >= 1
    assert collector_destination(_cluster()) is None  # no init script, no records
    cl = _cluster(
        init_scripts=[{"workspace": {"destination": "/Shared/sync/collector_init.sh"}}],
        spark_env_vars={"SYNC_LOG_DESTINATION": "s3://b/p/", "SYNC_PROJECT_ID": "proj"},
    )
    assert collector_destination(cl) == "s3://b/p"
    records = [json.loads(v) for v in collector_records(sim, cl, 1_700_000_200_000).values()]
    keys = {
        "collector_version",
        "cluster_id",
        "project_id",
        "instance_id",
        "instance_type",
        "lifecycle",
        "availability_zone",
        "region",
        "private_ip",
        "is_driver",
        "metadata_available",
        "start_time",
        "last_seen",
        "stop_time",
        "spot_interruption_time",
    }
    assert all(set(r) == keys for r in records)
    assert len(records) == 1 + len([e for e in sim.executors if e.executor_id != "driver"])
    lost = [r for r in records if r["spot_interruption_time"] is not None]
    assert len(lost) == sim.spot_nodes_lost and all(r["stop_time"] is None for r in lost)
    assert all(r["lifecycle"] == "spot" for r in records if not r["is_driver"])

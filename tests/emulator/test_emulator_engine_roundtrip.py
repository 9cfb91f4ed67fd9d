"""What the emulator delivers is what the engine's evidence layer reads: a run delivered to S3 is found,
judged complete and parsed into a profile whose totals match the simulated run."""

from __future__ import annotations

import boto3
import httpx
import pytest

from sync_provider.emulator import EmulatorServer
from sync_provider.engine.evidence.eventlog import (
    eventlog_delivery_state,
    find_eventlog,
    parse_eventlog,
    summarize,
)
from sync_provider.engine.evidence.eventlog_readers import S3Reader
from tests.emulator.emulator_helpers import new_cluster, task, wait_for, wait_terminated

pytestmark = pytest.mark.integration


def test_delivered_log_round_trips_through_the_engine_parser(emulator_s3, tmp_path):
    # iterative_ml on two small nodes runs for hours of simulated time: the log rolls into gzipped parts.
    # A fast clock keeps the test short.
    with EmulatorServer(data_dir=tmp_path, s3_endpoint=emulator_s3, time_scale=20000) as srv:
        with httpx.Client(base_url=srv.url, headers={"Authorization": f"Bearer {srv.token}"}) as api:
            _round_trip(api, emulator_s3)


def _round_trip(api: httpx.Client, s3_endpoint: str) -> None:
    run_id = api.post(
        "/api/2.1/jobs/runs/submit",
        json={
            "run_name": "rt",
            "tasks": [task("ml", "iterative_ml", new_cluster("m5.xlarge", 2, "s3://emu-roundtrip/logs"))],
        },
    ).json()["run_id"]
    run = wait_terminated(api, run_id, timeout=60)
    cid = run["tasks"][0]["cluster_instance"]["cluster_id"]
    ctx = run["tasks"][0]["cluster_instance"]["spark_context_id"]
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    reader = S3Reader(client=client)
    directory = wait_for(lambda: _find(reader, cid, ctx), timeout=30)
    # objects land one by one (as with Databricks): wait until the parts and the final `eventlog` are there
    state = wait_for(lambda: (st := eventlog_delivery_state(directory, reader=reader)).complete and st, timeout=30)
    assert state.has_application_end
    assert len(state.parts) >= 2 and any(p.endswith(".gz") for p, _ in state.parts)

    summary = summarize(parse_eventlog(directory, reader=reader))
    truth = api.get(f"/emulator/v1/runs/{run_id}").json()
    assert summary["num_tasks"] == truth["num_tasks"]
    assert summary["input_bytes"] == pytest.approx(truth["input_bytes"], rel=1e-6)
    assert summary["duration_s"] == pytest.approx(truth["runtime_s"], abs=0.01)
    assert summary["max_executors"] == 2
    assert summary["app_name"] == "churn_model_training"


def _find(reader: S3Reader, cid: str, ctx: str) -> str | None:
    try:
        return find_eventlog("s3://emu-roundtrip/logs", cid, reader=reader, spark_context_id=ctx)
    except Exception:  # noqa: BLE001 - bucket not there until the first delivery
        return None

"""SyncPredictionTrigger: the async wait, against a real local HTTP server standing in for Databricks.

The provider's async hook talks aiohttp to a small aiohttp app (the HTTP boundary); S3 is moto, listed from a
worker thread as in the triggerer.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time

import boto3
import pytest
from aiohttp import web
from moto import mock_aws

from sync_provider.triggers.prediction import SyncPredictionTrigger

BUCKET = "sync-logs"
DEST = f"s3://{BUCKET}/clusters"
CLUSTER = "0101-120000-abcd1234"
LOG_DIR = f"clusters/{CLUSTER}/eventlog/{CLUSTER}_10_0_0_1/42"
START = b'{"Event":"SparkListenerLogStart","Spark Version":"3.5.0"}\n'
END = b'{"Event":"SparkListenerApplicationEnd","Timestamp":99}\n'


class Workspace:
    """runs/get only; `states` is consumed one per call (the last one repeats)."""

    def __init__(
        self,
        states: list[tuple[str, str | None]],
        status: int = 200,
        query_only: bool = False,
        log_conf: str | None = None,
    ):
        self.states, self.status, self.calls, self.query_only = list(states), status, 0, query_only
        self.log_conf = log_conf

    async def runs_get(self, request: web.Request) -> web.Response:
        self.calls += 1
        if self.query_only:  # a server that ignores GET bodies
            if request.query.get("run_id") != "7":
                return web.json_response({"error_code": "INVALID_PARAMETER_VALUE"}, status=400)
        else:
            assert (await request.json()) == {"run_id": 7}  # the provider's async hook sends GET params as JSON
        if self.status != 200:
            return web.json_response({"error_code": "PERMISSION_DENIED"}, status=self.status)
        life, result = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        state = {"life_cycle_state": life, **({"result_state": result} if result else {})}
        run = {"run_id": 7, "state": state, "cluster_instance": {"cluster_id": CLUSTER}}
        if self.log_conf:
            run["cluster_spec"] = {"new_cluster": {"cluster_log_conf": {"s3": {"destination": self.log_conf}}}}
        return web.json_response(run)


async def _events(trigger: SyncPredictionTrigger, workspace: Workspace, monkeypatch) -> list[dict]:
    app = web.Application()
    app.router.add_get("/api/2.2/jobs/runs/get", workspace.runs_get)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    monkeypatch.setenv(
        "AIRFLOW_CONN_DATABRICKS_TEST",
        json.dumps(
            {"conn_type": "databricks", "host": "127.0.0.1", "port": port, "schema": "http", "password": "t0ken-x"}
        ),
    )
    try:
        return [e.payload async for e in trigger.run()]
    finally:
        await runner.cleanup()


@pytest.fixture
def s3(monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws"}))
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


def _trigger(**kwargs) -> SyncPredictionTrigger:
    args = dict(
        run_id="7",
        databricks_conn_id="databricks_test",
        deadline=time.time() + 30,
        poll_interval=0.01,
        log_destination=DEST,
        aws_conn_id="aws_default",
        min_wait_s=0.0,
    )
    return SyncPredictionTrigger(**{**args, **kwargs})


def test_serialize_round_trips():
    trigger = _trigger(task_key="etl")
    path, kwargs = trigger.serialize()
    assert path == "sync_provider.triggers.prediction.SyncPredictionTrigger"
    assert SyncPredictionTrigger(**kwargs).serialize() == (path, kwargs)


def test_waits_for_termination_then_a_complete_stable_log(s3, monkeypatch):
    s3.put_object(Bucket=BUCKET, Key=f"{LOG_DIR}/eventlog-2026-01-01--00-00.gz", Body=gzip.compress(START))
    s3.put_object(Bucket=BUCKET, Key=f"{LOG_DIR}/eventlog", Body=START + END)
    ws = Workspace([("PENDING", None), ("RUNNING", None), ("TERMINATED", "SUCCESS")])
    (event,) = asyncio.run(_events(_trigger(), ws, monkeypatch))
    assert event["status"] == "success" and event["succeeded"] is True
    assert event["event_log"] == f"s3://{BUCKET}/{LOG_DIR}"
    assert ws.calls >= 4  # two polls while running, then two looks at the delivered log


def test_times_out_with_what_it_last_saw(s3, monkeypatch):
    s3.put_object(Bucket=BUCKET, Key=f"{LOG_DIR}/eventlog", Body=START)  # the application never ends
    ws = Workspace([("TERMINATED", "SUCCESS")])
    (event,) = asyncio.run(_events(_trigger(deadline=time.time() + 0.3, poll_interval=0.05), ws, monkeypatch))
    assert event["status"] == "timeout"
    assert "parts still missing" in event["message"]


def test_failed_run_without_a_log_ends_at_once(s3, monkeypatch):
    (event,) = asyncio.run(_events(_trigger(), Workspace([("TERMINATED", "FAILED")]), monkeypatch))
    assert (event["status"], event["succeeded"], event["event_log"]) == ("success", False, None)


def test_without_a_destination_only_termination_matters(monkeypatch):
    (event,) = asyncio.run(
        _events(_trigger(log_destination=None), Workspace([("RUNNING", None), ("TERMINATED", "SUCCESS")]), monkeypatch)
    )
    assert event["status"] == "success" and "no event log to wait for" in event["message"]


def test_the_runs_own_log_destination_wins_over_the_connections(s3, monkeypatch):
    # As in poke mode: a destination given on the sensor, else the run's cluster_log_conf, else the connection's.
    s3.put_object(Bucket=BUCKET, Key=f"{LOG_DIR}/eventlog", Body=START + END)
    ws = Workspace([("TERMINATED", "SUCCESS")], log_conf=DEST)
    trigger = _trigger(log_destination=None, default_log_destination="s3://elsewhere/logs")
    (event,) = asyncio.run(_events(trigger, ws, monkeypatch))
    assert event["status"] == "success" and event["event_log"] == f"s3://{BUCKET}/{LOG_DIR}"
    # Without a cluster_log_conf, the connection's destination is where the trigger looks.
    ws = Workspace([("TERMINATED", "SUCCESS")])
    (event,) = asyncio.run(_events(_trigger(log_destination=None, default_log_destination=DEST), ws, monkeypatch))
    assert event["status"] == "success" and event["event_log"] == f"s3://{BUCKET}/{LOG_DIR}"


def test_api_errors_become_one_error_event(monkeypatch):
    (event,) = asyncio.run(_events(_trigger(), Workspace([("RUNNING", None)], status=403), monkeypatch))
    assert event["status"] == "error" and "403" in event["message"]


def test_falls_back_to_query_parameters_when_a_get_body_is_refused(monkeypatch):
    ws = Workspace([("RUNNING", None), ("TERMINATED", "SUCCESS")], query_only=True)
    (event,) = asyncio.run(_events(_trigger(log_destination=None), ws, monkeypatch))
    assert event["status"] == "success" and ws.calls == 3  # refused once, then two polls by query string


def test_a_quick_answer_is_held_until_the_deferral_is_min_wait_s_old(monkeypatch):
    # A run that has already ended would fire at once; Airflow 3.3 can then fail the resumed task on a stale
    # executor event (apache/airflow#71580), so the event waits until the trigger has run min_wait_s.
    ws = Workspace([("TERMINATED", "SUCCESS")])
    started = time.monotonic()
    (event,) = asyncio.run(_events(_trigger(log_destination=None, min_wait_s=1.0), ws, monkeypatch))
    assert event["status"] == "success"
    assert time.monotonic() - started >= 1.0
    assert (
        _trigger().min_wait_s == 0.0
        and SyncPredictionTrigger(run_id="1", databricks_conn_id="d", deadline=0).min_wait_s == 20.0
    )

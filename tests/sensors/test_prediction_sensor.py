"""SyncPredictionSensor: waits for the run's end and its event log's complete, stable delivery.

Databricks is faked at the HTTP boundary (runs/get), S3 with moto; the delivered files are real (gzipped
rolled parts plus the live `eventlog`) and the evidence code decides whether they are complete.
"""

from __future__ import annotations

import gzip
import json

import boto3
import pytest
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException, TaskDeferred
from moto import mock_aws

from sync_provider.sensors.prediction import SyncPredictionSensor
from sync_provider.triggers.prediction import SyncPredictionTrigger
from tests.triggers.fakes import FakeTI, context_for, sync_conn, workspace  # noqa: F401

BUCKET = "sync-logs"
DEST = f"s3://{BUCKET}/clusters"
CLUSTER = "0101-120000-abcd1234"
LOG_DIR = f"clusters/{CLUSTER}/eventlog/{CLUSTER}_10_0_0_1/7391048125"


def _line(event: dict) -> bytes:
    return json.dumps(event).encode() + b"\n"


START = [
    _line({"Event": "SparkListenerLogStart", "Spark Version": "3.5.0"}),
    _line({"Event": "SparkListenerApplicationStart", "App Name": "etl", "Timestamp": 1, "User": "x"}),
]
END = [_line({"Event": "SparkListenerApplicationEnd", "Timestamp": 99})]


@pytest.fixture
def s3(sync_conn):  # noqa: F811
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        sync_conn(log_destination=DEST)
        yield client


def deliver(s3, *, finished: bool, parts: int = 1) -> None:
    """Rolled gz parts, then the live `eventlog`; only a finished application's log ends with ApplicationEnd."""
    for i in range(parts):
        s3.put_object(Bucket=BUCKET, Key=f"{LOG_DIR}/eventlog-2026-01-01--0{i}-00.gz", Body=gzip.compress(START[i % 2]))
    s3.put_object(Bucket=BUCKET, Key=f"{LOG_DIR}/eventlog", Body=b"".join(START + (END if finished else [])))


@pytest.fixture
def run_state(workspace):  # noqa: F811
    state = {"life_cycle_state": "RUNNING", "result_state": None}

    def runs_get(body):
        assert body == {"run_id": "981"}  # the provider's get_run: Jobs API 2.2, paginated
        run = {
            "run_id": 981,
            "state": {k: v for k, v in state.items() if v is not None},
            "cluster_instance": {"cluster_id": CLUSTER},
            "cluster_spec": {"new_cluster": {"node_type_id": "m5.xlarge", "num_workers": 2}},
        }
        if state.get("log_conf"):
            run["cluster_spec"]["new_cluster"]["cluster_log_conf"] = {"s3": {"destination": state["log_conf"]}}
        return run

    workspace.on("GET", "/api/2.2/jobs/runs/get", runs_get)
    return state


def _sensor(**kwargs) -> SyncPredictionSensor:
    with DAG("test_sensor", schedule=None):
        kwargs.setdefault("poke_interval", 0)
        return SyncPredictionSensor(task_id="wait", task_to_submit="submit", **kwargs)


def _ctx(run_id="981"):
    return context_for(FakeTI({("submit", "run_id"): run_id} if run_id else {}))


def test_waits_for_the_run_then_for_a_complete_and_stable_log(s3, run_state):
    sensor, ctx = _sensor(), _ctx()
    assert sensor.poke(ctx) is False  # running
    run_state.update(life_cycle_state="TERMINATED", result_state="SUCCESS")
    assert sensor.poke(ctx) is False  # no log delivered yet
    deliver(s3, finished=False, parts=2)
    assert sensor.poke(ctx) is False  # the live part does not end the application yet
    deliver(s3, finished=True, parts=2)
    assert sensor.poke(ctx) is False  # complete, but seen once only
    done = sensor.poke(ctx)
    assert done.is_done
    assert done.xcom_value == {
        "run_id": "981",
        "succeeded": True,
        "result_state": "SUCCESS",
        "event_log": f"s3://{BUCKET}/{LOG_DIR}",
    }


def test_a_part_arriving_between_two_looks_restarts_the_wait(s3, run_state):
    run_state.update(life_cycle_state="TERMINATED", result_state="SUCCESS")
    sensor, ctx = _sensor(), _ctx()
    deliver(s3, finished=True, parts=1)
    assert sensor.poke(ctx) is False
    deliver(s3, finished=True, parts=2)  # a late rolled part shows up
    assert sensor.poke(ctx) is False
    assert sensor.poke(ctx).is_done


def test_reschedule_mode_takes_both_looks_in_one_poke(s3, run_state):
    run_state.update(life_cycle_state="TERMINATED", result_state="SUCCESS")
    deliver(s3, finished=True)
    sensor = _sensor(mode="reschedule", settle_seconds=0)
    assert sensor.poke(_ctx()).is_done


def test_the_runs_own_log_destination_wins(s3, run_state, sync_conn):  # noqa: F811
    sync_conn()  # no log_destination on the connection
    run_state.update(life_cycle_state="TERMINATED", result_state="SUCCESS", log_conf=DEST)
    deliver(s3, finished=True)
    sensor, ctx = _sensor(), _ctx()
    assert sensor.poke(ctx) is False
    assert sensor.poke(ctx).xcom_value["event_log"] == f"s3://{BUCKET}/{LOG_DIR}"


def test_a_failed_run_without_a_log_ends_the_wait(s3, run_state):
    run_state.update(life_cycle_state="TERMINATED", result_state="FAILED")
    done = _sensor().poke(_ctx())
    assert done.is_done and done.xcom_value["succeeded"] is False and done.xcom_value["event_log"] is None


def test_a_crashed_run_with_a_partial_log_ends_once_the_listing_is_stable(s3, run_state):
    # The driver died: the log never gets its ApplicationEnd, so "complete" never comes; a stable listing does.
    run_state.update(life_cycle_state="INTERNAL_ERROR", result_state="FAILED")
    deliver(s3, finished=False, parts=1)
    sensor, ctx = _sensor(), _ctx()
    assert sensor.poke(ctx) is False  # first look
    deliver(s3, finished=False, parts=2)  # a late part: still changing
    assert sensor.poke(ctx) is False
    done = sensor.poke(ctx)
    assert done.is_done and done.xcom_value["succeeded"] is False
    assert done.xcom_value["event_log"] == f"s3://{BUCKET}/{LOG_DIR}"


def test_no_log_destination_anywhere_only_waits_for_termination(sync_conn, run_state):  # noqa: F811
    run_state.update(life_cycle_state="TERMINATED", result_state="SUCCESS")
    assert _sensor().poke(_ctx()).is_done


def test_missing_run_id_is_one_clear_message_and_soft_fails(s3, run_state):
    with pytest.raises(AirflowFailException, match="no Databricks run_id in the XCom of task 'submit'"):
        _sensor().poke(_ctx(run_id=None))
    for deferrable in (False, True):
        with pytest.raises(AirflowSkipException, match="no Databricks run_id|soft_fail"):
            _sensor(deferrable=deferrable).execute(_ctx(run_id=None))
    with pytest.raises(AirflowFailException, match="no Databricks run_id"):
        _sensor(deferrable=True, soft_fail=False).execute(_ctx(run_id=None))


def test_a_deferrable_sensor_that_cannot_defer_soft_fails_whatever_the_error(s3, run_state, monkeypatch):
    # e.g. the Sync connection lookup timing out on a loaded deployment, before the trigger is handed over
    def broken(self):
        raise ConnectionError("execution API did not answer")

    monkeypatch.setattr(SyncPredictionSensor, "_sync_settings", broken)
    with pytest.raises(AirflowSkipException, match="ConnectionError: execution API did not answer"):
        _sensor(deferrable=True).execute(_ctx())
    with pytest.raises(ConnectionError):
        _sensor(deferrable=True, soft_fail=False).execute(_ctx())


def test_a_poke_that_breaks_soft_fails_like_a_deferral_that_cannot_start(s3, run_state, monkeypatch):
    # e.g. a malformed sync connection or runs/get reply: the base class would let anything but
    # AirflowFailException through soft_fail, so poke mode would fail the task where deferrable mode skips it.
    def broken(self):
        raise ValueError("sync connection field 'plan': unknown value 'gold'")

    monkeypatch.setattr(SyncPredictionSensor, "_sync_settings", broken)
    with pytest.raises(AirflowFailException, match="cannot wait for the run: ValueError: sync connection"):
        _sensor().poke(_ctx())
    with pytest.raises(AirflowSkipException, match="soft_fail"):
        _sensor(timeout=60).execute(_ctx())
    with pytest.raises(AirflowFailException):
        _sensor(timeout=60, soft_fail=False).execute(_ctx())


def test_unreadable_log_destination_names_the_connection(s3, run_state, sync_conn):  # noqa: F811
    sync_conn(log_destination="s3://no-such-bucket/logs")
    run_state.update(life_cycle_state="TERMINATED", result_state="SUCCESS")
    with pytest.raises(
        AirflowFailException, match="cannot list the cluster logs at s3://no-such-bucket/logs .*'aws_default'"
    ):
        _sensor().poke(_ctx())


def test_timeout_says_what_was_missing_and_soft_fails_by_default(s3, run_state):
    run_state.update(life_cycle_state="TERMINATED", result_state="SUCCESS")
    deliver(s3, finished=False)
    with pytest.raises(
        AirflowSkipException, match=r"not delivered completely within 0 s \(last look: .*parts still missing"
    ):
        _sensor(timeout=0).execute(_ctx())
    from airflow.sdk.exceptions import AirflowSensorTimeout

    with pytest.raises(AirflowSensorTimeout, match="not delivered completely"):
        _sensor(timeout=0, soft_fail=False).execute(_ctx())


def test_deferrable_mode_hands_over_to_the_trigger(s3, run_state):
    sensor = _sensor(deferrable=True, timeout=600, poke_interval=30)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(_ctx())
    trigger = deferred.value.trigger
    assert isinstance(trigger, SyncPredictionTrigger)
    path, kwargs = trigger.serialize()
    assert path == "sync_provider.triggers.prediction.SyncPredictionTrigger"
    assert (kwargs["run_id"], kwargs["poll_interval"]) == ("981", 30.0)
    # The sensor gave no destination: the trigger looks at the run's own cluster_log_conf first, then the
    # connection's, as poke mode does.
    assert (kwargs["log_destination"], kwargs["default_log_destination"]) == (None, DEST)
    assert deferred.value.method_name == "execute_complete"


def test_execute_complete_turns_trigger_events_into_results_or_clear_messages(sync_conn):  # noqa: F811
    sensor = _sensor(deferrable=True, timeout=60)
    ok = {"status": "success", "run_id": "981", "succeeded": True, "result_state": "SUCCESS", "event_log": "s3://x"}
    assert sensor.execute_complete(_ctx(), ok)["event_log"] == "s3://x"
    with pytest.raises(AirflowSkipException, match="within 60 s \\(last look: 2 file\\(s\\)"):
        sensor.execute_complete(_ctx(), {"status": "timeout", "run_id": "981", "message": "2 file(s) under x"})
    with pytest.raises(AirflowFailException, match="waiting for run 981 failed: DatabricksApiError"):
        sensor.execute_complete(_ctx(), {"status": "error", "run_id": "981", "message": "DatabricksApiError: 403"})

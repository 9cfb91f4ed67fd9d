"""SyncPredictionSensor: wait until a Databricks run has finished AND its Spark event log is fully delivered.

Databricks delivers cluster logs every few minutes and rolls the event log into parts, so "the run terminated"
is not enough: predicting from half a log would mislead the engine. The sensor waits until every part is there
and the listing is unchanged between two looks (poke mode: two pokes; reschedule mode, where nothing survives
between pokes, two looks `settle_seconds` apart within one poke; deferrable mode: two polls of the trigger).

A timeout ends with one clear message and, by default, soft-fails (the sensor is skipped): the Databricks job
itself succeeded, so the pipeline goes on and the prediction task (trigger rule all_done) records the run from
its runtime alone.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout, AirflowSkipException

from sync_provider.hooks.databricks_api import databricks_api
from sync_provider.triggers.delivery import DeliveryCheck, check_delivery, run_facts

if TYPE_CHECKING:
    from airflow.sdk import Context

    from sync_provider.settings import SyncSettings


def _default_deferrable() -> bool:
    from airflow.sdk import conf

    return conf.getboolean("operators", "default_deferrable", fallback=False)


class SyncPredictionSensor(BaseSensorOperator):
    """Wait for a Databricks run's end and its event log's complete delivery.

    :param task_to_submit: task id whose XCom `run_id` names the run (ignored when `run_id` is set).
    :param run_id: the Databricks run id (templated).
    :param task_key: for multi-task runs, the task whose cluster's log matters.
    :param sync_conn_id: the `sync` connection (log destination, AWS connection and endpoint defaults).
    :param databricks_conn_id / aws_conn_id / log_destination: override the sync connection's values.
    :param wait_for_eventlog: False: only wait for the run to terminate.
    :param settle_seconds: reschedule mode: the pause between the two looks of one poke.
    :param deferrable: wait in the triggerer instead of a worker slot.
    Other sensor arguments (poke_interval, timeout, mode, soft_fail) are BaseSensorOperator's; soft_fail
    defaults to True here.
    """

    template_fields: Sequence[str] = ("task_to_submit", "run_id", "task_key", "log_destination")
    ui_color = "#fff2cc"

    def __init__(
        self,
        *,
        task_to_submit: str = "submit_run",
        run_id: str | int | None = None,
        task_key: str | None = None,
        sync_conn_id: str = "sync_default",
        databricks_conn_id: str | None = None,
        aws_conn_id: str | None = None,
        log_destination: str | None = None,
        wait_for_eventlog: bool = True,
        settle_seconds: float = 10.0,
        deferrable: bool | None = None,
        poke_interval: timedelta | float = 60,
        timeout: timedelta | float = 3600,
        soft_fail: bool = True,
        trigger_rule: str = "all_done",
        **kwargs: Any,
    ) -> None:
        # all_done: after a failed run the sensor still runs (it returns at once when no log was delivered), so
        # the prediction task after it records the failure.
        super().__init__(
            poke_interval=poke_interval, timeout=timeout, soft_fail=soft_fail, trigger_rule=trigger_rule, **kwargs
        )
        self.task_to_submit = task_to_submit
        self.run_id = run_id
        self.task_key = task_key
        self.sync_conn_id = sync_conn_id
        self.databricks_conn_id = databricks_conn_id
        self.aws_conn_id = aws_conn_id
        self.log_destination = log_destination
        self.wait_for_eventlog = wait_for_eventlog
        self.settle_seconds = settle_seconds
        self.deferrable = _default_deferrable() if deferrable is None else deferrable
        self._previous: DeliveryCheck | None = None
        self._last_detail = "the run has not been looked at yet"
        self._settings: SyncSettings | None = None
        self._reader: Any = None

    # ------------------------------------------------------------------ entry points

    def execute(self, context: Context) -> Any:
        if self.deferrable:
            try:
                return self._defer(context)
            except Exception as exc:  # before deferring, the base class's soft_fail does not apply (TaskDeferred,
                # a BaseException, passes): a lookup that fails on a loaded deployment must not fail the task either
                if not (self.soft_fail or self.never_fail):
                    raise
                if not isinstance(exc, AirflowFailException):
                    self.log.warning("Cannot wait for the run: %s: %s. The pipeline goes on (soft_fail).",
                                     type(exc).__name__, exc)  # fmt: skip
                raise AirflowSkipException(f"{type(exc).__name__}: {exc}") from exc
        try:
            return super().execute(context)
        except (AirflowSkipException, AirflowSensorTimeout) as exc:
            if "timed out" not in str(exc):
                raise
            raise type(exc)(self._timeout_message()) from exc

    def poke(self, context: Context) -> bool | PokeReturnValue:
        try:
            return self._poke(context)
        except (AirflowFailException, AirflowSkipException):
            raise
        except Exception as exc:  # a malformed connection or runs/get reply: one clear message, and soft_fail
            # applies (the base class turns only AirflowFailException into a skip), as in deferrable mode
            raise self._fail(f"cannot wait for the run: {type(exc).__name__}: {exc}") from exc

    def _poke(self, context: Context) -> bool | PokeReturnValue:
        run_id = self._resolve_run_id(context)
        settings = self._sync_settings()
        hook = self._hook(settings)
        api = databricks_api(hook)
        try:
            run = hook.get_run(int(run_id) if run_id.isdigit() else run_id)  # type: ignore[arg-type]
        except Exception as exc:
            raise self._fail(f"cannot read Databricks run {run_id}: {exc}") from exc
        facts = run_facts(run, task_key=self.task_key)
        if not facts.terminated:
            self._last_detail = f"run {run_id} is {facts.life_cycle_state or 'pending'}"
            self.log.info("%s", self._last_detail)
            return False
        destination = self.log_destination or facts.log_destination or settings.log_destination
        if not self.wait_for_eventlog or not destination or not facts.cluster_id:
            why = (
                "not asked to wait for the event log"
                if not self.wait_for_eventlog
                else ("the run has no cluster log destination" if not destination else "the run reports no cluster")
            )
            self.log.info("Run %s terminated (%s); %s", run_id, facts.result_state, why)
            return PokeReturnValue(True, self._xcom(run_id, facts, None))
        check = self._look(destination, facts.cluster_id, api, settings)
        if not facts.succeeded and check.directory is None:
            self.log.info("Run %s ended %s and delivered no event log: nothing to wait for", run_id, facts.result_state)
            return PokeReturnValue(True, self._xcom(run_id, facts, check))
        previous = self._previous
        if self.reschedule and (check.complete or not facts.succeeded):
            # Nothing survives between reschedule pokes: take the second look now.
            time.sleep(self.settle_seconds)
            previous, check = check, self._look(destination, facts.cluster_id, api, settings)
        if check.delivered_since(previous, run_succeeded=facts.succeeded):
            self.log.info("Event log of run %s delivered: %s", run_id, check.detail)
            return PokeReturnValue(True, self._xcom(run_id, facts, check))
        self._previous = check
        self._last_detail = check.detail + ("" if not check.complete else " (waiting one more look to be sure)")
        self.log.info("Run %s terminated; %s", run_id, self._last_detail)
        return False

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Back from the trigger: success returns the XCom; timeout and errors end with one clear message."""
        event = event or {}
        status = event.get("status")
        if status == "success":
            self.log.info("Run %s: %s", event.get("run_id"), event.get("message"))
            return {k: event.get(k) for k in ("run_id", "succeeded", "result_state", "event_log")}
        self._last_detail = str(event.get("message") or "no details")
        if status == "timeout":
            message = self._timeout_message()
            if self.soft_fail:
                raise AirflowSkipException(message)
            raise AirflowSensorTimeout(message)
        raise self._fail(f"waiting for run {event.get('run_id')} failed: {self._last_detail}")

    # ------------------------------------------------------------------ helpers

    def _defer(self, context: Context) -> None:
        from sync_provider.triggers.prediction import SyncPredictionTrigger

        run_id = self._resolve_run_id(context)
        settings = self._sync_settings()
        self.defer(
            trigger=SyncPredictionTrigger(
                run_id=run_id,
                databricks_conn_id=self.databricks_conn_id or settings.databricks_conn_id,
                deadline=time.time() + self.timeout,
                poll_interval=self.poke_interval,
                task_key=self.task_key,
                log_destination=self.log_destination,
                default_log_destination=settings.log_destination,
                wait_for_eventlog=self.wait_for_eventlog,
                aws_conn_id=self.aws_conn_id or settings.aws_conn_id,
                aws_endpoint_url=settings.aws_endpoint_url,
            ),
            method_name="execute_complete",
            # A backstop only: the trigger reports its own deadline first, with a clearer message.
            timeout=timedelta(seconds=self.timeout + 2 * self.poke_interval + 60),
        )

    def _resolve_run_id(self, context: Context) -> str:
        if self.run_id not in (None, ""):
            return str(self.run_id)
        value = context["ti"].xcom_pull(task_ids=self.task_to_submit, key="run_id")
        if isinstance(value, list):
            value = next((v for v in value if v is not None), None)
        if value in (None, ""):
            raise self._fail(
                f"no Databricks run_id in the XCom of task {self.task_to_submit!r}: set task_to_submit to the task "
                "id of your SyncDatabricksSubmitRunOperator / DatabricksSubmitRunOperator / DatabricksRunNowOperator, "
                "or pass run_id"
            )
        return str(value)

    def _sync_settings(self) -> SyncSettings:
        if self._settings is None:
            from sync_provider.hooks.sync import SyncHook

            self._settings = SyncHook(self.sync_conn_id).settings
        return self._settings

    def _hook(self, settings: SyncSettings) -> Any:
        from airflow.providers.databricks.hooks.databricks import DatabricksHook

        return DatabricksHook(self.databricks_conn_id or settings.databricks_conn_id, caller=type(self).__name__)

    def _look(self, destination: str, cluster_id: str, api: Any, settings: SyncSettings) -> DeliveryCheck:
        from sync_provider.engine.evidence.eventlog import reader_for

        try:
            if self._reader is None:
                s3 = None
                if destination.startswith("s3://"):
                    from sync_provider.hooks.databricks_api import s3_client

                    s3 = s3_client(self.aws_conn_id or settings.aws_conn_id, endpoint_url=settings.aws_endpoint_url)
                self._reader = reader_for(destination, s3_client=s3, databricks_api=api)
            return check_delivery(destination, cluster_id, reader=self._reader)
        except Exception as exc:
            who = (
                f"the AWS connection {self.aws_conn_id or settings.aws_conn_id!r}"
                if destination.startswith("s3://")
                else "the Databricks connection"
            )
            raise self._fail(
                f"cannot list the cluster logs at {destination} ({type(exc).__name__}: {exc}); give {who} read "
                "access (list and get) to that location"
            ) from exc

    def _fail(self, message: str) -> AirflowFailException:
        """One clear message; soft_fail turns it into a skip so the pipeline goes on."""
        suffix = " The pipeline goes on (soft_fail)." if self.soft_fail else ""
        self.log.error("%s%s", message, suffix)
        return AirflowFailException(message)

    def _timeout_message(self) -> str:
        return (
            f"the event log was not delivered completely within {self.timeout:.0f} s (last look: "
            f"{self._last_detail}). Databricks delivers cluster logs every few minutes: raise `timeout` if this "
            "recurs. The job itself is unaffected"
            + ("; the prediction records this run from its runtime only." if self.soft_fail else ".")
        )

    @staticmethod
    def _xcom(run_id: str, facts: Any, check: DeliveryCheck | None) -> dict[str, Any]:
        return {
            "run_id": run_id,
            "succeeded": facts.succeeded,
            "result_state": facts.result_state,
            "event_log": check.directory if check else None,
        }

"""SyncPredictionTrigger: the deferrable half of SyncPredictionSensor, run by Airflow's triggerer.

Polls the Databricks run with the provider's async hook (`a_get_run`); once the run has terminated it looks at the
cluster log destination (boto3 / the DBFS REST API are blocking, so each look runs in a worker thread) until the
event log's rolled parts are all there and unchanged between two looks. It yields exactly one event:
`success`, `timeout` (its own deadline, so the sensor can end with a clear message and soft-fail) or `error`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from sync_provider.triggers.delivery import DeliveryCheck, check_delivery, run_facts

#: The trigger never fires sooner than this after it starts. Airflow 3.3 can mark a deferred task failed when its
#: trigger fires within seconds: the executor's "success" for the worker that deferred is processed after the
#: resumed attempt is already running (apache/airflow#71580, #72716; seen here once in a while, a 5 s gap on a
#: loaded 2-core machine). A Databricks event log takes minutes to arrive, so holding a quick answer costs
#: nothing; the hold keeps the stale event ahead of the resumption.
MIN_DEFERRAL_SECONDS = 20.0


class SyncPredictionTrigger(BaseTrigger):
    """Wait, without holding a worker slot, for a run's end and its event log's complete delivery.

    :param run_id: the Databricks run id.
    :param databricks_conn_id: Databricks connection for jobs/runs/get (and DBFS listing).
    :param deadline: epoch seconds after which the trigger yields a `timeout` event.
    :param log_destination: s3://... or dbfs:/... given on the sensor; None: the run's own cluster_log_conf, else
        `default_log_destination` (the sync connection's), as in poke mode (no wait when none of them is set).
    :param wait_for_eventlog: False: only wait for the run to terminate.
    :param min_wait_s: the least time between the trigger's start and its event (`MIN_DEFERRAL_SECONDS`).
    """

    def __init__(
        self,
        *,
        run_id: str,
        databricks_conn_id: str,
        deadline: float,
        poll_interval: float = 60.0,
        task_key: str | None = None,
        log_destination: str | None = None,
        default_log_destination: str | None = None,
        wait_for_eventlog: bool = True,
        aws_conn_id: str | None = None,
        aws_endpoint_url: str | None = None,
        min_wait_s: float = MIN_DEFERRAL_SECONDS,
    ) -> None:
        super().__init__()
        self.run_id = str(run_id)
        self.databricks_conn_id = databricks_conn_id
        self.deadline = float(deadline)
        self.poll_interval = float(poll_interval)
        self.task_key = task_key
        self.log_destination = log_destination
        self.default_log_destination = default_log_destination
        self.wait_for_eventlog = wait_for_eventlog
        self.aws_conn_id = aws_conn_id
        self.aws_endpoint_url = aws_endpoint_url
        self.min_wait_s = float(min_wait_s)
        self._query_params = False

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "run_id": self.run_id,
                "databricks_conn_id": self.databricks_conn_id,
                "deadline": self.deadline,
                "poll_interval": self.poll_interval,
                "task_key": self.task_key,
                "log_destination": self.log_destination,
                "default_log_destination": self.default_log_destination,
                "wait_for_eventlog": self.wait_for_eventlog,
                "aws_conn_id": self.aws_conn_id,
                "aws_endpoint_url": self.aws_endpoint_url,
                "min_wait_s": self.min_wait_s,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        started = time.monotonic()
        event = await self._watch()
        hold = started + self.min_wait_s - time.monotonic()
        if hold > 0:
            self.log.info(
                "%s; reporting in %.0f s (a deferral this short can race the scheduler)",
                event.payload.get("message"),
                hold,
            )
            await asyncio.sleep(hold)
        yield event

    async def _watch(self) -> TriggerEvent:
        """Poll until there is something to report: the one event the trigger yields."""
        from airflow.providers.databricks.hooks.databricks import DatabricksHook

        hook = DatabricksHook(self.databricks_conn_id, caller=type(self).__name__)
        previous: DeliveryCheck | None = None
        reader: Any = None
        last = "waiting for the run to terminate"
        try:
            async with hook:
                while True:
                    run = await self._get_run(hook)
                    facts = run_facts(run, task_key=self.task_key)
                    if facts.terminated:
                        destination = self.log_destination or facts.log_destination or self.default_log_destination
                        if not self.wait_for_eventlog or not destination or not facts.cluster_id:
                            return self._event("success", facts, None, "run terminated; no event log to wait for")
                        if reader is None:
                            reader = await asyncio.to_thread(self._reader, destination)
                        check = await asyncio.to_thread(check_delivery, destination, facts.cluster_id, reader=reader)
                        if check.delivered_since(previous, run_succeeded=facts.succeeded):
                            return self._event("success", facts, check, f"event log delivered: {check.detail}")
                        if not facts.succeeded and check.directory is None:
                            return self._event("success", facts, check, "the run failed and delivered no event log")
                        previous, last = check, check.detail
                    else:
                        last = f"run {self.run_id} is {facts.life_cycle_state or 'pending'}"
                    self.log.info("%s; next look in %.0f s", last, self.poll_interval)
                    if time.time() + self.poll_interval > self.deadline:
                        return TriggerEvent(
                            {"status": "timeout", "run_id": self.run_id, "message": last, "check": _json(previous)}
                        )
                    await asyncio.sleep(self.poll_interval)
        except Exception as exc:  # the sensor turns this into one clear message (and soft-fails)
            return TriggerEvent(
                {"status": "error", "run_id": self.run_id, "message": f"{type(exc).__name__}: {exc}", "check": None}
            )

    async def _get_run(self, hook: Any) -> dict[str, Any]:
        """runs/get with the provider's async hook. It sends GET parameters as a JSON body, which Databricks
        accepts; some proxies and workspace stand-ins do not (HTTP 400), so then the query string is used."""
        run_id = int(self.run_id) if self.run_id.isdigit() else self.run_id
        if not self._query_params:
            try:
                return await hook.a_get_run(run_id)
            except Exception as exc:
                if getattr(exc, "http_status_code", None) != 400:
                    raise
                self.log.info("runs/get refused a JSON body (HTTP 400): passing run_id in the query string")
                self._query_params = True
        from sync_provider.hooks.databricks_api import async_databricks_api

        return await async_databricks_api(hook)("GET", "api/2.2/jobs/runs/get", {"run_id": run_id})

    def _reader(self, destination: str) -> Any:
        """The blocking log reader, built in a thread (connection lookups and boto3 setup block)."""
        from sync_provider.engine.evidence.eventlog import reader_for

        if destination.startswith("s3://"):
            from sync_provider.hooks.databricks_api import s3_client

            return reader_for(destination, s3_client=s3_client(self.aws_conn_id, endpoint_url=self.aws_endpoint_url))
        from airflow.providers.databricks.hooks.databricks import DatabricksHook

        from sync_provider.hooks.databricks_api import databricks_api

        return reader_for(destination, databricks_api=databricks_api(DatabricksHook(self.databricks_conn_id)))

    def _event(self, status: str, facts: Any, check: DeliveryCheck | None, message: str) -> TriggerEvent:
        return TriggerEvent(
            {
                "status": status,
                "run_id": self.run_id,
                "message": message,
                "succeeded": facts.succeeded,
                "result_state": facts.result_state,
                "event_log": check.directory if check else None,
                "check": _json(check),
            }
        )


def _json(check: DeliveryCheck | None) -> dict[str, Any] | None:
    return check.to_json() if check else None

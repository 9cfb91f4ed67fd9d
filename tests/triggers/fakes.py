"""Test doubles for the closed-loop operator, sensor and trigger tests (imported by those test modules).

Only the outside world is faked: Databricks at its HTTP boundary (the `responses` library intercepts the
provider hook's requests), S3 with moto, and Airflow's task instance (XCom in a dict). The Sync store, the
settings and the engine are the real ones.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from sync_provider.engine.models import (
    ClusterConfig,
    CostBreakdown,
    Phase,
    Prediction,
    Preference,
    Solution,
)

HOST = "https://dbc.example.test"


class FakeTI:
    """The part of Airflow's RuntimeTaskInstance the operators use: XCom push and pull."""

    def __init__(self, xcoms: dict[tuple[str, str], Any] | None = None, task_id: str = "task"):
        self.xcoms: dict[tuple[str, str], Any] = dict(xcoms or {})
        self.task_id = task_id
        self.dag_id = "test_dag"
        self.run_id = "manual__2026-01-01"

    def xcom_push(self, key: str, value: Any) -> None:
        json.dumps(value)  # XCom values must serialise
        self.xcoms[(self.task_id, key)] = value

    def xcom_pull(self, task_ids: str | None = None, key: str = "return_value", **_: Any) -> Any:
        return self.xcoms.get((task_ids or self.task_id, key))


def context_for(ti: FakeTI) -> dict[str, Any]:
    return {"ti": ti, "run_id": ti.run_id}


@dataclass
class FakeWorkspace:
    """A Databricks workspace at the HTTP boundary: a handler per (method, path), every call recorded."""

    handlers: dict[tuple[str, str], Callable[[dict], Any]] = field(default_factory=dict)
    calls: list[tuple[str, str, dict]] = field(default_factory=list)

    def on(self, method: str, path: str, handler: Callable[[dict], Any] | dict) -> None:
        self.handlers[(method, path)] = handler if callable(handler) else (lambda _req, h=handler: h)

    def calls_to(self, path: str) -> list[dict]:
        return [body for _, p, body in self.calls if p == path]

    def _dispatch(self, request: Any) -> tuple[int, dict, str]:
        url = urlparse(request.url)
        path = url.path
        if request.method == "GET":
            body = {k: v[0] for k, v in parse_qs(url.query).items()}
        else:
            body = json.loads(request.body or b"{}")
        self.calls.append((request.method, path, body))
        handler = self.handlers.get((request.method, path))
        if handler is None:
            return 404, {}, json.dumps({"error_code": "ENDPOINT_NOT_FOUND", "message": f"no fake for {path}"})
        result = handler(body)
        if isinstance(result, tuple):
            status, payload = result
            return status, {}, json.dumps(payload)
        return 200, {}, json.dumps(result)


@pytest.fixture
def workspace() -> Iterator[FakeWorkspace]:
    import responses

    ws = FakeWorkspace()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        for method in ("GET", "POST"):
            rsps.add_callback(method, re.compile(re.escape(HOST) + r"/api/.*"), callback=ws._dispatch)
        yield ws


@pytest.fixture
def sync_conn(monkeypatch, tmp_path) -> Callable[..., str]:
    """Define the `sync` and `databricks_default` connections; returns a setter for more `sync` extras."""
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow"))
    monkeypatch.setenv(
        "AIRFLOW_CONN_DATABRICKS_DEFAULT",
        json.dumps({"conn_type": "databricks", "host": HOST, "password": "dapi-test-token-123"}),
    )
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({"conn_type": "aws"}))
    url = f"sqlite:///{tmp_path / 'sync.db'}"

    def set_extras(**extra: Any) -> str:
        monkeypatch.setenv(
            "AIRFLOW_CONN_SYNC_DEFAULT", json.dumps({"conn_type": "sync", "extra": {"store_url": url, **extra}})
        )
        return url

    set_extras()
    return set_extras


def solution(pref: Preference, config: ClusterConfig, *, runtime: float = 600.0, meets_sla: bool = True) -> Solution:
    cost = CostBreakdown(cloud_usd=1.0, dbu_usd=0.5)
    return Solution(
        preference=pref,
        config=config,
        predicted_runtime_s=runtime,
        predicted_runtime_p90_s=runtime * 1.1,
        cost=cost,
        cost_low_usd=1.2,
        cost_high_usd=1.8,
        meets_sla=meets_sla,
        reason=f"{pref.value} pick",
    )


def make_prediction(
    current: ClusterConfig | None,
    new: ClusterConfig,
    *,
    phase: Phase = Phase.OPTIMIZING,
    meets_sla: bool = True,
    reason: str = "cheapest within the SLA",
) -> Prediction:
    """A prediction whose every preference recommends `new` (what the engine returns, built by hand)."""
    return Prediction(
        current=current,
        solutions={p: solution(p, new, meets_sla=meets_sla) for p in Preference},
        phase=phase,
        reason=reason,
    )

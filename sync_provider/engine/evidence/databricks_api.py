"""The one seam between the evidence code and a Databricks workspace: a callable that performs a REST call.

The Airflow side adapts `DatabricksHook._do_api_call`; tests and the CLI pass a small function over httpx.
Keeping it a plain callable keeps the engine free of Airflow and of any HTTP library.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: (method, "api/2.1/jobs/runs/get", params or JSON body) -> the decoded JSON reply
DatabricksApi = Callable[[str, str, dict | None], dict]


class DatabricksApiError(Exception):
    """A REST call failed; `status` is the HTTP status when known (404 means the object does not exist)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


def http_api(host: str, token: str | None = None, *, client: Any = None, timeout: float = 30.0) -> DatabricksApi:
    """A DatabricksApi over httpx for the CLI and tests (GET sends params as a query, POST as a JSON body)."""
    import httpx

    base = host.rstrip("/")
    if not base.startswith(("http://", "https://")):
        base = "https://" + base
    http = client or httpx.Client(timeout=timeout)
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def call(method: str, endpoint: str, body: dict | None = None) -> dict:
        url = f"{base}/{endpoint.lstrip('/')}"
        if method.upper() == "GET":
            reply = http.request("GET", url, params=body or None, headers=headers)
        else:
            reply = http.request(method.upper(), url, json=body or {}, headers=headers)
        if reply.status_code >= 400:
            raise DatabricksApiError(
                f"{method} {endpoint} failed with HTTP {reply.status_code}: {reply.text[:300]}", reply.status_code
            )
        return reply.json() if reply.content else {}

    return call

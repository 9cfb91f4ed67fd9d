"""Uploading the collector init script through any DatabricksApi callable (what the CLI uses)."""

from __future__ import annotations

import base64

import pytest

from sync_provider.collector import collector_script, upload_collector_script


def test_upload_paths() -> None:
    calls: list[tuple[str, str, dict]] = []

    def api(method: str, path: str, body: dict | None = None) -> dict:
        calls.append((method, path, body or {}))
        return {}

    assert upload_collector_script(api, "/Workspace/Users/a@b.c/sync.sh") == "workspace:/Users/a@b.c/sync.sh"
    assert calls[0] == ("POST", "api/2.0/workspace/mkdirs", {"path": "/Users/a@b.c"})
    method, path, body = calls[1]
    assert (method, path, body["path"], body["format"]) == (
        "POST",
        "api/2.0/workspace/import",
        "/Users/a@b.c/sync.sh",
        "AUTO",
    )
    assert base64.b64decode(body["content"]) == collector_script()

    calls.clear()
    assert upload_collector_script(api, "dbfs:/sync/c.sh") == "dbfs:/sync/c.sh"
    assert [(m, p, b["path"]) for m, p, b in calls] == [("POST", "api/2.0/dbfs/put", "/sync/c.sh")]

    with pytest.raises(ValueError, match="cannot upload the collector to s3://b/c.sh"):
        upload_collector_script(api, "s3://b/c.sh")

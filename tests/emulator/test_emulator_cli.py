"""`sync-cli emulator start` as a process: prints where it serves, answers with the token, stops on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx
import pytest

pytestmark = pytest.mark.integration


def test_cli_start_serves_and_stops(tmp_path):
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sync_provider.cli.main",
            "emulator",
            "start",
            "--port",
            "0",
            "--data-dir",
            str(tmp_path / "emu"),
            "--token",
            "secret-t",
            "--time-scale",
            "5000",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("Press Ctrl-C" in x for x in lines):
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
        out = "".join(lines)
        url = re.search(r"Databricks emulator at (http://\S+)", out)
        assert url, out
        assert "secret-t" not in out  # a token given by the user is never echoed
        assert re.search(r"S3 endpoint for log delivery: http://127\.0\.0\.1:\d+", out)
        r = httpx.get(f"{url.group(1)}/api/2.1/clusters/list-node-types", headers={"Authorization": "Bearer secret-t"})
        assert r.status_code == 200 and len(r.json()["node_types"]) > 50
        assert httpx.get(f"{url.group(1)}/api/2.1/jobs/runs/list").status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        rest, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, rest
    assert "Emulator stopped." in rest
    assert (tmp_path / "emu" / "state.json").exists()


def test_cli_rejects_bad_time_scale(tmp_path):
    from typer.testing import CliRunner

    from sync_provider.cli.main import app

    r = CliRunner().invoke(app, ["emulator", "start", "--time-scale", "0", "--data-dir", str(tmp_path)])
    assert r.exit_code == 2  # a usage error, like every other bad option value
    assert "Invalid value for '--time-scale': must be positive" in r.output

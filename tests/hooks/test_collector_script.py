"""The collector init script, run with bash against a fake EC2 metadata service (IMDSv2) and fake DBFS/S3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest

from sync_provider.collector import collector_script

TOKEN = "imds-token-123"
METADATA = {
    "instance-id": "i-0abc",
    "instance-type": "m5.xlarge",
    "placement/availability-zone": "us-east-1b",
    "instance-life-cycle": "spot",
    "local-ipv4": "10.0.0.7",
}


class _Imds(BaseHTTPRequestHandler):
    def do_PUT(self) -> None:  # noqa: N802 - http.server API
        ok = self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        self._reply(200 if ok else 400, TOKEN if ok else "")

    def do_GET(self) -> None:  # noqa: N802
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:  # IMDSv2 only: no token, no answer
            return self._reply(401, "")
        value = METADATA.get(self.path.removeprefix("/latest/meta-data/"))
        self._reply(200 if value else 404, value or "")

    def _reply(self, code: int, body: str) -> None:
        self.send_response(code)
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def imds_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Imds)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _run(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    script = tmp_path / "collector_init.sh"
    script.write_bytes(collector_script())
    base = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "DB_CLUSTER_ID": "0101-abc",
        "DB_IS_DRIVER": "TRUE",
        "DB_INSTANCE_TYPE": "m5.xlarge",
        "SYNC_PROJECT_ID": "proj-1",
        "SYNC_COLLECTOR_ONESHOT": "1",
        "SYNC_STATE_DIR": str(tmp_path / "state"),
        "SYNC_DBFS_ROOT": str(tmp_path / "dbfs"),
    }
    return subprocess.run(["bash", str(script)], env={**base, **env}, capture_output=True, text=True, timeout=60)


def test_records_node_facts_to_dbfs(tmp_path, imds_url) -> None:
    proc = _run(tmp_path, SYNC_IMDS_URL=imds_url, SYNC_LOG_DESTINATION="dbfs:/cluster-logs/sync")
    assert proc.returncode == 0, proc.stderr
    record = json.loads((tmp_path / "dbfs/cluster-logs/sync/0101-abc/sync_data/i-0abc.json").read_text())
    assert record["instance_type"] == "m5.xlarge" and record["lifecycle"] == "spot"
    assert record["availability_zone"] == "us-east-1b" and record["region"] == "us-east-1"
    assert record["is_driver"] is True and record["metadata_available"] is True
    assert record["project_id"] == "proj-1" and record["stop_time"] is None
    assert record["start_time"] <= record["last_seen"]


def test_unreachable_metadata_still_records_and_never_fails(tmp_path) -> None:
    proc = _run(tmp_path, SYNC_IMDS_URL="http://127.0.0.1:9", SYNC_LOG_DESTINATION="dbfs:/logs", DB_IS_DRIVER="FALSE")
    assert proc.returncode == 0
    assert "metadata unreachable" in proc.stderr
    (path,) = (tmp_path / "dbfs/logs/0101-abc/sync_data").glob("*.json")
    record = json.loads(path.read_text())
    assert record["metadata_available"] is False and record["instance_type"] == "m5.xlarge"
    assert record["lifecycle"] is None and record["is_driver"] is False


def test_no_destination_is_a_no_op(tmp_path) -> None:
    proc = _run(tmp_path)
    assert proc.returncode == 0 and "SYNC_LOG_DESTINATION is not set" in proc.stderr


def test_records_to_s3_encrypted_with_bucket_owner_acl(tmp_path, imds_url) -> None:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{server._server.server_port}"
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
        s3.create_bucket(Bucket="logs")
        proc = _run(
            tmp_path,
            SYNC_IMDS_URL=imds_url,
            SYNC_LOG_DESTINATION="s3://logs/dbx",
            SYNC_LOG_REGION="us-east-1",
            SYNC_S3_ENDPOINT_URL=endpoint,
            AWS_ACCESS_KEY_ID="testing",
            AWS_SECRET_ACCESS_KEY="testing",
        )
        assert proc.returncode == 0, proc.stderr
        obj = s3.get_object(Bucket="logs", Key="dbx/0101-abc/sync_data/i-0abc.json")
        assert obj["ServerSideEncryption"] == "AES256"
        assert json.loads(obj["Body"].read())["lifecycle"] == "spot"
    finally:
        server.stop()


def test_heartbeat_updates_and_records_stop_time(tmp_path, imds_url) -> None:
    import signal
    import time

    proc = _run(
        tmp_path,
        SYNC_IMDS_URL=imds_url,
        SYNC_LOG_DESTINATION="dbfs:/logs",
        SYNC_COLLECTOR_ONESHOT="0",
        SYNC_HEARTBEAT_SECONDS="1",
    )
    assert proc.returncode == 0, proc.stderr  # returns at once: the heartbeat runs in the background
    record_path = tmp_path / "dbfs/logs/0101-abc/sync_data/i-0abc.json"
    pid_file = tmp_path / "state" / "heartbeat.pid"
    deadline = time.monotonic() + 20
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    pid = int(pid_file.read_text())
    try:
        first = json.loads(record_path.read_text())
        while time.monotonic() < deadline:
            time.sleep(0.3)
            current = json.loads(record_path.read_text())
            if current["last_seen"] > first["last_seen"]:
                break
        assert current["last_seen"] > first["last_seen"] and current["stop_time"] is None
    finally:
        os.kill(pid, signal.SIGTERM)  # the node shuts down
    while time.monotonic() < deadline:
        stopped = json.loads(record_path.read_text())
        if stopped["stop_time"] is not None:
            break
        time.sleep(0.1)
    assert stopped["stop_time"] >= stopped["start_time"] and stopped["spot_interruption_time"] is None

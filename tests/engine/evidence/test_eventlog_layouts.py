"""Directory layouts: Databricks log delivery with rolled parts, Spark eventlog_v2, zip, S3 and DBFS."""

from __future__ import annotations

import base64
import gzip
import json
import zipfile

import boto3
import httpx
import orjson
import pytest
from eventlog_factory import Totals, generate_events

from sync_provider.engine.evidence.databricks_api import http_api
from sync_provider.engine.evidence.eventlog import (
    DbfsReader,
    EventLogError,
    S3Reader,
    eventlog_delivery_state,
    find_eventlog,
    parse_eventlog,
)
from sync_provider.engine.evidence.eventlog_readers import LocalReader

CLUSTER = "0101-000000-abcd1234"


def _lines(**kwargs) -> tuple[list[bytes], Totals]:
    totals = Totals()
    lines = [orjson.dumps(e) + b"\n" for e in generate_events(totals=totals, **kwargs)]
    return lines, totals


def write_delivery(root, ctx="4242", parts=3, *, metadata=True, drop=None, duplicate=None, **kwargs) -> Totals:
    """Lay a log out as Databricks' delivery does: gz rolled parts, the live `eventlog` last."""
    lines, totals = _lines(databricks=True, **kwargs)
    body = [x for x in lines if b"DBCEventLoggingListenerMetadata" not in x]
    d = root / CLUSTER / "eventlog" / f"{CLUSTER}_10_0_0_1" / ctx
    d.mkdir(parents=True)
    size = len(body) // parts + 1
    for i in range(parts):
        chunk = body[i * size : (i + 1) * size]
        if metadata:
            meta = {"Event": "DBCEventLoggingListenerMetadata", "Spark Version": "3.5.0", "Timestamp": 1,
                    "Rollover Number": i, "SparkContext Id": int(ctx)}  # fmt: skip
            chunk = [orjson.dumps(meta) + b"\n", *chunk]
        data = b"".join(chunk)
        if i == drop:
            continue
        if i < parts - 1:
            name = f"eventlog-2024-01-01--{i:02d}-00.gz"
            (d / name).write_bytes(gzip.compress(data))
            if i == duplicate:
                (d / f"eventlog-2024-01-01--{i:02d}-01.gz").write_bytes(gzip.compress(data))
        else:
            (d / "eventlog").write_bytes(data)
    return totals


def test_databricks_delivery_directory_with_rolled_parts(tmp_path):
    totals = write_delivery(tmp_path, parts=4, tasks_per_stage=40)
    p = parse_eventlog(tmp_path / CLUSTER)
    assert p.num_tasks == totals.num_tasks and p.warnings == []
    assert p.cluster.cluster_id == CLUSTER and p.cluster.node_type_id == "m5.xlarge"
    assert p.cluster.photon is True and p.cluster.spark_context_id == "4242"
    assert p.cluster.driver_node_type_id == "m5.2xlarge" and p.cluster.num_workers == 4


def test_parts_without_metadata_are_ordered_by_name(tmp_path):
    totals = write_delivery(tmp_path, parts=3, metadata=False)
    p = parse_eventlog(tmp_path / CLUSTER)
    assert p.num_tasks == totals.num_tasks and p.num_jobs == totals.num_jobs and p.warnings == []


def test_missing_rolled_part_is_reported(tmp_path):
    write_delivery(tmp_path, parts=4, drop=1)
    p = parse_eventlog(tmp_path / CLUSTER)
    assert any("rolled part(s) [1] are missing" in w for w in p.warnings)
    state = eventlog_delivery_state(
        str(find_eventlog(str(tmp_path), CLUSTER, reader=LocalReader())), reader=LocalReader()
    )
    assert state.missing_parts == [1] and not state.complete


def test_duplicated_rolled_part_is_counted_once(tmp_path):
    totals = write_delivery(tmp_path, parts=3, duplicate=0)
    p = parse_eventlog(tmp_path / CLUSTER)
    assert p.num_tasks == totals.num_tasks
    assert any("duplicated part" in w for w in p.warnings)


def test_several_spark_contexts_are_told_apart(tmp_path):
    first = write_delivery(tmp_path, ctx="1111", tasks_per_stage=10)
    second = write_delivery(tmp_path, ctx="2222", tasks_per_stage=30)
    with pytest.raises(EventLogError, match="2 separate application logs"):
        parse_eventlog(tmp_path / CLUSTER)
    assert parse_eventlog(tmp_path / CLUSTER, spark_context_id="1111").num_tasks == first.num_tasks
    assert parse_eventlog(tmp_path / CLUSTER, spark_context_id="2222").num_tasks == second.num_tasks
    found = find_eventlog(str(tmp_path), CLUSTER, reader=LocalReader(), spark_context_id="2222")
    assert found is not None and found.endswith("2222")


def test_delivery_state_complete(tmp_path):
    write_delivery(tmp_path, parts=3)
    directory = find_eventlog(str(tmp_path), CLUSTER, reader=LocalReader())
    state = eventlog_delivery_state(directory, reader=LocalReader())
    assert state.complete and state.has_application_end and len(state.parts) == 3
    assert state.parts[-1][0].endswith("/eventlog")
    assert find_eventlog(str(tmp_path), "no-such-cluster", reader=LocalReader()) is None


def test_delivery_state_incomplete_without_application_end(tmp_path):
    write_delivery(tmp_path, parts=2, with_app_end=False)
    directory = find_eventlog(str(tmp_path), CLUSTER, reader=LocalReader())
    assert not eventlog_delivery_state(directory, reader=LocalReader()).complete


def test_eventlog_v2_rolling_directory_with_gap(tmp_path):
    lines, totals = _lines(tasks_per_stage=30)
    d = tmp_path / "eventlog_v2_app-1"
    d.mkdir()
    third = len(lines) // 3 + 1
    for i in range(3):
        (d / f"events_{i + 1}_app-1").write_bytes(b"".join(lines[i * third : (i + 1) * third]))
    (d / "appstatus_app-1").write_bytes(b"")
    assert parse_eventlog(d).num_tasks == totals.num_tasks
    (d / "events_2_app-1").unlink()
    p = parse_eventlog(d)
    assert p.num_tasks < totals.num_tasks
    assert any("[2] are missing" in w for w in p.warnings)


def test_zip_of_a_delivery_directory(tmp_path):
    totals = write_delivery(tmp_path / "src", parts=3)
    archive = tmp_path / "logs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in (tmp_path / "src").rglob("*"):
            if f.is_file():
                zf.write(f, f.relative_to(tmp_path / "src"))
    assert parse_eventlog(archive).num_tasks == totals.num_tasks


def test_zip_of_a_single_file(tmp_path):
    lines, totals = _lines()
    archive = tmp_path / "one.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("app-1.log", b"".join(lines))
    assert parse_eventlog(archive).num_tasks == totals.num_tasks


@pytest.fixture
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        yield f"http://127.0.0.1:{server._server.server_port}"
    finally:
        server.stop()


def test_s3_delivery(tmp_path, s3_endpoint):
    client = boto3.client("s3", region_name="us-east-1", endpoint_url=s3_endpoint)
    client.create_bucket(Bucket="logs")
    totals = write_delivery(tmp_path, parts=3)
    for f in tmp_path.rglob("*"):
        if f.is_file():
            client.put_object(Bucket="logs", Key=f"cluster-logs/{f.relative_to(tmp_path)}", Body=f.read_bytes())
    reader = S3Reader(client=client)
    directory = find_eventlog("s3://logs/cluster-logs", CLUSTER, reader=reader)
    assert directory is not None and directory.startswith("s3://logs/cluster-logs/")
    assert parse_eventlog(directory, reader=reader).num_tasks == totals.num_tasks
    assert eventlog_delivery_state(directory, reader=reader).complete


def test_dbfs_delivery_through_the_rest_api(tmp_path):
    totals = write_delivery(tmp_path, parts=2)
    files = {"/" + str(f.relative_to(tmp_path)): f.read_bytes() for f in tmp_path.rglob("*") if f.is_file()}

    def handler(request: httpx.Request) -> httpx.Response:
        params = dict(request.url.params)
        path = params.get("path", "").rstrip("/")
        if request.url.path.endswith("dbfs/get-status"):
            if path in files:
                return httpx.Response(200, json={"path": path, "is_dir": False, "file_size": len(files[path])})
            return httpx.Response(200, json={"path": path, "is_dir": True, "file_size": 0})
        if request.url.path.endswith("dbfs/list"):
            children = {}
            for f in files:
                if f.startswith(path + "/"):
                    rest = f[len(path) + 1 :].split("/")
                    child = f"{path}/{rest[0]}"
                    children[child] = len(rest) > 1
            listing = [{"path": c, "is_dir": d, "file_size": 0 if d else len(files[c])} for c, d in children.items()]
            return httpx.Response(200, json={"files": listing})
        if request.url.path.endswith("dbfs/read"):
            data = files[path][int(params["offset"]) : int(params["offset"]) + int(params["length"])]
            return httpx.Response(200, json={"bytes_read": len(data), "data": base64.b64encode(data).decode()})
        return httpx.Response(404, json={"error_code": "NOT_FOUND"})

    api = http_api("https://dbc.example", "t", client=httpx.Client(transport=httpx.MockTransport(handler)))
    reader = DbfsReader(api)
    directory = find_eventlog("dbfs:/", CLUSTER, reader=reader)
    assert directory is not None
    assert parse_eventlog(directory, reader=reader).num_tasks == totals.num_tasks
    assert json.loads(json.dumps(eventlog_delivery_state(directory, reader=reader).model_dump()))["complete"]


def test_compacted_rolling_log_is_flagged(tmp_path):
    lines, totals = _lines(tasks_per_stage=30)
    d = tmp_path / "eventlog_v2_app-1"
    d.mkdir()
    half = len(lines) // 2
    (d / "events_2_app-1.compact").write_bytes(b"".join(lines[:half]))
    (d / "events_3_app-1").write_bytes(b"".join(lines[half:]))
    (d / "appstatus_app-1").write_bytes(b"")
    p = parse_eventlog(d)
    assert p.num_tasks == totals.num_tasks
    assert any("compacted" in w for w in p.warnings)
    assert not any("missing" in w for w in p.warnings)

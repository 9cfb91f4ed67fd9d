"""Where event-log files live: local disk, S3 (boto3), DBFS (Databricks REST API) or inside a zip archive.

The parser only ever lists a location and opens files as binary streams, so every store is a small `LogReader`.
No Airflow here: the Airflow side hands in a boto3 client (`S3Hook(...).get_conn()`) or a `DatabricksApi`.
"""

from __future__ import annotations

import base64
import io
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, BinaryIO, Protocol, runtime_checkable

from sync_provider.engine.evidence.databricks_api import DatabricksApi
from sync_provider.engine.evidence.eventlog_codecs import EventLogError


@runtime_checkable
class LogReader(Protocol):
    """How the parser reaches files wherever they live."""

    def list(self, prefix: str) -> list[tuple[str, int]]:
        """(path, size) of every file under a prefix/directory (recursively), or of the file itself."""
        ...

    def open(self, path: str) -> BinaryIO:
        """A binary stream of one file's raw bytes."""
        ...


class LocalReader:
    """Files on local disk."""

    def list(self, prefix: str) -> list[tuple[str, int]]:
        path = Path(prefix).expanduser()
        if path.is_file():
            return [(str(path), path.stat().st_size)]
        if not path.exists():
            raise EventLogError(f"{prefix}: no such file or directory")
        out = []
        for root, _dirs, files in os.walk(path):
            for name in files:
                full = Path(root) / name
                out.append((str(full), full.stat().st_size))
        return sorted(out)

    def open(self, path: str) -> BinaryIO:
        return open(Path(path).expanduser(), "rb")


def split_s3(uri: str) -> tuple[str, str]:
    if not uri.startswith(("s3://", "s3a://", "s3n://")):
        raise EventLogError(f"{uri}: not an s3:// location")
    rest = uri.split("://", 1)[1]
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise EventLogError(f"{uri}: no bucket in the S3 location")
    return bucket, key


class S3Reader:
    """Objects in S3 (or an S3-compatible endpoint such as the emulator's moto server) through boto3."""

    def __init__(self, client: Any = None, endpoint_url: str | None = None, region: str | None = None):
        if client is None:
            import boto3

            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        self.client = client

    def list(self, prefix: str) -> list[tuple[str, int]]:
        bucket, key = split_s3(prefix)
        scheme = prefix.split("://", 1)[0]
        found = self._list(bucket, key)
        exact = [(k, s) for k, s in found if k == key]
        if exact:
            return [(prefix, exact[0][1])]
        if key and not key.endswith("/"):
            found = self._list(bucket, key + "/")
        return sorted((f"{scheme}://{bucket}/{k}", s) for k, s in found if not k.endswith("/"))

    def _list(self, bucket: str, key: str) -> list[tuple[str, int]]:
        out = []
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=key):
            out.extend((o["Key"], int(o["Size"])) for o in page.get("Contents", []))
        return out

    def open(self, path: str) -> BinaryIO:
        bucket, key = split_s3(path)
        return self.client.get_object(Bucket=bucket, Key=key)["Body"]


def dbfs_api_path(uri: str) -> str:
    """'dbfs:/a/b' -> '/a/b' (the DBFS REST API's path form)."""
    if uri.startswith("dbfs:"):
        uri = uri[len("dbfs:") :]
    return "/" + uri.lstrip("/")


class _DbfsStream(io.RawIOBase):
    """Reads a DBFS file through dbfs/read in 1 MB pieces (the API's limit per call)."""

    def __init__(self, api: DatabricksApi, path: str):
        self.api, self.path, self.offset, self.eof = api, path, 0, False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.eof:
            return 0
        want = min(len(buffer), 1 << 20)
        reply = self.api("GET", "api/2.0/dbfs/read", {"path": self.path, "offset": self.offset, "length": want})
        data = base64.b64decode(reply.get("data") or b"")
        if not data:
            self.eof = True
            return 0
        buffer[: len(data)] = data
        self.offset += len(data)
        return len(data)


class DbfsReader:
    """Files in DBFS, through dbfs/get-status, dbfs/list and dbfs/read of the Databricks REST API."""

    def __init__(self, api: DatabricksApi):
        self.api = api

    def list(self, prefix: str) -> list[tuple[str, int]]:
        status = self.api("GET", "api/2.0/dbfs/get-status", {"path": dbfs_api_path(prefix)})
        if not status.get("is_dir"):
            return [(prefix, int(status.get("file_size") or 0))]
        out: list[tuple[str, int]] = []
        todo = [dbfs_api_path(prefix)]
        while todo:
            reply = self.api("GET", "api/2.0/dbfs/list", {"path": todo.pop()})
            for entry in reply.get("files") or []:
                if entry.get("is_dir"):
                    todo.append(entry["path"])
                else:
                    out.append(("dbfs:" + entry["path"], int(entry.get("file_size") or 0)))
        return sorted(out)

    def open(self, path: str) -> BinaryIO:
        return io.BufferedReader(_DbfsStream(self.api, dbfs_api_path(path)), buffer_size=1 << 20)


class ZipReader:
    """The members of a zip archive, seen as a directory tree ('' is its root)."""

    def __init__(self, archive: zipfile.ZipFile, name: str):
        self.archive, self.name = archive, name

    def list(self, prefix: str) -> list[tuple[str, int]]:
        prefix = prefix.strip("/")
        out = []
        for info in self.archive.infolist():
            if info.is_dir():
                continue
            if not prefix or info.filename == prefix or info.filename.startswith(prefix + "/"):
                out.append((info.filename, info.file_size))
        return sorted(out)

    def open(self, path: str) -> BinaryIO:
        return self.archive.open(path)  # type: ignore[return-value]


def open_zip(reader: LogReader, path: str, *, max_bytes: int) -> ZipReader:
    """Open a zip wherever it lives; remote archives are spooled to a temporary file (zip needs seeking)."""
    if isinstance(reader, LocalReader):
        try:
            return ZipReader(zipfile.ZipFile(Path(path).expanduser()), path)
        except zipfile.BadZipFile as exc:
            raise EventLogError(f"{path}: not a readable zip archive ({exc})") from None
    spool = tempfile.SpooledTemporaryFile(max_size=64 * 2**20)
    with reader.open(path) as src:
        total = 0
        while chunk := src.read(1 << 20):
            total += len(chunk)
            if total > max_bytes:
                raise EventLogError(f"{path}: zip archive is larger than {max_bytes:,} bytes; refusing it")
            spool.write(chunk)
    spool.seek(0)
    try:
        return ZipReader(zipfile.ZipFile(spool), path)
    except zipfile.BadZipFile as exc:
        raise EventLogError(f"{path}: not a readable zip archive ({exc})") from None


def reader_for(location: str, *, s3_client: Any = None, databricks_api: DatabricksApi | None = None) -> LogReader:
    """The reader for a location: s3:// through boto3, dbfs:/ through the Databricks API, else local disk."""
    loc = str(location)
    if loc.startswith(("s3://", "s3a://", "s3n://")):
        return S3Reader(client=s3_client)
    if loc.startswith("dbfs:"):
        if databricks_api is None:
            raise EventLogError(f"{loc}: reading DBFS needs a Databricks API client (databricks_api=...)")
        return DbfsReader(databricks_api)
    return LocalReader()

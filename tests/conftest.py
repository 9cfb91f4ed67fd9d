"""Suite-wide fixtures. Each test area keeps its own fixtures in its own conftest.py beside its tests."""

import os

import pytest


@pytest.fixture(autouse=True)
def _no_real_credentials(monkeypatch, tmp_path):
    """Keep every test off the user's real config and AWS credentials."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir(exist_ok=True)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("DATABRICKS_HOST", raising=False)
    monkeypatch.delenv("DATABRICKS_TOKEN", raising=False)
    monkeypatch.delenv("SYNC_STORE_URL", raising=False)


@pytest.fixture(autouse=True)
def _restore_process_state():
    """The in-process CLI quiets structlog, the root logger and warnings for the whole process and registers its
    Databricks connection in the environment (as a CLI process should); put them back so that a later test in the
    same worker still sees the warnings and connections it sets up."""
    import logging
    import warnings

    import structlog

    saved = structlog.get_config()
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", "airflow", "alembic", "botocore")}
    streams = {h: h.stream for h in root.handlers if isinstance(h, logging.StreamHandler)}
    with warnings.catch_warnings():
        yield
    os.environ.pop("AIRFLOW_CONN_SYNC_CLI_DATABRICKS", None)
    structlog.configure(**saved)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)
    for handler, stream in streams.items():
        handler.setStream(stream)


def postgres_url() -> str | None:
    """The PostgreSQL server that scripts/test.sh starts, if any (CI requires it)."""
    url = os.environ.get("SYNC_TEST_POSTGRES_URL") or None
    if not url and os.environ.get("SYNC_REQUIRE_POSTGRES"):
        raise RuntimeError("SYNC_REQUIRE_POSTGRES is set but SYNC_TEST_POSTGRES_URL is empty: PostgreSQL did not start")
    return url


@pytest.fixture(scope="session")
def emulator_s3():
    """A moto S3 server for the whole session (endpoint URL); the `emulator` fixture delivers logs to it."""
    import logging

    from moto.server import ThreadedMotoServer

    from sync_provider.emulator.server import free_port

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port("127.0.0.1")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="session")
def emulator(emulator_s3, tmp_path_factory):
    """A running Databricks workspace emulator (EmulatorServer: .url, .token, .s3_endpoint_url) for the session."""
    from sync_provider.emulator import EmulatorServer

    with EmulatorServer(data_dir=tmp_path_factory.mktemp("emulator"), s3_endpoint=emulator_s3) as server:
        yield server

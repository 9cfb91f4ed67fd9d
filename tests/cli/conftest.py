"""Fixtures of the sync-cli tests: a private store and config per test, and a runner of the real typer app."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from typer.testing import CliRunner, Result

from sync_provider.cli.main import app

Cli = Callable[..., Result]


@pytest.fixture
def store_url(tmp_path, monkeypatch) -> str:
    """Each test gets its own SQLite store, reached the way users configure it (SYNC_STORE_URL)."""
    url = f"sqlite:///{tmp_path / 'sync.db'}"
    monkeypatch.setenv("SYNC_STORE_URL", url)
    return url


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch):
    """Tables as wide as a terminal would print them, so cells are not folded in assertions."""
    from sync_provider.cli import _common

    monkeypatch.setattr(_common.console, "width", 200)
    monkeypatch.setattr(_common.err_console, "width", 200)


@pytest.fixture(autouse=True)
def _no_leaked_connection(monkeypatch):
    """The CLI registers its Databricks connection in os.environ; drop it after each test."""
    from sync_provider.cli.context import CLI_CONN_ID

    monkeypatch.delenv(f"AIRFLOW_CONN_{CLI_CONN_ID.upper()}", raising=False)


@pytest.fixture
def cli(store_url) -> Cli:
    """cli("projects", "list", input=None, code=0) -> Result; asserts the exit code (None: do not check)."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None, code: int | None = 0) -> Result:
        result = runner.invoke(app, list(args), input=input)
        if code is not None:
            assert result.exit_code == code, (
                f"exit {result.exit_code} != {code}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}\n"
                f"exception: {result.exception!r}"
            )
        return result

    return run

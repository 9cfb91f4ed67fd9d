from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.dags_examples.airflow_helpers import Emulator, base_env, migrate, with_connections


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory) -> Path:
    """One migrated Airflow metadata database for every `airflow dags test` of the session."""
    home = tmp_path_factory.mktemp("airflow_home")
    migrate(base_env(home))
    return home


@pytest.fixture
def emu(emulator) -> Emulator:
    return Emulator(emulator)


@pytest.fixture
def env(airflow_home, emulator, tmp_path) -> Iterator[dict[str, str]]:
    """Environment of the `airflow dags test` subprocesses: connections to the emulator and a fresh store."""
    yield with_connections(base_env(airflow_home), emulator, tmp_path)

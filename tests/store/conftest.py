"""Store fixtures: every store test runs on SQLite and, when the suite has one, on the real PostgreSQL server.

Each PostgreSQL test gets its own schema (search_path in the URL), so tests running in parallel never see each
other's tables and the migrations run from scratch every time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import postgres_url


def _pg_schema_url(base: str) -> Iterator[str]:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        from sync_provider.store import repository

        for url, engine in list(repository._engines.items()):
            if schema in url:
                engine.dispose()
                del repository._engines[url]
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store_url(request, tmp_path) -> Iterator[str]:
    """A fresh, empty store database URL of each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sync.db'}"
        return
    base = postgres_url()
    if not base:
        pytest.skip("PostgreSQL not available (SYNC_TEST_POSTGRES_URL is empty)")
    yield from _pg_schema_url(base)


@pytest.fixture
def store(store_url):
    from sync_provider.store import SyncStore

    return SyncStore(store_url)

"""Engine creation and programmatic schema migration (Alembic, shipped inside the package).

Several Airflow workers may open the store at once on a fresh database: the upgrade runs under a lock
(PostgreSQL advisory lock; SQLite's write lock) so exactly one of them creates the schema.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
VERSION_TABLE = "sync_alembic_version"
_PG_LOCK_KEY = 0x53594E43  # "SYNC"
_migrated: set[str] = set()
_migrate_lock = threading.Lock()

#: How long a SQLite connection waits for a lock (its busy timeout), and so how long a new connection keeps
#: trying to switch a locked file to WAL.
SQLITE_BUSY_TIMEOUT_S = 30.0


#: PostgreSQL: how long opening a connection may take, and how long the schema upgrade waits for another worker's
#: (an unreachable host or a stuck migration must not hold a task until its execution_timeout).
PG_CONNECT_TIMEOUT_S = 10
PG_MIGRATION_LOCK_TIMEOUT = "120s"


class UnknownSchemaError(RuntimeError):
    """The store's schema is at a revision this package does not know (a newer sync_provider migrated it)."""


def make_engine(url: str) -> Engine:
    """An engine tuned for the store: SQLite serialises writers (BEGIN IMMEDIATE, 30 s busy wait, WAL);
    PostgreSQL gets pre-pinged pooled connections that give up connecting after PG_CONNECT_TIMEOUT_S."""
    u = make_url(url)
    if u.get_backend_name() != "sqlite":
        connect_args: dict[str, Any] = {}
        if u.get_driver_name() in ("psycopg2", "psycopg") and "connect_timeout" not in u.query:
            connect_args["connect_timeout"] = PG_CONNECT_TIMEOUT_S
        return create_engine(url, pool_pre_ping=True, future=True, connect_args=connect_args)
    database = u.database or ""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    kwargs: dict[str, Any] = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S, "check_same_thread": False}}
    if in_memory:
        kwargs["poolclass"] = StaticPool
    else:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:  # pragma: no cover - exercised by every SQLite test
        dbapi_conn.isolation_level = None  # let SQLAlchemy's begin event decide how transactions start
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        if not in_memory:
            _set_wal(cur)
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:  # pragma: no cover - exercised by every SQLite test
        # Take the write lock up front: two writers can never both read version N and then both write N+1.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _set_wal(cursor: Any) -> None:
    """Switch the file to write-ahead logging. On a brand-new file another worker may be holding it mid-migration,
    and SQLite answers a journal-mode change with "database is locked" at once, without its busy wait (which
    could deadlock there): retry until the other is done, as the busy wait would."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def alembic_config(connection: Any | None = None, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the store ships at least one migration"
    return head


def _known_revision(revision: str) -> bool:
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except Exception:  # noqa: BLE001 - alembic raises several kinds for a revision it cannot resolve
        return False


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision (once per engine URL and process)."""
    key = engine.url.render_as_string(hide_password=False)
    with _migrate_lock:
        if key in _migrated and engine.url.database not in (None, "", ":memory:"):
            return
        head = head_revision()
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"SET LOCAL lock_timeout = '{PG_MIGRATION_LOCK_TIMEOUT}'"))
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
            ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            current = ctx.get_current_revision()
            if current != head:
                if current is not None and not _known_revision(current):
                    raise UnknownSchemaError(
                        f"its schema is at revision {current}, which this sync_provider does not know (it knows up "
                        f"to {head}): a newer sync_provider has migrated it; install that version on this worker too"
                    )
                command.upgrade(alembic_config(conn), "head")
        _migrated.add(key)

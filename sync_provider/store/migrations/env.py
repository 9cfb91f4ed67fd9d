"""Alembic environment of the store. Run programmatically by `sync_provider.store.migrate` with a connection
passed in `config.attributes["connection"]`; also works by hand, see sync_provider/store/alembic.ini."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from sync_provider.store.migrate import VERSION_TABLE
from sync_provider.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
url = os.environ.get("SYNC_STORE_URL") or config.get_main_option("sqlalchemy.url")
if context.is_offline_mode():
    context.configure(
        url=url,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
elif connection is not None:
    _run(connection)
else:
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)

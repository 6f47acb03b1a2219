"""Alembic environment: the URL comes from archivo's settings, never from alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from archive.models import Base
import archive.registry.models  # noqa: F401,E402 - registers the registry tables on Base.metadata
import dispatch.models  # noqa: F401,E402 - registers the dispatch tables on Base.metadata
import archive.physical.models  # noqa: F401,E402 - registers the physical archive tables on Base.metadata
import archive.batches  # noqa: F401,E402 - registers the batch tables on Base.metadata

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER most things
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from archive.db import make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        _run(conn)
        conn.commit()

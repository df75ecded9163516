"""Alembic's environment: run migrations on the connection handed over by :mod:`store.migrate`.

Online only (a live connection); :func:`store.migrate.upgrade` opens it, so the
database URL never has to be written into a config file.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from store.migrate import target_metadata

config = context.config
connection: Connection | None = config.attributes.get("connection")
if connection is None:  # pragma: no cover - store.migrate always provides one
    raise RuntimeError("run migrations with `python -m store.migrate`, which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=target_metadata(),
    compare_type=True,
    # SQLite cannot ALTER most things: later revisions rebuild tables there ("batch" mode).
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()

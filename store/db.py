"""Engine and schema: one engine per process, built from one URL.

``SHOPKEEPER_DB_URL`` selects the database: a SQLite file by default
(``sqlite:///build/shopkeeper.db``), PostgreSQL in production
(``postgresql+psycopg://user@host/db``).

Rasa's tracker store (read by the actions, the widget's history and the console)
is at ``SHOPKEEPER_TRACKER_DB_URL``, else the SQLite file named by ``RASA_TRACKER_DB``
(the embedded default, the same variable bot/endpoints.yml reads).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from store.models import Base

__all__ = ["DEFAULT_DB_URL", "StoreSettings", "create_schema", "make_engine", "tracker_store_url"]

_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB_URL = f"sqlite:///{_ROOT / 'build' / 'shopkeeper.db'}"


@dataclass(frozen=True)
class StoreSettings:
    """Where our data lives."""

    url: str = DEFAULT_DB_URL

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StoreSettings:
        """Read ``SHOPKEEPER_DB_URL`` (default: the SQLite file in ``build/``)."""
        env = os.environ if environ is None else environ
        return cls(url=env.get("SHOPKEEPER_DB_URL") or DEFAULT_DB_URL)


def tracker_store_url(environ: Mapping[str, str] | None = None) -> str | None:
    """Where Rasa keeps conversations; ``None`` when neither variable is set.

    >>> tracker_store_url({"RASA_TRACKER_DB": "/tmp/t.db"})
    'sqlite:////tmp/t.db'
    >>> tracker_store_url({"SHOPKEEPER_TRACKER_DB_URL": "postgresql+psycopg://db/rasa", "RASA_TRACKER_DB": "x"})
    'postgresql+psycopg://db/rasa'
    """
    env = os.environ if environ is None else environ
    url = env.get("SHOPKEEPER_TRACKER_DB_URL")
    if url:
        return url
    path = env.get("RASA_TRACKER_DB")
    if not path:
        return None
    file = Path(path) if Path(path).is_absolute() else _ROOT / path
    return f"sqlite:///{file}"


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # cascades (forget me) rely on it
    cursor.close()


def make_engine(url: str) -> Engine:
    """Create the engine for a database URL.

    For SQLite the parent folder is created and foreign keys are enforced;
    ``sqlite://`` (no path) is an in-memory database shared by one engine.
    """
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        else:
            from sqlalchemy.pool import StaticPool

            kwargs = {"poolclass": StaticPool}
        kwargs["connect_args"] = {"check_same_thread": False}
    engine = create_engine(url, **kwargs)
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _enable_sqlite_foreign_keys)
    return engine


def create_schema(engine: Engine) -> None:
    """Create or upgrade the schema (idempotent).

    SQLite (the embedded default, and the in-memory databases of the unit tests) gets
    ``create_all``: zero setup, and the file is disposable development data. Any other
    database (PostgreSQL in production) is brought to the newest Alembic revision
    (:func:`store.migrate.upgrade`; replicas starting together take turns).
    """
    if engine.dialect.name == "sqlite":
        import store.accounts
        import store.review  # noqa: F401  (their tables belong to the schema)

        Base.metadata.create_all(engine)
        return
    from store.migrate import upgrade

    upgrade(engine)

"""Engine and schema: one engine per process, built from one URL.

``SHOPKEEPER_DB_URL`` selects the database: a SQLite file by default
(``sqlite:///build/shopkeeper.db``), PostgreSQL in production
(``postgresql+psycopg://user@host/db``).

``SHOPKEEPER_RETENTION_DAYS`` (90) bounds how long anything about a customer is kept
(``shopkeeper privacy purge``); ``SHOPKEEPER_PSEUDONYM_KEY`` (a random key kept in
``build/pseudonym.key``) and ``SHOPKEEPER_PSEUDONYM_ROTATION_DAYS`` (30) make the
pseudonyms under which customers who did not consent are measured (:mod:`store.pseudonyms`).

Rasa's tracker store (read by the actions, the widget's history and the console)
is at ``SHOPKEEPER_TRACKER_DB_URL``, else the SQLite file named by ``RASA_TRACKER_DB``
(the embedded default, the same variable bot/endpoints.yml reads).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from retrieval.paths import PROJECT_ROOT
from store.errors import SettingsError
from store.models import Base

__all__ = [
    "DEFAULT_DB_URL",
    "DEFAULT_RETENTION_DAYS",
    "SettingsError",
    "StoreSettings",
    "create_schema",
    "make_engine",
    "secret_from_env",
    "tracker_store_url",
]

DEFAULT_DB_URL = f"sqlite:///{PROJECT_ROOT / 'build' / 'shopkeeper.db'}"
#: Days a conversation, interaction, summary or profile is kept after its last activity.
DEFAULT_RETENTION_DAYS = 90
#: Days between pseudonym rotations.
DEFAULT_PSEUDONYM_ROTATION_DAYS = 30


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number of days, not {raw!r}") from None
    if value < 1:
        raise SettingsError(f"{name} must be at least 1, not {value}")
    return value


def secret_from_env(env: Mapping[str, str], variable: str, file: Path) -> bytes:
    """The secret in ``variable``, else a random one kept in ``file`` (created once, mode 0600).

    Raises:
        SettingsError: when the configured secret is shorter than 16 characters.
    """
    configured = env.get(variable)
    if configured is not None:
        if len(configured) < 16:
            raise SettingsError(f"{variable} must be at least 16 characters")
        return configured.encode()
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(descriptor, "w") as handle:
                handle.write(secrets.token_hex(32))
    return file.read_text().strip().encode()


@dataclass(frozen=True)
class StoreSettings:
    """Where our data lives, how long it is kept, and how non-consenting customers are pseudonymised.

    Attributes:
        url: our database.
        retention_days: ``SHOPKEEPER_RETENTION_DAYS``.
        pseudonym_key: ``SHOPKEEPER_PSEUDONYM_KEY``; ``None`` means a random key per process.
        pseudonym_rotation_days: ``SHOPKEEPER_PSEUDONYM_ROTATION_DAYS``.
    """

    url: str = DEFAULT_DB_URL
    retention_days: int = DEFAULT_RETENTION_DAYS
    pseudonym_key: bytes | None = field(default=None, repr=False)
    pseudonym_rotation_days: int = DEFAULT_PSEUDONYM_ROTATION_DAYS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StoreSettings:
        """Read the settings (see the module docstring for the variables and defaults).

        Raises:
            SettingsError: on a retention or rotation that is not a positive number of days, or a short key.
        """
        env = os.environ if environ is None else environ
        return cls(
            url=env.get("SHOPKEEPER_DB_URL") or DEFAULT_DB_URL,
            retention_days=_positive_int(env, "SHOPKEEPER_RETENTION_DAYS", DEFAULT_RETENTION_DAYS),
            pseudonym_key=secret_from_env(env, "SHOPKEEPER_PSEUDONYM_KEY", PROJECT_ROOT / "build" / "pseudonym.key"),
            pseudonym_rotation_days=_positive_int(env, "SHOPKEEPER_PSEUDONYM_ROTATION_DAYS",
                                                  DEFAULT_PSEUDONYM_ROTATION_DAYS),
        )


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
    file = Path(path) if Path(path).is_absolute() else PROJECT_ROOT / path
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
        Base.metadata.create_all(engine)
        return
    from store.migrate import upgrade

    upgrade(engine)

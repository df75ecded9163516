"""Web app settings, read once from the environment.

| variable | default | meaning |
|---|---|---|
| ``HOST`` | ``127.0.0.1`` | interface the web app binds to |
| ``WEB_PORT`` | ``8000`` | its port |
| ``RASA_URL`` | ``http://{HOST}:{RASA_PORT}`` | where browsers reach the Rasa server |
| ``RASA_PORT`` | ``5005`` | used to build the default ``RASA_URL`` |
| ``SHOPKEEPER_CATALOG_IMAGES`` | ``data/catalog/images`` | placeholder images served under ``/catalog/images`` |
| ``SHOPKEEPER_TRACKER_DB_URL`` | from ``RASA_TRACKER_DB`` | Rasa's tracker store, read for chat history |
| ``SHOPKEEPER_SECRET_KEY`` | a random key kept in ``build/secret.key`` | signs the widget's chat sessions |
| ``SHOPKEEPER_DB_URL`` | ``build/shopkeeper.db`` | our database: review-console users, sessions, summaries, tags |
| ``SHOPKEEPER_HTTPS`` | ``0`` | ``1`` when the site is served over HTTPS: console cookies get ``Secure`` |
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.settings import PROJECT_ROOT
from store.db import DEFAULT_DB_URL, tracker_store_url

__all__ = ["WebSettings"]


@dataclass(frozen=True)
class WebSettings:
    """Where the web app listens and where the widget finds Rasa."""

    host: str
    port: int
    rasa_url: str
    images_dir: Path
    tracker_db_url: str = f"sqlite:///{PROJECT_ROOT / 'build' / 'rasa-tracker.db'}"
    secret_key: bytes = field(default_factory=lambda: secrets.token_bytes(32), repr=False)
    store_db_url: str = DEFAULT_DB_URL
    https: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebSettings:
        """Read the settings from environment variables (see the module docstring).

        Raises:
            ValueError: when a port is not a number.
        """
        env = os.environ if environ is None else environ
        host = env.get("HOST", "127.0.0.1")
        port = int(env.get("WEB_PORT", "8000"))
        rasa_url = env.get("RASA_URL") or f"http://{host}:{int(env.get('RASA_PORT', '5005'))}"
        images = Path(env.get("SHOPKEEPER_CATALOG_IMAGES", "data/catalog/images"))
        return cls(
            host, port, rasa_url.rstrip("/"), images if images.is_absolute() else PROJECT_ROOT / images,
            tracker_db_url=tracker_store_url(env) or cls.tracker_db_url, secret_key=_secret_key(env),
            store_db_url=env.get("SHOPKEEPER_DB_URL") or DEFAULT_DB_URL,
            https=env.get("SHOPKEEPER_HTTPS", "").lower() in ("1", "true", "yes"),
        )


def _secret_key(env: Mapping[str, str]) -> bytes:
    """``SHOPKEEPER_SECRET_KEY``, else a random key kept in ``build/secret.key`` (created once, mode 0600).

    Raises:
        ValueError: when the configured key is shorter than 16 characters.
    """
    configured = env.get("SHOPKEEPER_SECRET_KEY")
    if configured is not None:
        if len(configured) < 16:
            raise ValueError("SHOPKEEPER_SECRET_KEY must be at least 16 characters")
        return configured.encode()
    path = PROJECT_ROOT / "build" / "secret.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first
            pass
        else:
            with os.fdopen(descriptor, "w") as file:
                file.write(secrets.token_hex(32))
    return path.read_text().strip().encode()

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
| ``SHOPKEEPER_PSEUDONYM_KEY``, ``SHOPKEEPER_RETENTION_DAYS`` | see :mod:`store.db` | what a data export covers |
| ``SHOPKEEPER_SHOP_NAME`` | ``Harbour & Home`` | the shop's name on the shop page (``catalog use`` sets it) |
| ``SHOPKEEPER_SHOP_TAGLINE`` | the demo shop's line | what the shop sells, under its name (``catalog use`` sets it) |
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from retrieval.settings import PROJECT_ROOT
from store.db import DEFAULT_DB_URL, StoreSettings, secret_from_env, tracker_store_url

__all__ = ["DEMO_SHOP_NAME", "DEMO_SHOP_TAGLINE", "WebSettings"]

DEMO_SHOP_NAME = "Harbour & Home"
DEMO_SHOP_TAGLINE = "Furniture, lighting and gear"


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
    #: Retention and pseudonyms, for the data export (:class:`store.db.StoreSettings`).
    privacy: StoreSettings = field(default_factory=StoreSettings)
    shop_name: str = DEMO_SHOP_NAME
    shop_tagline: str = DEMO_SHOP_TAGLINE
    #: ``SHOPKEEPER_PURCHASES_KEY``: the bearer key a shop reports its chat customers' purchases with
    #: (``POST /api/purchases``); empty leaves the endpoint off.
    purchases_key: str = field(default="", repr=False)

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
            privacy=StoreSettings.from_env(env),
            shop_name=env.get("SHOPKEEPER_SHOP_NAME", "").strip() or DEMO_SHOP_NAME,
            shop_tagline=env.get("SHOPKEEPER_SHOP_TAGLINE", "").strip() or DEMO_SHOP_TAGLINE,
            purchases_key=_purchases_key(env),
        )


def _purchases_key(env: Mapping[str, str]) -> str:
    """``SHOPKEEPER_PURCHASES_KEY``, empty when unset.

    Raises:
        ValueError: when it is set but shorter than 16 characters (guessable).
    """
    key = env.get("SHOPKEEPER_PURCHASES_KEY", "").strip()
    if key and len(key) < 16:
        raise ValueError("SHOPKEEPER_PURCHASES_KEY must be at least 16 characters")
    return key


def _secret_key(env: Mapping[str, str]) -> bytes:
    """``SHOPKEEPER_SECRET_KEY``, else a random key kept in ``build/secret.key`` (created once, mode 0600).

    Raises:
        ValueError: when the configured key is shorter than 16 characters.
    """
    return secret_from_env(env, "SHOPKEEPER_SECRET_KEY", PROJECT_ROOT / "build" / "secret.key")

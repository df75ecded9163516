"""Web app settings, read once from the environment.

| variable | default | meaning |
|---|---|---|
| ``HOST`` | ``127.0.0.1`` | interface the web app binds to |
| ``WEB_PORT`` | ``8000`` | its port |
| ``RASA_URL`` | ``http://{HOST}:{RASA_PORT}`` | where browsers reach the Rasa server |
| ``RASA_PORT`` | ``5005`` | used to build the default ``RASA_URL`` |
| ``SHOPKEEPER_CATALOG_IMAGES`` | ``data/catalog/images`` | placeholder images served under ``/catalog/images`` |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from retrieval.settings import PROJECT_ROOT

__all__ = ["WebSettings"]


@dataclass(frozen=True)
class WebSettings:
    """Where the web app listens and where the widget finds Rasa."""

    host: str
    port: int
    rasa_url: str
    images_dir: Path

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
        return cls(host, port, rasa_url.rstrip("/"), images if images.is_absolute() else PROJECT_ROOT / images)

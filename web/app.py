"""The FastAPI application: shop page, widget assets and catalog images."""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles

from web.settings import WebSettings

__all__ = ["create_app"]

_HERE = Path(__file__).resolve().parent


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """Build the app from settings (read from the environment when ``None``)."""
    settings = settings or WebSettings.from_env()
    app = FastAPI(title="Shopkeeper web", docs_url=None, redoc_url=None)
    page = (_HERE / "templates" / "shop.html").read_text(encoding="utf-8")
    page = page.replace("{{RASA_URL}}", html.escape(settings.rasa_url, quote=True))

    @app.get("/", response_class=HTMLResponse)
    def shop_page() -> str:
        """The demo shop page with the widget embedded by one script tag."""
        return page

    @app.get("/healthz", response_class=PlainTextResponse)
    def health() -> str:
        """Liveness probe."""
        return "ok"

    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    if settings.images_dir.is_dir():
        app.mount("/catalog/images", StaticFiles(directory=settings.images_dir), name="catalog-images")
    return app

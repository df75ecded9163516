"""The FastAPI application: shop page, widget assets, chat sessions, history and data export, catalog images.

Every answer carries the security headers of :mod:`web.security`.
"""

from __future__ import annotations

import functools
import hmac
import html
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, HTTPException
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import SQLAlchemyError
from starlette.types import ASGIApp

from retrieval.settings import PROJECT_ROOT
from store.db import create_schema, make_engine
from store.errors import StoreError
from store.export import NothingStoredError, export_customer
from store.models import InteractionKind
from store.profiles import ProfileStore
from store.pseudonyms import Pseudonymiser
from web.chat import ChatSessions, chat_history
from web.console import console_router
from web.console.service import ConsoleConfig
from web.errors import add_error_handlers
from web.security import SecurityHeaders
from web.settings import WebSettings

__all__ = ["create_app"]

_HERE = Path(__file__).resolve().parent
#: The socket.io client the widget loads, installed from package-lock.json by `make setup`.
SOCKET_IO_CLIENT = PROJECT_ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"

logger = logging.getLogger(__name__)


def _shop_page(settings: WebSettings) -> str:
    """The shop page's HTML, named after the active catalog, the Rasa URL filled in (escaped)."""
    page = (_HERE / "templates" / "shop.html").read_text(encoding="utf-8")
    for key, value in (("RASA_URL", settings.rasa_url), ("SHOP_NAME", settings.shop_name),
                       ("SHOP_TAGLINE", settings.shop_tagline)):
        page = page.replace("{{" + key + "}}", html.escape(value, quote=True))
    return page


def _add_chat_routes(app: FastAPI, settings: WebSettings) -> None:
    """The widget's API: new chat sessions, one's own history and one's own data export."""
    sessions = ChatSessions(settings.secret_key)

    @functools.cache
    def tracker_engine() -> Engine:
        return make_engine(settings.tracker_db_url)

    @functools.cache
    def store_engine() -> Engine:
        engine = make_engine(settings.store_db_url)
        create_schema(engine)
        return engine

    def own_conversation(sender_id: str, authorization: str | None) -> None:
        """Refuse (401) unless the bearer token is that conversation's."""
        token = (authorization or "").removeprefix("Bearer ").strip()
        if not sessions.verify(sender_id, token):
            raise HTTPException(status_code=401, detail="this chat session is not yours, or it has expired")

    @app.post("/api/chat/sessions")
    def new_chat_session() -> dict[str, str]:
        """A new conversation: the sender id to give Rasa and the token that unlocks its history."""
        sender_id, token = sessions.issue()
        return {"sender_id": sender_id, "token": token}

    @app.get("/api/chat/history")
    def history(sender_id: str, authorization: Annotated[str | None, Header()] = None) -> dict[str, Any]:
        """The messages of one's own conversation (``Authorization: Bearer <token>``), oldest first."""
        own_conversation(sender_id, authorization)
        try:
            engine = tracker_engine()
            if not inspect(engine).has_table("events"):
                return {"sender_id": sender_id, "messages": []}
            return {"sender_id": sender_id, "messages": chat_history(engine, sender_id)}
        except SQLAlchemyError as error:
            logger.error("chat history unavailable: %s", error)
            raise HTTPException(status_code=503, detail="the conversation history is unavailable right now") from None

    _add_export_route(app, settings, own_conversation, store_engine, tracker_engine)
    _add_purchase_route(app, settings, store_engine)


class PurchaseReport(BaseModel):
    """A shop's report that a chat customer bought items (``POST /api/purchases``)."""

    model_config = ConfigDict(extra="forbid")

    sender_id: str = Field(min_length=1, max_length=255)
    item_ids: list[Annotated[str, Field(min_length=1, max_length=255)]] = Field(min_length=1, max_length=100)


def _add_purchase_route(app: FastAPI, settings: WebSettings, store_engine: Callable[[], Engine]) -> None:
    """``/api/purchases``: the shop says a chat customer bought something, for the collaborative model."""

    @app.post("/api/purchases")
    def report_purchase(report: PurchaseReport,
                        authorization: Annotated[str | None, Header()] = None) -> dict[str, int]:
        """Store a purchase per item, under the customer with consent, else under the sender's pseudonym.

        Needs ``Authorization: Bearer <SHOPKEEPER_PURCHASES_KEY>``; 404 while no key is set.
        """
        if not settings.purchases_key:
            raise HTTPException(status_code=404, detail="purchase reports are off: set SHOPKEEPER_PURCHASES_KEY")
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), settings.purchases_key.encode()):
            raise HTTPException(status_code=401, detail="the purchases key is missing or wrong")
        privacy = settings.privacy
        profiles = ProfileStore(store_engine(), retention_days=privacy.retention_days,
                                pseudonyms=Pseudonymiser(privacy.pseudonym_key,
                                                         rotation_days=privacy.pseudonym_rotation_days))
        try:
            profiles.record_many(report.sender_id, [(InteractionKind.PURCHASE, item, None) for item in report.item_ids],
                                 detail={"source": "shop report"})
        except StoreError as error:
            logger.error("purchase report not stored: %s", error)
            raise HTTPException(status_code=503, detail="the purchase cannot be stored right now") from None
        return {"stored": len(report.item_ids)}


def _add_export_route(app: FastAPI, settings: WebSettings, own_conversation: Callable[[str, str | None], None],
                      store_engine: Callable[[], Engine], tracker_engine: Callable[[], Engine]) -> None:
    """``/api/chat/export``: everything stored about one's own conversation, as one JSON download."""

    @app.get("/api/chat/export")
    def export(sender_id: str, authorization: Annotated[str | None, Header()] = None) -> JSONResponse:
        """A copy of everything stored about one's own conversation (``shopkeeper-export/1``, docs/PRIVACY.md).

        Needs ``Authorization: Bearer <token>`` like the history; 404 when nothing is stored.
        """
        own_conversation(sender_id, authorization)
        privacy = settings.privacy
        try:
            document = export_customer(
                store_engine(), tracker_engine(), sender_id,
                pseudonyms=Pseudonymiser(privacy.pseudonym_key, rotation_days=privacy.pseudonym_rotation_days),
                retention_days=privacy.retention_days,
            )
        except NothingStoredError as error:
            raise HTTPException(status_code=404, detail=str(error)) from None
        except SQLAlchemyError as error:
            logger.error("data export unavailable: %s", error)
            raise HTTPException(status_code=503, detail="your data cannot be exported right now") from None
        return JSONResponse(document, headers={
            "Content-Disposition": f'attachment; filename="shopkeeper-data-{sender_id}.json"',
            "Cache-Control": "no-store",
        })


class _WebApp(FastAPI):
    """The web app, every answer of which passes through :class:`web.security.SecurityHeaders`.

    The headers wrap the whole stack rather than being added with ``add_middleware``, which would
    put them inside FastAPI's own error and body-size middleware: the 500 of a crash and a 413
    would then go out without them.
    """

    def __init__(self, *, rasa_url: str, **options: Any) -> None:
        super().__init__(**options)
        self.rasa_url = rasa_url

    def build_middleware_stack(self) -> ASGIApp:
        """FastAPI's stack, inside the security headers."""
        return SecurityHeaders(super().build_middleware_stack(), rasa_url=self.rasa_url)


def create_app(settings: WebSettings | None = None) -> FastAPI:
    """Build the app from settings (read from the environment when ``None``)."""
    settings = settings or WebSettings.from_env()
    app = _WebApp(rasa_url=settings.rasa_url, title="Shopkeeper web", docs_url=None, redoc_url=None)
    add_error_handlers(app)
    page = _shop_page(settings)

    @app.get("/", response_class=HTMLResponse)
    def shop_page() -> str:
        """The shop page (named after the active catalog) with the widget embedded by one script tag."""
        return page

    _add_chat_routes(app, settings)

    @app.get("/static/vendor/socket.io.min.js", include_in_schema=False)
    def socket_io_client() -> FileResponse:
        """The socket.io client from node_modules."""
        if not SOCKET_IO_CLIENT.is_file():
            raise HTTPException(status_code=404, detail="socket.io client not installed: run `make setup`")
        return FileResponse(SOCKET_IO_CLIENT, media_type="text/javascript")

    @app.get("/healthz", response_class=PlainTextResponse)
    def health() -> str:
        """Liveness probe."""
        return "ok"

    app.include_router(console_router(ConsoleConfig(settings.store_db_url, settings.tracker_db_url, settings.https,
                                                    retention_days=settings.privacy.retention_days)))
    app.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")
    if settings.images_dir.is_dir():
        app.mount("/catalog/images", StaticFiles(directory=settings.images_dir), name="catalog-images")
    return app

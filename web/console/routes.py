"""The console's pages and form posts under ``/console``.

Authentication: a server-side session whose token travels in an ``HttpOnly``,
``SameSite=Lax`` cookie (``Secure`` on HTTPS sites). A page asked for without a
session redirects to the login page; a POST or an ``/console/api/`` call gets
``401``. Every POST form carries the session's CSRF token (the login form a
token bound to a short-lived cookie); a missing or wrong one gets ``403``.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from store.accounts import SessionInfo
from store.experiments import ExperimentError, load_experiments, reports_in
from store.review import InvalidTagError
from store.summaries import ConversationFilter, Cursor, list_conversations, metrics, summary_of
from store.transcripts import build_transcript, export_test_story
from web.console.charts import bar_chart, share_bar
from web.console.service import Console, ConsoleConfig

__all__ = ["PRELOGIN_COOKIE", "SESSION_COOKIE", "console_router"]

logger = logging.getLogger(__name__)

SESSION_COOKIE = "shopkeeper_console"
PRELOGIN_COOKIE = "shopkeeper_console_login"
_PREFIX = "/console"
_TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PAGE_SIZE = 50


def _when(epoch: float | None) -> str:
    if not epoch:
        return "—"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _clock(epoch: float | None) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%H:%M:%S") if epoch else ""


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _flag(text: str | None) -> bool:
    return (text or "").lower() in ("1", "on", "true", "yes")


def _filters(request: Request) -> tuple[ConversationFilter, dict[str, str]]:
    """The list's filters from the query string, and the cleaned values to redraw the form."""
    q = request.query_params
    reviewed = {"yes": True, "no": False}.get(q.get("reviewed", ""))
    filters = ConversationFilter(
        start=_date(q.get("start")), end=_date(q.get("end")), disliked=_flag(q.get("disliked")),
        fallback=_flag(q.get("fallback")), handoff=_flag(q.get("handoff")),
        nothing_chosen=_flag(q.get("nothing_chosen")), tag=(q.get("tag") or "").strip() or None,
        reviewed=reviewed, text=(q.get("q") or "").strip()[:200] or None,
    )
    form = {
        "start": filters.start.isoformat() if filters.start else "",
        "end": filters.end.isoformat() if filters.end else "",
        "disliked": "1" if filters.disliked else "", "fallback": "1" if filters.fallback else "",
        "handoff": "1" if filters.handoff else "", "nothing_chosen": "1" if filters.nothing_chosen else "",
        "tag": filters.tag or "", "reviewed": q.get("reviewed", "") if reviewed is not None else "",
        "q": filters.text or "",
    }
    return filters, form


def console_router(config: ConsoleConfig, console: Console | None = None) -> APIRouter:
    """The console's routes, to include in the app.

    Args:
        config: where the data lives and whether the site is HTTPS.
        console: the services to use (tests pass one with a fast password hasher); built from
            ``config`` on first use when ``None``.
    """
    service = console or Console(config)
    templates = Jinja2Templates(directory=_TEMPLATES)
    templates.env.filters["when"] = _when
    templates.env.filters["clock"] = _clock
    router = APIRouter(prefix=_PREFIX, include_in_schema=False)

    def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
        response = templates.TemplateResponse(request, f"console/{name}", context, status_code=status_code)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; frame-ancestors 'none'")
        response.headers["Referrer-Policy"] = "same-origin"
        return response

    def signed_in(request: Request) -> SessionInfo | None:
        return service.accounts.session(request.cookies.get(SESSION_COOKIE))

    def to_login(request: Request) -> RedirectResponse:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{_PREFIX}/login?{urlencode({'next': target})}", status_code=303)

    def refuse(status: int, detail: str) -> Response:
        return JSONResponse({"detail": detail}, status_code=status)

    def checked_post(request: Request, csrf_token: str | None) -> SessionInfo | Response:
        session = signed_in(request)
        if session is None:
            return refuse(401, "sign in first")
        if not service.accounts.csrf_matches(session, csrf_token):
            return refuse(403, "the form token is missing or wrong; reload the page and try again")
        return session

    def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, path=_PREFIX, httponly=True, samesite="lax",
                            secure=config.https)

    # --- sign in and out ------------------------------------------------------------------
    def login_page(request: Request, *, error: str = "", status_code: int = 200, name: str = "",
                   next_url: str = "") -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        response = render(request, "login.html", {"error": error, "csrf_token": token, "name": name,
                                                  "next": next_url}, status_code)
        set_cookie(response, PRELOGIN_COOKIE, token, 3600)
        return response

    def safe_next(target: str | None) -> str:
        if target and target.startswith(f"{_PREFIX}/") and not target.startswith("//") and "\\" not in target:
            return target
        return f"{_PREFIX}/conversations"

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "") -> Response:
        """The sign-in form."""
        if signed_in(request) is not None:
            return RedirectResponse(safe_next(next), status_code=303)
        return login_page(request, next_url=safe_next(next))

    @router.post("/login")
    def login(request: Request, name: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
              csrf_token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "") -> Response:
        """Check the name and password; open a session or say no (slowly after failures)."""
        expected = request.cookies.get(PRELOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
            return refuse(403, "the form token is missing or wrong; reload the login page")
        client = request.client.host if request.client else "unknown"
        result = service.accounts.login(name, password, client)
        if result.retry_after > 0:
            wait = int(result.retry_after + 0.999)
            page = login_page(request, error=f"Too many failed attempts. Try again in {wait} s.", status_code=429,
                              name=name, next_url=safe_next(next))
            page.headers["Retry-After"] = str(wait)
            return page
        if not result.ok or result.token is None:
            logger.info("console: failed sign-in (next attempt allowed in %.0fs)", result.delay)
            return login_page(request, error="Wrong name or password.", status_code=401, name=name,
                              next_url=safe_next(next))
        response = RedirectResponse(safe_next(next), status_code=303)
        set_cookie(response, SESSION_COOKIE, result.token, int(service.accounts.session_seconds))
        response.delete_cookie(PRELOGIN_COOKIE, path=_PREFIX)
        return response

    @router.post("/logout")
    def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
        """End the session."""
        checked = checked_post(request, csrf_token)
        if isinstance(checked, Response):
            return checked
        service.accounts.logout(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse(f"{_PREFIX}/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=_PREFIX, httponly=True, samesite="lax", secure=config.https)
        return response

    # --- pages ------------------------------------------------------------------------------
    @router.get("", include_in_schema=False)
    @router.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        """The console starts at the conversation list."""
        return RedirectResponse(f"{_PREFIX}/conversations", status_code=303)

    def page_of(request: Request) -> dict[str, Any]:
        filters, form = _filters(request)
        synced = service.sync()
        after = Cursor.parse(request.query_params.get("after"))
        page = list_conversations(service.store, filters, limit=PAGE_SIZE, after=after)
        tags = service.reviews.tags_of([r.sender_id for r in page.rows])
        done = service.reviews.reviewed_of([r.sender_id for r in page.rows])
        reviewed = {r.sender_id: r.sender_id in done for r in page.rows}
        base = {k: v for k, v in form.items() if v}
        return {"filters": form, "page": page, "tags": tags, "reviewed": reviewed, "synced": synced,
                "tracker_ready": synced is not None, "all_tags": service.reviews.all_tags(),
                "next_url": f"?{urlencode({**base, 'after': str(page.next_cursor)})}" if page.next_cursor else "",
                "first_url": f"?{urlencode(base)}" if after else ""}

    @router.get("/conversations", response_class=HTMLResponse)
    def conversations(request: Request) -> Response:
        """The conversation list with its filters, newest activity first."""
        session = signed_in(request)
        if session is None:
            return to_login(request)
        return render(request, "list.html", {"session": session, **page_of(request)})

    @router.get("/api/conversations")
    def conversations_json(request: Request) -> Response:
        """The list as JSON (same filters and cursor as the page)."""
        if signed_in(request) is None:
            return refuse(401, "sign in first")
        data = page_of(request)
        page = data["page"]
        return JSONResponse({
            "total": page.total, "next": str(page.next_cursor) if page.next_cursor else None,
            "conversations": [{
                "sender_id": r.sender_id, "started_at": r.started_at, "last_at": r.last_at,
                "user_messages": r.user_messages, "recommendations": r.recommendations, "likes": r.likes,
                "dislikes": r.dislikes, "fallback": r.has_fallback, "handoff": r.has_handoff,
                "chosen": r.has_choice, "satisfied": r.satisfied, "tags": data["tags"][r.sender_id],
                "reviewed": data["reviewed"][r.sender_id],
            } for r in page.rows],
        })

    @router.get("/conversation", response_class=HTMLResponse)
    def conversation(request: Request, id: str = "") -> Response:
        """One conversation: its transcript, cards, intents, slots, and the team's review."""
        session = signed_in(request)
        if session is None:
            return to_login(request)
        stored = service.events_of(id)
        service.sync(check_erasures=not stored)
        if not stored:
            return render(request, "missing.html", {"session": session, "sender_id": id}, status_code=404)
        service.reviews.record_access(id, "opened", by=session.user_name)
        transcript = build_transcript(id, stored)
        return render(request, "transcript.html", {
            "session": session, "t": transcript, "summary": summary_of(service.store, id),
            "review": service.reviews.get(id), "error": request.query_params.get("error", ""),
            "quoted_id": quote(id, safe=""),
        })

    @router.get("/conversation/story")
    def export_story(request: Request, id: str = "") -> Response:
        """The conversation as a Rasa test story, downloaded as ``test_<id>.yml``."""
        session = signed_in(request)
        if session is None:
            return refuse(401, "sign in first")
        stored = service.events_of(id)
        if not stored:
            return refuse(404, "no such conversation (it may have been erased)")
        service.reviews.record_access(id, "exported", by=session.user_name)
        text = export_test_story(id, stored, featurized_slots=service.story_slots)
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in id)[:80] or "conversation"
        return Response(text, media_type="application/x-yaml; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="test_{safe}.yml"',
                                 "Cache-Control": "no-store"})

    def back_to(sender_id: str, error: str = "") -> RedirectResponse:
        query = {"id": sender_id, **({"error": error} if error else {})}
        return RedirectResponse(f"{_PREFIX}/conversation?{urlencode(query)}#review", status_code=303)

    @router.post("/conversation/tags")
    def add_tag(request: Request, id: str = "", tag: Annotated[str, Form()] = "",
                csrf_token: Annotated[str, Form()] = "") -> Response:
        """Add a tag."""
        checked = checked_post(request, csrf_token)
        if isinstance(checked, Response):
            return checked
        try:
            service.reviews.add_tag(id, tag, by=checked.user_name)
        except InvalidTagError as error:
            return back_to(id, str(error))
        return back_to(id)

    @router.post("/conversation/tags/remove")
    def remove_tag(request: Request, id: str = "", tag: Annotated[str, Form()] = "",
                   csrf_token: Annotated[str, Form()] = "") -> Response:
        """Remove a tag."""
        checked = checked_post(request, csrf_token)
        if isinstance(checked, Response):
            return checked
        service.reviews.remove_tag(id, tag, by=checked.user_name)
        return back_to(id)

    @router.post("/conversation/note")
    def save_note(request: Request, id: str = "", note: Annotated[str, Form()] = "",
                  csrf_token: Annotated[str, Form()] = "") -> Response:
        """Replace the note."""
        checked = checked_post(request, csrf_token)
        if isinstance(checked, Response):
            return checked
        service.reviews.set_note(id, note, by=checked.user_name)
        return back_to(id)

    @router.post("/conversation/reviewed")
    def set_reviewed(request: Request, id: str = "", reviewed: Annotated[str, Form()] = "",
                     csrf_token: Annotated[str, Form()] = "") -> Response:
        """Mark reviewed (``reviewed=1``) or not (``reviewed=0``)."""
        checked = checked_post(request, csrf_token)
        if isinstance(checked, Response):
            return checked
        service.reviews.set_reviewed(id, _flag(reviewed), by=checked.user_name)
        return back_to(id)

    @router.get("/audit", response_class=HTMLResponse)
    def audit(request: Request) -> Response:
        """Who opened or exported which conversation, and when; erased and purged conversations leave nothing."""
        session = signed_in(request)
        if session is None:
            return to_login(request)
        service.sync(check_erasures=True)
        return render(request, "audit.html", {"session": session, "entries": service.reviews.accesses(limit=500),
                                              "retention_days": config.retention_days})

    @router.get("/metrics", response_class=HTMLResponse)
    def metrics_page(request: Request) -> Response:
        """Conversations per day, acceptance, likes and dislikes, satisfaction, handoffs."""
        session = signed_in(request)
        if session is None:
            return to_login(request)
        service.sync()
        today = datetime.now(UTC).date()
        end = _date(request.query_params.get("end")) or today
        start = _date(request.query_params.get("start")) or end - timedelta(days=29)
        if start > end:
            start, end = end, start
        start = max(start, end - timedelta(days=366))
        figures = metrics(service.store, start, end)
        short = len(figures.per_day) <= 31
        charts = {
            "per_day": bar_chart([(d.day.strftime("%d %b") if short else d.day.isoformat(), d.conversations)
                                  for d in figures.per_day], title="Conversations per day"),
            "handoffs": bar_chart([(d.day.strftime("%d %b") if short else d.day.isoformat(), d.handoffs)
                                   for d in figures.per_day], title="Handoffs per day", css_class="bars handoff"),
            "acceptance": share_bar([("chose an item", figures.with_choice, "good"),
                                     ("chose nothing", figures.with_recommendations - figures.with_choice, "bad")],
                                    title="Recommendation acceptance"),
            "feedback": share_bar([("likes", figures.likes, "good"), ("dislikes", figures.dislikes, "bad")],
                                  title="Likes and dislikes"),
            "satisfaction": share_bar([("yes", figures.satisfied, "good"), ("no", figures.unsatisfied, "bad")],
                                      title="Did that solve your need?"),
        }
        try:
            definitions = load_experiments()
        except ExperimentError:
            definitions = {}
        experiments = reports_in(service.store, definitions)
        return render(request, "metrics.html", {"session": session, "m": figures, "charts": charts,
                                                "start": start.isoformat(), "end": end.isoformat(),
                                                "experiments": experiments})

    return router

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
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from store.experiments import ExperimentError, load_experiments, reports_in
from web.console.accounts import SessionInfo
from web.console.charts import bar_chart, share_bar
from web.console.review import InvalidTagError
from web.console.service import Console, ConsoleConfig
from web.console.summaries import ConversationFilter, Cursor, Metrics, list_conversations, metrics, summary_of
from web.console.transcripts import build_transcript, export_test_story

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


class _Pages:
    """What every console route shares: the services, the templates, and the answers they build.

    Args:
        config: where the data lives and whether the site is HTTPS.
        service: the console's services.
    """

    def __init__(self, config: ConsoleConfig, service: Console) -> None:
        self.config = config
        self.service = service
        self.templates = Jinja2Templates(directory=_TEMPLATES)
        self.templates.env.filters["when"] = _when
        self.templates.env.filters["clock"] = _clock

    def render(self, request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
        """A console template, kept out of caches (its frame and script rules are :mod:`web.security`'s)."""
        response = self.templates.TemplateResponse(request, f"console/{name}", context, status_code=status_code)
        response.headers["Cache-Control"] = "no-store"
        return response

    def signed_in(self, request: Request) -> SessionInfo | None:
        """The session of the request's cookie, or ``None``."""
        return self.service.accounts.session(request.cookies.get(SESSION_COOKIE))

    @staticmethod
    def to_login(request: Request) -> RedirectResponse:
        """Redirect to the login page, which comes back here after signing in."""
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"{_PREFIX}/login?{urlencode({'next': target})}", status_code=303)

    @staticmethod
    def refuse(status: int, detail: str) -> Response:
        """A JSON refusal (401, 403, 404) for posts and API calls."""
        return JSONResponse({"detail": detail}, status_code=status)

    def checked_post(self, request: Request, csrf_token: str | None) -> SessionInfo | Response:
        """The session of a form post with the right CSRF token, or the refusal to send instead."""
        session = self.signed_in(request)
        if session is None:
            return self.refuse(401, "sign in first")
        if not self.service.accounts.csrf_matches(session, csrf_token):
            return self.refuse(403, "the form token is missing or wrong; reload the page and try again")
        return session

    def set_cookie(self, response: Response, name: str, value: str, max_age: int) -> None:
        """Set a console cookie: HttpOnly, SameSite=Lax, Secure on HTTPS sites, scoped to the console."""
        response.set_cookie(name, value, max_age=max_age, path=_PREFIX, httponly=True, samesite="lax",
                            secure=self.config.https)

    def login_page(self, request: Request, *, error: str = "", status_code: int = 200, name: str = "",
                   next_url: str = "") -> HTMLResponse:
        """The sign-in form with a fresh pre-login CSRF token (kept in a short-lived cookie)."""
        token = secrets.token_urlsafe(24)
        response = self.render(request, "login.html", {"error": error, "csrf_token": token, "name": name,
                                                       "next": next_url}, status_code)
        self.set_cookie(response, PRELOGIN_COOKIE, token, 3600)
        return response

    def page_of(self, request: Request) -> dict[str, Any]:
        """One page of the conversation list, with tags, reviewed flags and the links to page on."""
        service = self.service
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


def _safe_next(target: str | None) -> str:
    """Where to go after signing in: a console path, never another site (else the conversation list)."""
    if target and target.startswith(f"{_PREFIX}/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{_PREFIX}/conversations"


def _back_to(sender_id: str, error: str = "") -> RedirectResponse:
    """Back to a conversation's review form, with the error to show there, if any."""
    query = {"id": sender_id, **({"error": error} if error else {})}
    return RedirectResponse(f"{_PREFIX}/conversation?{urlencode(query)}#review", status_code=303)


def _add_sign_in_routes(router: APIRouter, pages: _Pages) -> None:
    """``/login`` (form and post) and ``/logout``."""
    service = pages.service  # its stores are built on first use, so read them per request

    @router.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "") -> Response:
        """The sign-in form."""
        if pages.signed_in(request) is not None:
            return RedirectResponse(_safe_next(next), status_code=303)
        return pages.login_page(request, next_url=_safe_next(next))

    @router.post("/login")
    def login(request: Request, name: Annotated[str, Form()] = "", password: Annotated[str, Form()] = "",
              csrf_token: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "") -> Response:
        """Check the name and password; open a session or say no (slowly after failures)."""
        expected = request.cookies.get(PRELOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(expected.encode(), csrf_token.encode()):
            return pages.refuse(403, "the form token is missing or wrong; reload the login page")
        client = request.client.host if request.client else "unknown"
        result = service.accounts.login(name, password, client)
        if result.retry_after > 0:
            wait = int(result.retry_after + 0.999)
            page = pages.login_page(request, error=f"Too many failed attempts. Try again in {wait} s.",
                                    status_code=429, name=name, next_url=_safe_next(next))
            page.headers["Retry-After"] = str(wait)
            return page
        if not result.ok or result.token is None:
            logger.info("console: failed sign-in (next attempt allowed in %.0fs)", result.delay)
            return pages.login_page(request, error="Wrong name or password.", status_code=401, name=name,
                                    next_url=_safe_next(next))
        response = RedirectResponse(_safe_next(next), status_code=303)
        pages.set_cookie(response, SESSION_COOKIE, result.token, int(service.accounts.session_seconds))
        response.delete_cookie(PRELOGIN_COOKIE, path=_PREFIX)
        return response

    @router.post("/logout")
    def logout(request: Request, csrf_token: Annotated[str, Form()] = "") -> Response:
        """End the session."""
        checked = pages.checked_post(request, csrf_token)
        if isinstance(checked, Response):
            return checked
        service.accounts.logout(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse(f"{_PREFIX}/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path=_PREFIX, httponly=True, samesite="lax", secure=pages.config.https)
        return response


def _add_list_routes(router: APIRouter, pages: _Pages) -> None:
    """The console's start, the conversation list as a page and as JSON."""

    @router.get("", include_in_schema=False)
    @router.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        """The console starts at the conversation list."""
        return RedirectResponse(f"{_PREFIX}/conversations", status_code=303)

    @router.get("/conversations", response_class=HTMLResponse)
    def conversations(request: Request) -> Response:
        """The conversation list with its filters, newest activity first."""
        session = pages.signed_in(request)
        if session is None:
            return pages.to_login(request)
        return pages.render(request, "list.html", {"session": session, **pages.page_of(request)})

    @router.get("/api/conversations")
    def conversations_json(request: Request) -> Response:
        """The list as JSON (same filters and cursor as the page)."""
        if pages.signed_in(request) is None:
            return pages.refuse(401, "sign in first")
        data = pages.page_of(request)
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


def _add_conversation_routes(router: APIRouter, pages: _Pages) -> None:
    """One conversation: its page and its export as a Rasa test story."""
    service = pages.service

    @router.get("/conversation", response_class=HTMLResponse)
    def conversation(request: Request, id: str = "") -> Response:
        """One conversation: its transcript, cards, intents, slots, and the team's review."""
        session = pages.signed_in(request)
        if session is None:
            return pages.to_login(request)
        stored = service.events_of(id)
        service.sync(check_erasures=not stored)
        if not stored:
            return pages.render(request, "missing.html", {"session": session, "sender_id": id}, status_code=404)
        service.reviews.record_access(id, "opened", by=session.user_name)
        transcript = build_transcript(id, stored)
        return pages.render(request, "transcript.html", {
            "session": session, "t": transcript, "summary": summary_of(service.store, id),
            "review": service.reviews.get(id), "error": request.query_params.get("error", ""),
            "quoted_id": quote(id, safe=""),
        })

    @router.get("/conversation/story")
    def export_story(request: Request, id: str = "") -> Response:
        """The conversation as a Rasa test story, downloaded as ``test_<id>.yml``."""
        session = pages.signed_in(request)
        if session is None:
            return pages.refuse(401, "sign in first")
        stored = service.events_of(id)
        if not stored:
            return pages.refuse(404, "no such conversation (it may have been erased)")
        service.reviews.record_access(id, "exported", by=session.user_name)
        text = export_test_story(id, stored, featurized_slots=service.story_slots)
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in id)[:80] or "conversation"
        return Response(text, media_type="application/x-yaml; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="test_{safe}.yml"',
                                 "Cache-Control": "no-store"})


def _add_review_routes(router: APIRouter, pages: _Pages) -> None:
    """The review form's posts: tags, note, reviewed flag (each back to the conversation)."""
    service = pages.service

    @router.post("/conversation/tags")
    def add_tag(request: Request, id: str = "", tag: Annotated[str, Form()] = "",
                csrf_token: Annotated[str, Form()] = "") -> Response:
        """Add a tag."""
        checked = pages.checked_post(request, csrf_token)
        if isinstance(checked, Response):
            return checked
        try:
            service.reviews.add_tag(id, tag, by=checked.user_name)
        except InvalidTagError as error:
            return _back_to(id, str(error))
        return _back_to(id)

    @router.post("/conversation/tags/remove")
    def remove_tag(request: Request, id: str = "", tag: Annotated[str, Form()] = "",
                   csrf_token: Annotated[str, Form()] = "") -> Response:
        """Remove a tag."""
        checked = pages.checked_post(request, csrf_token)
        if isinstance(checked, Response):
            return checked
        service.reviews.remove_tag(id, tag, by=checked.user_name)
        return _back_to(id)

    @router.post("/conversation/note")
    def save_note(request: Request, id: str = "", note: Annotated[str, Form()] = "",
                  csrf_token: Annotated[str, Form()] = "") -> Response:
        """Replace the note."""
        checked = pages.checked_post(request, csrf_token)
        if isinstance(checked, Response):
            return checked
        service.reviews.set_note(id, note, by=checked.user_name)
        return _back_to(id)

    @router.post("/conversation/reviewed")
    def set_reviewed(request: Request, id: str = "", reviewed: Annotated[str, Form()] = "",
                     csrf_token: Annotated[str, Form()] = "") -> Response:
        """Mark reviewed (``reviewed=1``) or not (``reviewed=0``)."""
        checked = pages.checked_post(request, csrf_token)
        if isinstance(checked, Response):
            return checked
        service.reviews.set_reviewed(id, _flag(reviewed), by=checked.user_name)
        return _back_to(id)


def _metrics_period(request: Request) -> tuple[date, date]:
    """The metrics page's period: ``start``/``end`` from the query, else the last 30 days; a year at most."""
    today = datetime.now(UTC).date()
    end = _date(request.query_params.get("end")) or today
    start = _date(request.query_params.get("start")) or _days_before(end, 29)
    if start > end:
        start, end = end, start
    return max(start, _days_before(end, 366)), end


def _days_before(day: date, days: int) -> date:
    """``day`` less ``days`` days, or the calendar's first day (a link may ask for the year 1)."""
    return date.fromordinal(max(1, day.toordinal() - days))


def _metrics_charts(figures: Metrics) -> dict[str, str]:
    """The metrics page's SVG charts: conversations and handoffs per day, and three shares."""
    short = len(figures.per_day) <= 31

    def label(day: date) -> str:
        return day.strftime("%d %b") if short else day.isoformat()

    return {
        "per_day": bar_chart([(label(d.day), d.conversations) for d in figures.per_day],
                             title="Conversations per day"),
        "handoffs": bar_chart([(label(d.day), d.handoffs) for d in figures.per_day],
                              title="Handoffs per day", css_class="bars handoff"),
        "acceptance": share_bar([("chose an item", figures.with_choice, "good"),
                                 ("chose nothing", figures.with_recommendations - figures.with_choice, "bad")],
                                title="Recommendation acceptance"),
        "feedback": share_bar([("likes", figures.likes, "good"), ("dislikes", figures.dislikes, "bad")],
                              title="Likes and dislikes"),
        "satisfaction": share_bar([("yes", figures.satisfied, "good"), ("no", figures.unsatisfied, "bad")],
                                  title="Did that solve your need?"),
    }


def _add_report_routes(router: APIRouter, pages: _Pages) -> None:
    """The audit of console accesses and the metrics page."""
    service = pages.service

    @router.get("/audit", response_class=HTMLResponse)
    def audit(request: Request) -> Response:
        """Who opened or exported which conversation, and when; erased and purged conversations leave nothing."""
        session = pages.signed_in(request)
        if session is None:
            return pages.to_login(request)
        service.sync(check_erasures=True)
        return pages.render(request, "audit.html", {"session": session,
                                                    "entries": service.reviews.accesses(limit=500),
                                                    "retention_days": pages.config.retention_days})

    @router.get("/metrics", response_class=HTMLResponse)
    def metrics_page(request: Request) -> Response:
        """Conversations per day, acceptance, likes and dislikes, satisfaction, handoffs."""
        session = pages.signed_in(request)
        if session is None:
            return pages.to_login(request)
        service.sync()
        start, end = _metrics_period(request)
        figures = metrics(service.store, start, end)
        try:
            definitions = load_experiments()
        except ExperimentError:
            definitions = {}
        experiments = reports_in(service.store, definitions)
        return pages.render(request, "metrics.html", {"session": session, "m": figures,
                                                      "charts": _metrics_charts(figures),
                                                      "start": start.isoformat(), "end": end.isoformat(),
                                                      "experiments": experiments})


def console_router(config: ConsoleConfig, console: Console | None = None) -> APIRouter:
    """The console's routes, to include in the app.

    Args:
        config: where the data lives and whether the site is HTTPS.
        console: the services to use (tests pass one with a fast password hasher); built from
            ``config`` on first use when ``None``.
    """
    pages = _Pages(config, console or Console(config))
    router = APIRouter(prefix=_PREFIX, include_in_schema=False)
    _add_sign_in_routes(router, pages)
    _add_list_routes(router, pages)
    _add_conversation_routes(router, pages)
    _add_review_routes(router, pages)
    _add_report_routes(router, pages)
    return router

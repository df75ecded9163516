"""Properties of the review console's filters and tags: any query or form gives a page, never a 500.

The console reads its list filters, cursor and metrics period from the query string and tags
from a form (``web/console/routes.py``, ``summaries.py``, ``review.py``). Signed-in staff type
them, and a link can carry anything; every value must give a page (a filter it cannot use is
ignored) or a named refusal (``InvalidTagError``), and a refused tag stores nothing.
"""

from __future__ import annotations

import functools
import re
import string
import tempfile
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import Request

from store.db import create_schema, make_engine
from store.errors import InvalidTagError
from store.models import ConversationReview, ConversationTag
from tests.properties_support import messy_text, scaled
from tests.test_console_events import sample
from web.console import Console, console_router
from web.console.accounts import AccountStore
from web.console.review import TAG_PATTERN, ReviewStore, normalise_tag
from web.console.routes import _filters, _metrics_period
from web.console.service import ConsoleConfig
from web.console.summaries import ConversationFilter, Cursor, list_conversations, metrics

PASSWORD = "correct horse battery"

#: Dates as a query string may give them, the calendar's ends included.
dates = st.one_of(st.dates(), st.sampled_from([date.min, date.max, date(1970, 1, 1), date(2026, 9, 21)]))
#: Query values: dates in ISO form, flags, tags, cursors, and any text.
query_values = st.one_of(
    messy_text, dates.map(date.isoformat), st.sampled_from(["1", "on", "yes", "no", "true", "", "0"]),
    st.tuples(st.floats(), st.integers()).map(lambda cursor: f"{cursor[0]!r}_{cursor[1]}"),
    st.integers(min_value=2**63, max_value=2**80).map(lambda ident: f"1790000000.0_{ident}"),
)
queries = st.dictionaries(st.sampled_from(["start", "end", "disliked", "fallback", "handoff", "nothing_chosen", "tag",
                                           "reviewed", "q", "after", "other"]), query_values, max_size=6)
tags = st.one_of(messy_text, st.text(alphabet=string.ascii_letters + string.digits + "-_ \t", max_size=45))


def _request(query: dict[str, str]) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/console/conversations", "headers": [],
                    "query_string": urlencode(query).encode()})


@given(tags)
def test_a_tag_is_normalised_or_refused_by_name(tag: str) -> None:
    try:
        cleaned = normalise_tag(tag)
    except InvalidTagError as error:
        assert repr(tag) in str(error)
        return
    assert TAG_PATTERN.fullmatch(cleaned) and normalise_tag(cleaned) == cleaned


@functools.cache
def _store() -> ReviewStore:
    engine = make_engine("sqlite://")
    create_schema(engine)
    return ReviewStore(engine)


def _stored(reviews: ReviewStore, sender_id: str) -> tuple[int, int]:
    with Session(reviews.engine) as session:
        return (int(session.scalar(select(func.count()).select_from(ConversationTag)
                                   .where(ConversationTag.sender_id == sender_id)) or 0),
                int(session.scalar(select(func.count()).select_from(ConversationReview)
                                   .where(ConversationReview.sender_id == sender_id)) or 0))


@given(messy_text, tags)
@example("c-1", "Wrong budget")
def test_a_refused_tag_stores_nothing_and_an_added_one_can_be_removed(sender_id: str, tag: str) -> None:
    reviews = _store()
    before = _stored(reviews, sender_id)
    try:
        state = reviews.add_tag(sender_id, tag, by="ana")
    except InvalidTagError:
        assert _stored(reviews, sender_id) == before
        reviews.remove_tag(sender_id, tag, by="ana")
        assert _stored(reviews, sender_id) == before
        return
    assert normalise_tag(tag) in state.tags
    assert normalise_tag(tag) not in reviews.remove_tag(sender_id, tag, by="ana").tags


@functools.cache
def _summaries() -> tuple[Any, Any]:
    """Our database with the summaries of the five sample conversations (built once)."""
    folder = Path(tempfile.mkdtemp(prefix="shopkeeper-console-"))
    sample(folder / "tracker.db")
    config = ConsoleConfig(f"sqlite:///{folder / 'shop.db'}", f"sqlite:///{folder / 'tracker.db'}",
                           erasure_check_seconds=0)
    engine = make_engine(config.store_url)
    create_schema(engine)
    console = Console(config, accounts=AccountStore(engine, hasher=PasswordHasher(time_cost=1, memory_cost=1024,
                                                                                 parallelism=1)))
    console.sync()
    return config, console


@given(queries)
@example({"end": "9999-12-31"})
@example({"after": "1790000000.0_" + "9" * 30})
def test_any_list_query_gives_a_page(query: dict[str, str]) -> None:
    _, console = _summaries()
    filters, form = _filters(_request(query))
    page = list_conversations(console.store, filters, after=Cursor.parse(query.get("after")))
    assert page.total is not None and len(page.rows) <= page.total <= 5
    assert all(isinstance(value, str) for value in form.values())


@given(st.one_of(st.none(), dates), st.one_of(st.none(), dates), st.one_of(st.none(), tags), st.one_of(st.none(),
                                                                                                   messy_text))
@example(date.max, date.max, None, None)
def test_any_filter_gives_a_page(start: date | None, end: date | None, tag: str | None, text: str | None) -> None:
    _, console = _summaries()
    page = list_conversations(console.store, ConversationFilter(start=start, end=end, tag=tag, text=text))
    assert page.total == len(page.rows)


@given(st.dictionaries(st.sampled_from(["start", "end"]), query_values, max_size=2))
@example({"end": "0001-01-01"})
@example({"start": "9999-12-31", "end": "9999-12-31"})
def test_any_metrics_period_gives_figures(query: dict[str, str]) -> None:
    _, console = _summaries()
    start, end = _metrics_period(_request(query))
    assert start <= end and (end - start).days <= 366
    figures = metrics(console.store, start, end)
    assert len(figures.per_day) == (end - start).days + 1


@functools.cache
def _signed_in() -> tuple[TestClient, str]:
    """A signed-in client of the console app, and its form token."""
    config, _ = _summaries()
    engine = make_engine(config.store_url)
    accounts = AccountStore(engine, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    accounts.add_user("ana", PASSWORD)
    app = FastAPI()
    app.include_router(console_router(config, Console(config, accounts=accounts)))
    client = TestClient(app, follow_redirects=False)

    def form_token(page: str) -> str:
        found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text)
        assert found
        return found.group(1)

    signed = client.post("/console/login", data={"name": "ana", "password": PASSWORD,
                                                 "csrf_token": form_token("/console/login")})
    assert signed.status_code == 303
    return client, form_token("/console/conversations")


@scaled(0.5)
@given(st.sampled_from(["/console/conversations", "/console/api/conversations", "/console/metrics"]), queries)
@example("/console/metrics", {"start": "0001-01-01", "end": "0001-01-02"})
def test_any_console_query_is_answered(path: str, query: dict[str, str]) -> None:
    client, _ = _signed_in()
    answer = client.get(path, params=query)
    assert answer.status_code == 200, answer.text[:300]


@scaled(0.5)
@given(tags)
def test_a_tag_form_is_answered_and_a_refused_tag_stores_nothing(tag: str) -> None:
    client, csrf_token = _signed_in()
    _, console = _summaries()
    before = _stored(console.reviews, "c-happy")
    answer = client.post("/console/conversation/tags?id=c-happy", data={"tag": tag, "csrf_token": csrf_token})
    assert answer.status_code == 303
    if "error=" in answer.headers["location"]:
        assert _stored(console.reviews, "c-happy") == before
    else:
        assert normalise_tag(tag) in console.reviews.get("c-happy").tags

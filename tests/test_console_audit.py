"""The console's access audit: who opened which conversation and when; forgotten or purged customers leave nothing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.db import make_engine
from store.models import ConsoleAccess, ConversationReview, ConversationSummary, ConversationTag
from store.retention import purge
from tests.test_console import Setup, csrf, make_setup, senders, sign_in
from tests.test_console_events import DAY, T0, erase


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return make_setup(tmp_path)


def audit_rows(html: str) -> list[tuple[str, str, str]]:
    """(who, what, conversation) of each row of the audit page, newest first."""
    rows = re.findall(r'<tr data-testid="audit-row">\s*<td>[^<]*</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*'
                      r'<td><a href="[^"]*">([^<]*)</a></td>', html)
    return [(who, what, sender) for who, what, sender in rows]


def left_in_console(setup: Setup, sender: str) -> int:
    engine = make_engine(f"sqlite:///{setup.shop_db}")
    try:
        with Session(engine) as session:
            return sum(int(session.scalar(select(func.count()).select_from(model).where(model.sender_id == sender))
                           or 0) for model in (ConsoleAccess, ConversationSummary, ConversationReview,
                                               ConversationTag))
    finally:
        engine.dispose()


def test_opening_and_exporting_are_audited_and_shown_to_console_users(setup: Setup) -> None:
    client = setup.client
    assert client.get("/console/audit").headers["location"].startswith("/console/login")
    sign_in(client)
    assert 'data-testid="audit-empty"' in client.get("/console/audit").text
    before = datetime.now(UTC) - timedelta(seconds=5)
    assert client.get("/console/conversation?id=c-happy").status_code == 200
    assert client.get("/console/conversation/story?id=c-handoff").status_code == 200
    assert client.get("/console/conversation?id=c-nobody").status_code == 404  # nothing opened, nothing logged
    page = client.get("/console/audit")
    assert page.status_code == 200 and 'data-testid="nav-audit"' in page.text
    assert audit_rows(page.text) == [("ana", "exported", "c-handoff"), ("ana", "opened", "c-happy")]
    stamps = re.findall(r'<tr data-testid="audit-row">\s*<td>([^<]*)</td>', page.text)
    assert all(datetime.strptime(s, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC) >= before.replace(microsecond=0)
               for s in stamps)


def test_a_forgotten_customer_leaves_nothing_in_the_console(setup: Setup) -> None:
    client = setup.client
    sign_in(client)
    client.get("/console/conversation?id=c-happy")
    client.post("/console/conversation/tags?id=c-happy", data={"tag": "follow-up", "csrf_token": csrf(client)})
    assert left_in_console(setup, "c-happy") >= 3
    erase(setup.tracker_db, "c-happy")  # what "forget me" does to the tracker store
    assert audit_rows(client.get("/console/audit").text) == []
    assert "c-happy" not in senders(client.get("/console/conversations").text)
    assert left_in_console(setup, "c-happy") == 0


def test_a_purged_conversation_leaves_nothing_in_the_console(setup: Setup) -> None:
    client = setup.client
    sign_in(client)
    for sender in ("c-happy", "c-html"):
        client.get(f"/console/conversation?id={sender}")
    store, tracker = make_engine(f"sqlite:///{setup.shop_db}"), make_engine(f"sqlite:///{setup.tracker_db}")
    # 90 days after the fourth of five daily conversations: the first four are past retention
    report = purge(store, tracker, retention_days=90,
                   now=datetime.fromtimestamp(T0 + 3.5 * DAY, UTC) + timedelta(days=90))
    assert (report.conversations, report.summaries) == (4, 4)
    assert audit_rows(client.get("/console/audit").text) == [("ana", "opened", "c-html")]
    assert senders(client.get("/console/conversations").text) == ["c-html"]
    assert left_in_console(setup, "c-happy") == 0
    store.dispose()
    tracker.dispose()

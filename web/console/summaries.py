"""Per-conversation summaries of Rasa's tracker store: kept in step, filtered, paged, counted.

Reading every event of every conversation on each request would not scale, so the
review console keeps one :class:`~store.models.ConversationSummary` row per
conversation in our database and folds into it only the events stored since the
last sync (``events.id`` greater than the last one read)::

    sync_summaries(tracker_engine, store_engine)   # cheap when nothing is new
    page = list_conversations(store_engine, ConversationFilter(fallback=True), limit=50)
    page.next_cursor                               # keyset pagination: (last_at, id) of the last row

Erasures ("forget me" deletes a sender's events) are noticed because the tracker
store then holds fewer events up to the last id read than the summaries account
for; the summaries of senders with no events left are deleted together with their
tags and notes, and senders whose count changed are rebuilt from their events.
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, and_, delete, exists, func, or_, select
from sqlalchemy.orm import Session

from retrieval.contract import ActionName, Awaiting, RasaAction, SlotName, recommendations_in
from store.models import ConversationReview, ConversationSummary, ConversationTag, SyncState
from store.retention import forget_reviews
from store.tracker import events

__all__ = [
    "FALLBACK_ACTIONS",
    "ConversationFilter",
    "ConversationPage",
    "Cursor",
    "DayCount",
    "Metrics",
    "SyncReport",
    "apply_event",
    "list_conversations",
    "metrics",
    "recommendation_of",
    "sync_summaries",
]

#: Actions that mean the assistant did not understand. The rephrase prompt is said by
#: ``action_shop``, which answers every shopping move, so that one is recognised by its
#: intent (:data:`FALLBACK_INTENTS`), not by the action.
FALLBACK_ACTIONS = frozenset({RasaAction.DEFAULT_FALLBACK, RasaAction.TWO_STAGE_FALLBACK})
FALLBACK_INTENTS = frozenset({"nlu_fallback"})
HANDOFF_ACTIONS = frozenset({ActionName.HANDOFF})
HANDOFF_INTENTS = frozenset({"human_handoff"})
_SEARCH_TEXT_LIMIT = 20_000
_lock = threading.Lock()


def recommendation_of(bot_data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The recommendation payload of a ``bot`` event's data, in either shape, or ``None``.

    Actions send ``{"data": {"type": "recommendations", …}}`` (see :mod:`retrieval.contract`);
    an unwrapped payload is accepted too.

    >>> recommendation_of({"data": {"custom": {"data": {"type": "recommendations", "items": []}}}})
    {'type': 'recommendations', 'items': []}
    >>> recommendation_of({"data": {"custom": None}}) is None
    True
    """
    return recommendations_in((bot_data.get("data") or {}).get("custom"))


def _intent_of(data: Mapping[str, Any]) -> str | None:
    intent = (data.get("parse_data") or {}).get("intent") or {}
    name = intent.get("name")
    return str(name) if name else None


def apply_event(summary: ConversationSummary, event_id: int, type_name: str, timestamp: float,
                data: Mapping[str, Any]) -> None:
    """Fold one tracker event into a conversation's summary (events must come in id order)."""
    state = dict(summary.fold_state or {})
    summary.event_count = (summary.event_count or 0) + 1
    summary.last_event_id = max(summary.last_event_id or 0, event_id)
    if timestamp:
        summary.started_at = min(summary.started_at or timestamp, timestamp)
        summary.last_at = max(summary.last_at or timestamp, timestamp)
    if type_name == "user":
        summary.user_messages = (summary.user_messages or 0) + 1
        text = str(data.get("text") or "")
        intent = _intent_of(data)
        if text and not summary.first_message:
            summary.first_message = text[:200]
        if text and len(summary.search_text or "") < _SEARCH_TEXT_LIMIT:
            summary.search_text = f"{summary.search_text or ''}\n{text.lower()}"[:_SEARCH_TEXT_LIMIT]
        if intent in FALLBACK_INTENTS:
            summary.has_fallback = True
        if intent in HANDOFF_INTENTS:
            summary.has_handoff = True
        if state.get(SlotName.AWAITING) == Awaiting.SATISFACTION and intent in ("affirm", "deny"):
            summary.satisfied = intent == "affirm"
    elif type_name == "action":
        name = data.get("name")
        if name in FALLBACK_ACTIONS:
            summary.has_fallback = True
        if name in HANDOFF_ACTIONS:
            summary.has_handoff = True
    elif type_name == "bot":
        summary.bot_messages = (summary.bot_messages or 0) + 1
        if recommendation_of(data) is not None:
            summary.recommendations = (summary.recommendations or 0) + 1
    elif type_name == "slot":
        name, value = data.get("name"), data.get("value")
        if name == SlotName.AWAITING:
            state[SlotName.AWAITING] = value
            if value == Awaiting.SATISFACTION:  # set by action_shop once an item was chosen
                summary.has_choice = True
        elif name in (SlotName.LIKED_ITEMS, SlotName.REJECTED_ITEMS):
            size = len(value) if isinstance(value, list) else 0
            grown = size - int(state.get(name, 0))
            if grown > 0:
                if name == SlotName.LIKED_ITEMS:
                    summary.likes = (summary.likes or 0) + grown
                else:
                    summary.dislikes = (summary.dislikes or 0) + grown
            state[name] = size
    elif type_name == "session_started":  # a new session starts with empty slots
        state = {}
    summary.fold_state = state


def _new_summary(sender_id: str) -> ConversationSummary:
    return ConversationSummary(
        sender_id=sender_id, started_at=0.0, last_at=0.0, event_count=0, last_event_id=0, user_messages=0,
        bot_messages=0, recommendations=0, likes=0, dislikes=0, has_fallback=False, has_handoff=False,
        has_choice=False, satisfied=None, first_message="", search_text="", fold_state={},
    )


def _decode(raw: str | None) -> dict[str, Any]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@dataclass(frozen=True)
class SyncReport:
    """What one sync did.

    Attributes:
        events_read: new events folded in.
        conversations_updated: summaries created or changed by them.
        erased: conversations whose events are gone (summaries, tags and notes deleted).
        rebuilt: conversations whose events changed other than by appending (summaries refolded).
        last_event_id: the tracker store's last event id now accounted for.
    """

    events_read: int = 0
    conversations_updated: int = 0
    erased: tuple[str, ...] = ()
    rebuilt: tuple[str, ...] = ()
    last_event_id: int = 0


def _fold_rows(session: Session, rows: Sequence[Any]) -> int:
    by_sender: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_sender[row.sender_id].append(row)
    existing = {s.sender_id: s for s in session.scalars(
        select(ConversationSummary).where(ConversationSummary.sender_id.in_(list(by_sender))))}
    for sender_id, sender_rows in by_sender.items():
        summary = existing.get(sender_id)
        if summary is None:
            summary = _new_summary(sender_id)
            session.add(summary)
        for row in sender_rows:
            apply_event(summary, row.id, row.type_name, row.timestamp or 0.0, _decode(row.data))
    return len(by_sender)


def sync_summaries(tracker: Engine, store: Engine, *, batch: int = 5000, check_erasures: bool = True) -> SyncReport:
    """Bring the summaries up to date with the tracker store.

    Reads only events with an id above the last one read, in batches of ``batch``; then
    (with ``check_erasures``) compares the number of events up to that id with the number
    accounted for, and only when they differ (an erasure, or rows committed out of id
    order) looks at each sender. That count is the one cost that grows with the tracker
    store (about 30 ms for 250,000 events on SQLite), so callers may skip it on most syncs.

    Args:
        tracker: an engine on Rasa's tracker store (its ``events`` table).
        store: an engine on our database (schema created).
        batch: events read per query.
        check_erasures: whether to look for erased conversations.

    Returns:
        What changed.
    """
    with _lock, Session(store) as session, session.begin():
        state = session.get(SyncState, 1, with_for_update=True)
        if state is None:
            state = SyncState(id=1, last_event_id=0, events_seen=0)
            session.add(state)
        read = updated = 0
        with tracker.connect() as connection:
            while True:
                rows = connection.execute(
                    select(events.c.id, events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)
                    .where(events.c.id > state.last_event_id).order_by(events.c.id).limit(batch)
                ).all()
                if not rows:
                    break
                updated += _fold_rows(session, rows)
                read += len(rows)
                state.last_event_id = rows[-1].id
                state.events_seen += len(rows)
                session.flush()
            erased: list[str] = []
            rebuilt: list[str] = []
            stored = state.events_seen
            if check_erasures:
                stored = int(connection.scalar(
                    select(func.count()).select_from(events).where(events.c.id <= state.last_event_id)) or 0)
            if stored != state.events_seen:
                erased, rebuilt = _reconcile(session, connection, state.last_event_id)
                state.events_seen = stored
        return SyncReport(read, updated, tuple(erased), tuple(rebuilt), state.last_event_id)


def _reconcile(session: Session, connection: Any, last_event_id: int) -> tuple[list[str], list[str]]:
    counts = dict(connection.execute(
        select(events.c.sender_id, func.count()).where(events.c.id <= last_event_id).group_by(events.c.sender_id)
    ).all())
    known = dict(session.execute(select(ConversationSummary.sender_id, ConversationSummary.event_count)).all())
    erased = sorted(s for s in known if s not in counts)
    changed = sorted(s for s, n in counts.items() if known.get(s) != n)
    if erased:
        session.execute(delete(ConversationSummary).where(ConversationSummary.sender_id.in_(erased)))
        forget_reviews(session, erased)
    for sender_id in changed:
        session.execute(delete(ConversationSummary).where(ConversationSummary.sender_id == sender_id))
        session.flush()
        rows = connection.execute(
            select(events.c.id, events.c.sender_id, events.c.type_name, events.c.timestamp, events.c.data)
            .where(events.c.sender_id == sender_id, events.c.id <= last_event_id).order_by(events.c.id)
        ).all()
        _fold_rows(session, rows)
    session.flush()
    return erased, changed


# ---------------------------------------------------------------------------------------- list


def _day_start(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def _day_end(day: date) -> float:
    """Where ``day`` ends (UTC): the next day's start, counted in seconds so that 9999-12-31 has an end too."""
    return _day_start(day) + 86400.0


@dataclass(frozen=True)
class ConversationFilter:
    """Which conversations to list. Every criterion given must hold.

    Attributes:
        start: only conversations active on or after this day (UTC).
        end: only conversations started on or before this day (UTC).
        disliked: only those where an item was disliked.
        fallback: only those where the assistant did not understand (rephrase prompt or fallback).
        handoff: only those where the customer asked for a person.
        nothing_chosen: only those where no item was chosen.
        tag: only those with this tag.
        reviewed: only reviewed (``True``) or not yet reviewed (``False``) ones.
        text: only those where the customer's messages contain every word of this.
    """

    start: date | None = None
    end: date | None = None
    disliked: bool = False
    fallback: bool = False
    handoff: bool = False
    nothing_chosen: bool = False
    tag: str | None = None
    reviewed: bool | None = None
    text: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The SQL conditions on :class:`ConversationSummary` (and reviews and tags)."""
        c = ConversationSummary
        found: list[ColumnElement[bool]] = []
        if self.start:
            found.append(c.last_at >= _day_start(self.start))
        if self.end:
            found.append(c.started_at < _day_end(self.end))
        if self.disliked:
            found.append(c.dislikes > 0)
        if self.fallback:
            found.append(c.has_fallback.is_(True))
        if self.handoff:
            found.append(c.has_handoff.is_(True))
        if self.nothing_chosen:
            found.append(c.has_choice.is_(False))
        if self.tag:
            found.append(exists().where(ConversationTag.sender_id == c.sender_id,
                                        ConversationTag.tag == self.tag.strip().lower()))
        if self.reviewed is not None:
            done = exists().where(ConversationReview.sender_id == c.sender_id,
                                  ConversationReview.reviewed.is_(True))
            found.append(done if self.reviewed else ~done)
        for word in (self.text or "").lower().split()[:8]:
            found.append(c.search_text.contains(word, autoescape=True))
        return found


@dataclass(frozen=True, order=True)
class Cursor:
    """Where a page ends: the (``last_at``, ``id``) of its last row, newest first.

    >>> Cursor.parse(str(Cursor(1700000000.5, 42)))
    Cursor(last_at=1700000000.5, id=42)
    >>> Cursor.parse("junk") is None
    True
    """

    last_at: float
    id: int

    def __str__(self) -> str:
        return f"{self.last_at!r}_{self.id}"

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        """Read a cursor from a query parameter; ``None`` when absent or malformed.

        A cursor the database could not hold (an id past 64 bits, a time that is no number) is malformed.

        >>> Cursor.parse("1700000000.5_9223372036854775808"), Cursor.parse("nan_1")
        (None, None)
        """
        if not text or "_" not in text:
            return None
        at, _, ident = text.rpartition("_")
        try:
            cursor = cls(float(at), int(ident))
        except ValueError:
            return None
        return cursor if math.isfinite(cursor.last_at) and 0 <= cursor.id < 2**63 else None


@dataclass(frozen=True)
class ConversationPage:
    """One page of the list, newest activity first.

    Attributes:
        rows: the summaries (detached from any session).
        next_cursor: pass it to get the following page; ``None`` on the last page.
        total: how many conversations match (when counted).
    """

    rows: list[ConversationSummary]
    next_cursor: Cursor | None
    total: int | None = None


def list_conversations(engine: Engine, filters: ConversationFilter | None = None, *, limit: int = 50,
                       after: Cursor | None = None, count: bool = True) -> ConversationPage:
    """A page of conversation summaries matching the filters, newest activity first.

    Keyset pagination on the ``(last_at, id)`` index: a deep page costs the same as the first.
    """
    filters = filters or ConversationFilter()
    limit = max(1, min(limit, 200))
    c = ConversationSummary
    conditions = filters.conditions()
    query = select(c).where(*conditions)
    if after is not None:
        query = query.where(or_(c.last_at < after.last_at, and_(c.last_at == after.last_at, c.id < after.id)))
    query = query.order_by(c.last_at.desc(), c.id.desc()).limit(limit + 1)
    with Session(engine, expire_on_commit=False) as session:
        rows = list(session.scalars(query))
        total = int(session.scalar(select(func.count()).select_from(c).where(*conditions)) or 0) if count else None
        session.expunge_all()
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = Cursor(rows[-1].last_at, rows[-1].id) if more and rows else None
    return ConversationPage(rows, cursor, total)


def summary_of(engine: Engine, sender_id: str) -> ConversationSummary | None:
    """The summary of one conversation, or ``None``."""
    with Session(engine, expire_on_commit=False) as session:
        found = session.scalar(select(ConversationSummary).where(ConversationSummary.sender_id == sender_id))
        session.expunge_all()
        return found


# ------------------------------------------------------------------------------------- metrics


@dataclass(frozen=True)
class DayCount:
    """Conversations started on one day (UTC)."""

    day: date
    conversations: int
    handoffs: int


@dataclass
class Metrics:
    """Figures of the metrics page over a date range.

    Attributes:
        conversations: conversations started in the range.
        with_recommendations: those that were shown cards.
        with_choice: those where an item was chosen.
        likes: 👍 given; dislikes: 👎 given.
        satisfied: "yes, that solved it" answers; unsatisfied: "no" answers.
        handoffs: conversations where the customer asked for a person.
        fallbacks: conversations where the assistant did not understand.
        per_day: one entry per day of the range, days without conversations included.
    """

    conversations: int = 0
    with_recommendations: int = 0
    with_choice: int = 0
    likes: int = 0
    dislikes: int = 0
    satisfied: int = 0
    unsatisfied: int = 0
    handoffs: int = 0
    fallbacks: int = 0
    per_day: list[DayCount] = field(default_factory=list)

    @property
    def acceptance(self) -> float | None:
        """Conversations with a choice over conversations with recommendations (``None`` if none)."""
        return self.with_choice / self.with_recommendations if self.with_recommendations else None

    @property
    def like_share(self) -> float | None:
        """Likes over all feedback (``None`` without feedback)."""
        total = self.likes + self.dislikes
        return self.likes / total if total else None

    @property
    def satisfaction(self) -> float | None:
        """"Yes" over all answers to the satisfaction question (``None`` without answers)."""
        total = self.satisfied + self.unsatisfied
        return self.satisfied / total if total else None


def metrics(engine: Engine, start: date, end: date) -> Metrics:
    """Count what happened in conversations started between ``start`` and ``end`` (inclusive, UTC)."""
    c = ConversationSummary
    lo, hi = _day_start(start), _day_end(end)
    query = select(c.started_at, c.recommendations, c.has_choice, c.likes, c.dislikes, c.satisfied,
                   c.has_handoff, c.has_fallback).where(c.started_at >= lo, c.started_at < hi)
    result = Metrics()
    days: Counter[date] = Counter()
    handoff_days: Counter[date] = Counter()
    with Session(engine) as session:
        for started, recs, chose, likes, dislikes, satisfied, handoff, fallback in session.execute(query):
            day = datetime.fromtimestamp(started, UTC).date()
            days[day] += 1
            result.conversations += 1
            result.with_recommendations += recs > 0
            result.with_choice += bool(chose and recs > 0)
            result.likes += likes
            result.dislikes += dislikes
            result.satisfied += satisfied is True
            result.unsatisfied += satisfied is False
            result.handoffs += bool(handoff)
            handoff_days[day] += bool(handoff)
            result.fallbacks += bool(fallback)
    result.per_day = [DayCount(d, days[d], handoff_days[d]) for d in _days(start, end)]
    return result


def _days(start: date, end: date) -> Iterable[date]:
    for ordinal in range(start.toordinal(), end.toordinal() + 1):
        yield date.fromordinal(ordinal)

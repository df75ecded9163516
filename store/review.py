"""What the support team keeps about conversations: summaries, tags, notes, the reviewed flag.

::

    ConversationSummary   one row per conversation in Rasa's tracker store, folded from its
         │                events (see store.summaries); rebuilt at will, never edited by hand
         │ sender_id
    ConversationReview    reviewed flag and note, kept by the team
    ConversationTag       one row per (conversation, tag)
    ConsoleAccess         the audit: which console user opened or exported which conversation, when
    SyncState             how far the summaries have read the tracker store

Summaries, reviews and tags share the sender id, not a foreign key: a summary is
rebuilt from events while the team's notes stay. When a customer is forgotten
(their events erased) or purged, all of them, audit entries included, disappear together
(:func:`store.summaries.sync_summaries` and :func:`store.retention.purge` call
:meth:`ReviewStore.forget`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Engine, Float, Index, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from store.errors import InvalidTagError
from store.models import Base, utcnow

__all__ = [
    "TAG_PATTERN",
    "AccessEntry",
    "ConsoleAccess",
    "ConversationReview",
    "ConversationSummary",
    "ConversationTag",
    "InvalidTagError",
    "ReviewState",
    "ReviewStore",
    "SyncState",
    "normalise_tag",
]

#: A tag is short, lower case, and made of letters, digits, ``-`` and ``_``.
TAG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_NOTE_LENGTH = 5000


def normalise_tag(tag: str) -> str:
    """Lower-case and trim a tag, spaces becoming ``-``.

    >>> normalise_tag("  Wrong Budget ")
    'wrong-budget'

    Raises:
        InvalidTagError: when the result is empty or has other characters.
    """
    cleaned = re.sub(r"\s+", "-", tag.strip().lower())
    if not TAG_PATTERN.match(cleaned):
        raise InvalidTagError(tag)
    return cleaned


class ConversationSummary(Base):
    """What the list and its filters need about one conversation, kept up to date from events."""

    __tablename__ = "console_conversations"
    __table_args__ = (
        Index("ix_console_conv_last", "last_at", "id"),
        Index("ix_console_conv_started", "started_at"),
        Index("ix_console_conv_fallback", "has_fallback", "last_at"),
        Index("ix_console_conv_handoff", "has_handoff", "last_at"),
        Index("ix_console_conv_choice", "has_choice", "last_at"),
        Index("ix_console_conv_dislikes", "dislikes", "last_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(255), unique=True)
    #: Epoch seconds of the first and the latest event (Rasa's own clock).
    started_at: Mapped[float] = mapped_column(Float)
    last_at: Mapped[float] = mapped_column(Float)
    event_count: Mapped[int] = mapped_column(Integer, default=0)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    user_messages: Mapped[int] = mapped_column(Integer, default=0)
    bot_messages: Mapped[int] = mapped_column(Integer, default=0)
    recommendations: Mapped[int] = mapped_column(Integer, default=0)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    dislikes: Mapped[int] = mapped_column(Integer, default=0)
    has_fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    has_handoff: Mapped[bool] = mapped_column(Boolean, default=False)
    has_choice: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The answer to "did that solve your need?": ``None`` when not answered.
    satisfied: Mapped[bool | None] = mapped_column(Boolean, default=None)
    first_message: Mapped[str] = mapped_column(String(200), default="")
    #: Everything the customer typed, lower case, for the free-text search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    #: What the fold needs to carry between syncs (slot values it watches).
    fold_state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ConversationReview(Base):
    """The team's verdict on a conversation."""

    __tablename__ = "console_reviews"
    __table_args__ = (Index("ix_console_reviews_reviewed", "reviewed"),)

    sender_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str | None] = mapped_column(String(120), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ConversationTag(Base):
    """One tag on one conversation."""

    __tablename__ = "console_tags"
    __table_args__ = (Index("ix_console_tags_tag", "tag", "sender_id"),)

    sender_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    tag: Mapped[str] = mapped_column(String(40), primary_key=True)


class ConsoleAccess(Base):
    """One look at a conversation by a console user (the access audit)."""

    __tablename__ = "console_audit"
    __table_args__ = (Index("ix_console_audit_at", "at"), Index("ix_console_audit_sender", "sender_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    user_name: Mapped[str] = mapped_column(String(120))
    #: ``opened`` (the transcript) or ``exported`` (as a test story).
    action: Mapped[str] = mapped_column(String(20))
    sender_id: Mapped[str] = mapped_column(String(255))


@dataclass(frozen=True)
class AccessEntry:
    """One line of the access audit (``at`` in UTC)."""

    id: int
    at: datetime
    user_name: str
    action: str
    sender_id: str


class SyncState(Base):
    """How far the summaries have read Rasa's ``events`` table (a single row, ``id = 1``)."""

    __tablename__ = "console_sync"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    #: How many events the summaries account for; fewer in the tracker store means an erasure.
    events_seen: Mapped[int] = mapped_column(Integer, default=0)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


@dataclass(frozen=True)
class ReviewState:
    """The team's tags, note and reviewed flag for one conversation."""

    sender_id: str
    reviewed: bool
    note: str
    tags: tuple[str, ...]
    updated_by: str | None = None


class ReviewStore:
    """Tags, notes and the reviewed flag.

    Args:
        engine: an engine on our database (the schema must exist: ``create_schema``).

    >>> from store.db import create_schema, make_engine
    >>> reviews = ReviewStore(make_engine("sqlite://"))
    >>> create_schema(reviews.engine)
    >>> reviews.add_tag("c1", "Wrong budget", by="ana").tags
    ('wrong-budget',)
    >>> reviews.set_reviewed("c1", True, by="ana").reviewed
    True
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def get(self, sender_id: str) -> ReviewState:
        """The review of a conversation (an empty one when nothing was recorded)."""
        with Session(self.engine) as session:
            return self._state(session, sender_id)

    def set_reviewed(self, sender_id: str, reviewed: bool, *, by: str) -> ReviewState:
        """Mark a conversation reviewed or not."""
        with Session(self.engine) as session, session.begin():
            row = self._row(session, sender_id)
            row.reviewed, row.updated_by = reviewed, by
        return self.get(sender_id)

    def set_note(self, sender_id: str, note: str, *, by: str) -> ReviewState:
        """Replace the note (trimmed, at most 5,000 characters)."""
        with Session(self.engine) as session, session.begin():
            row = self._row(session, sender_id)
            row.note, row.updated_by = note.strip()[:MAX_NOTE_LENGTH], by
        return self.get(sender_id)

    def add_tag(self, sender_id: str, tag: str, *, by: str) -> ReviewState:
        """Add a tag (normalised; adding it twice is harmless).

        Raises:
            InvalidTagError: when the tag is not acceptable.
        """
        cleaned = normalise_tag(tag)
        with Session(self.engine) as session, session.begin():
            self._row(session, sender_id).updated_by = by
            if session.get(ConversationTag, (sender_id, cleaned)) is None:
                session.add(ConversationTag(sender_id=sender_id, tag=cleaned))
        return self.get(sender_id)

    def remove_tag(self, sender_id: str, tag: str, *, by: str) -> ReviewState:
        """Remove a tag if present."""
        with Session(self.engine) as session, session.begin():
            self._row(session, sender_id).updated_by = by
            session.execute(delete(ConversationTag).where(
                ConversationTag.sender_id == sender_id, ConversationTag.tag == tag.strip().lower()))
        return self.get(sender_id)

    def all_tags(self) -> list[str]:
        """Every tag in use, sorted."""
        with Session(self.engine) as session:
            return list(session.scalars(select(ConversationTag.tag).distinct().order_by(ConversationTag.tag)))

    def tags_of(self, sender_ids: list[str]) -> dict[str, list[str]]:
        """Tags of several conversations at once (for a page of the list)."""
        found: dict[str, list[str]] = {s: [] for s in sender_ids}
        if not sender_ids:
            return found
        with Session(self.engine) as session:
            rows = session.execute(select(ConversationTag.sender_id, ConversationTag.tag)
                                   .where(ConversationTag.sender_id.in_(sender_ids))
                                   .order_by(ConversationTag.tag))
            for sender_id, tag in rows:
                found[sender_id].append(tag)
        return found

    def reviewed_of(self, sender_ids: list[str]) -> set[str]:
        """Which of several conversations are marked reviewed (for a page of the list)."""
        if not sender_ids:
            return set()
        with Session(self.engine) as session:
            return set(session.scalars(select(ConversationReview.sender_id).where(
                ConversationReview.sender_id.in_(sender_ids), ConversationReview.reviewed.is_(True))))

    def record_access(self, sender_id: str, action: str, *, by: str) -> None:
        """Note in the audit that console user ``by`` opened (or exported) a conversation."""
        with Session(self.engine) as session, session.begin():
            session.add(ConsoleAccess(user_name=by[:120], action=action[:20], sender_id=sender_id[:255]))

    def accesses(self, *, limit: int = 200, sender_id: str | None = None) -> list[AccessEntry]:
        """The newest audit entries first, optionally of one conversation."""
        query = select(ConsoleAccess).order_by(ConsoleAccess.at.desc(), ConsoleAccess.id.desc()).limit(limit)
        if sender_id is not None:
            query = query.where(ConsoleAccess.sender_id == sender_id)
        with Session(self.engine) as session:
            return [AccessEntry(r.id, r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC), r.user_name, r.action,
                                r.sender_id) for r in session.scalars(query)]

    @staticmethod
    def forget(session: Session, sender_ids: list[str]) -> None:
        """Delete the reviews, tags and audit entries of erased conversations (inside the caller's transaction)."""
        if sender_ids:
            session.execute(delete(ConversationTag).where(ConversationTag.sender_id.in_(sender_ids)))
            session.execute(delete(ConversationReview).where(ConversationReview.sender_id.in_(sender_ids)))
            session.execute(delete(ConsoleAccess).where(ConsoleAccess.sender_id.in_(sender_ids)))

    @staticmethod
    def _row(session: Session, sender_id: str) -> ConversationReview:
        row = session.get(ConversationReview, sender_id)
        if row is None:
            row = ConversationReview(sender_id=sender_id, reviewed=False, note="")
            session.add(row)
        return row

    @staticmethod
    def _state(session: Session, sender_id: str) -> ReviewState:
        row = session.get(ConversationReview, sender_id)
        tags = tuple(session.scalars(select(ConversationTag.tag)
                                     .where(ConversationTag.sender_id == sender_id).order_by(ConversationTag.tag)))
        if row is None:
            return ReviewState(sender_id, False, "", tags)
        return ReviewState(sender_id, row.reviewed, row.note, tags, row.updated_by)

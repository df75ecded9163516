"""What the support team keeps about conversations: tags, notes, the reviewed flag, the access audit.

The tables (``ConversationReview``, ``ConversationTag``, ``ConsoleAccess``, beside the summaries'
``ConversationSummary`` and ``SyncState``) are declared with the rest of our schema in
:mod:`store.models`; this module is the console's logic over them.

Summaries, reviews and tags share the sender id, not a foreign key: a summary is
rebuilt from events while the team's notes stay. When a customer is forgotten
(their events erased) or purged, all of them, audit entries included, disappear together
(:func:`web.console.summaries.sync_summaries` and :func:`store.retention.purge` call
:func:`store.retention.forget_reviews`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from store.errors import InvalidTagError
from store.models import ConsoleAccess, ConversationReview, ConversationTag

__all__ = [
    "TAG_PATTERN",
    "AccessEntry",
    "InvalidTagError",
    "ReviewState",
    "ReviewStore",
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


@dataclass(frozen=True)
class AccessEntry:
    """One line of the access audit (``at`` in UTC)."""

    id: int
    at: datetime
    user_name: str
    action: str
    sender_id: str


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
        """Remove a tag if present (said as it was added: ``"Wrong budget"`` removes ``wrong-budget``).

        A tag that could never have been added removes nothing and records nothing.
        """
        try:
            cleaned = normalise_tag(tag)
        except InvalidTagError:
            return self.get(sender_id)
        with Session(self.engine) as session, session.begin():
            self._row(session, sender_id).updated_by = by
            session.execute(delete(ConversationTag).where(
                ConversationTag.sender_id == sender_id, ConversationTag.tag == cleaned))
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

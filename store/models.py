"""The SQLAlchemy 2 data model: every table of our database.

The customers, their profiles and interactions::

    Customer 1 ── 0..1 Profile        what was learned (only with consent)
        ├──── * ConsentEvent          consent asked, given, refused, withdrawn; personalisation off/on
        │
        └──── * Interaction           impressions, likes, dislikes, critiques, choices, …
                                      (only with consent; otherwise under a pseudonym, no customer)

A customer row exists only once the consent question was put or a privacy choice
was made; it is identified by the chat's sender id. What every column holds, why
and for how long is in ``docs/PRIVACY.md``. Nothing here knows about Rasa or the
web; ``store.profiles`` is the service the actions call.

The review console's tables (its logic is ``web.console``: ``accounts``, ``review``, ``summaries``)::

    ConversationSummary   one row per conversation in Rasa's tracker store, folded from its
         │                events (web.console.summaries); rebuilt at will, never edited by hand
         │ sender_id
    ConversationReview    reviewed flag and note, kept by the team
    ConversationTag       one row per (conversation, tag)
    ConsoleAccess         the audit: which console user opened or exported which conversation, when
    SyncState             how far the summaries have read the tracker store
    ConsoleUser 1 ── * ConsoleSession   a signed-in browser (only the SHA-256 of its token is stored)
    LoginThrottle         consecutive failed logins per user name and per client address

They are declared here, with the rest of the schema, so that one metadata and one migration
history (``store/migrations``) cover every table, and so that the privacy code
(``store.retention``) can erase a customer's conversation from them without importing the web app.
Summaries, reviews and tags share the sender id, not a foreign key: a summary is rebuilt from
events while the team's notes stay.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Boolean, Enum, Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from store.pseudonyms import PSEUDONYM_LENGTH

__all__ = [
    "USER_NAME_MAX_LENGTH",
    "Base",
    "ConsentEvent",
    "ConsentEventKind",
    "ConsoleAccess",
    "ConsoleSession",
    "ConsoleUser",
    "ConversationReview",
    "ConversationSummary",
    "ConversationTag",
    "Customer",
    "Interaction",
    "InteractionKind",
    "LoginThrottle",
    "Profile",
    "SyncState",
]


def utcnow() -> datetime:
    """The current time in UTC (timezone-aware)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of every table of ours."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, dict[str, float]: JSON}


class InteractionKind(enum.StrEnum):
    """What happened between the customer and a recommendation."""

    IMPRESSION = "impression"
    LIKE = "like"
    DISLIKE = "dislike"
    CRITIQUE = "critique"
    CHOICE = "choice"
    SATISFACTION = "satisfaction"
    HANDOFF = "handoff"
    #: A purchase from the shop's own order history (``shopkeeper interactions import``), or reported later.
    PURCHASE = "purchase"


class Customer(Base):
    """One chat identity (the widget keeps its sender id across visits)."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(255), unique=True)
    #: ``None`` until asked; then whether they agreed to be remembered.
    consent: Mapped[bool | None] = mapped_column(default=None)
    #: Whether the consent question was put (so it is asked once, not every visit).
    consent_asked: Mapped[bool] = mapped_column(default=False)
    personalisation: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

    profile: Mapped[Profile | None] = relationship(
        back_populates="customer", cascade="all, delete-orphan", uselist=False
    )
    interactions: Mapped[list[Interaction]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", passive_deletes=True
    )
    consent_events: Mapped[list[ConsentEvent]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ConsentEvent.id",
    )


class ConsentEventKind(enum.StrEnum):
    """One step in a customer's consent history."""

    ASKED = "asked"
    GIVEN = "given"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"
    PERSONALISATION_OFF = "personalisation_off"
    PERSONALISATION_ON = "personalisation_on"


class ConsentEvent(Base):
    """When the consent question was put and answered, and when personalisation was switched."""

    __tablename__ = "consent_events"
    __table_args__ = (Index("ix_consent_events_customer", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    kind: Mapped[ConsentEventKind] = mapped_column(Enum(ConsentEventKind, native_enum=False, length=24))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="consent_events")


class Profile(Base):
    """What was learned about a customer who agreed to be remembered."""

    __tablename__ = "profiles"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    #: Running mean of liked-item vectors minus disliked ones (float32 bytes), or ``None``.
    vector: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    vector_weight: Mapped[float] = mapped_column(default=0.0)
    #: ``"colour:grey" → score``; positive liked, negative disliked.
    affinities: Mapped[dict[str, float]] = mapped_column(default=dict)
    last_category: Mapped[str | None] = mapped_column(String(120), default=None)
    budget_max: Mapped[float | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    customer: Mapped[Customer] = relationship(back_populates="profile")


class Interaction(Base):
    """One logged event about a recommendation (impression, feedback, choice, …)."""

    __tablename__ = "interactions"
    __table_args__ = (
        Index("ix_interactions_customer_created", "customer_id", "created_at"),
        Index("ix_interactions_request", "request_id"),
        Index("ix_interactions_pseudonym", "pseudonym"),
        Index("ix_interactions_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The customer, when they consented to be remembered; else ``None`` and ``pseudonym`` is set.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), default=None)
    #: A rotating keyed hash of the sender id (:mod:`store.pseudonyms`) for customers who did not consent.
    pseudonym: Mapped[str | None] = mapped_column(String(PSEUDONYM_LENGTH), default=None)
    kind: Mapped[InteractionKind] = mapped_column(Enum(InteractionKind, native_enum=False, length=20))
    item_id: Mapped[str | None] = mapped_column(String(255), default=None)
    request_id: Mapped[str | None] = mapped_column(String(64), default=None)
    rank: Mapped[int | None] = mapped_column(default=None)
    variant: Mapped[str | None] = mapped_column(String(40), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer | None] = relationship(back_populates="interactions")

# ------------------------------------------------------------------------- the review console's tables

#: The longest console user name.
USER_NAME_MAX_LENGTH = 120


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


class SyncState(Base):
    """How far the summaries have read Rasa's ``events`` table (a single row, ``id = 1``)."""

    __tablename__ = "console_sync"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    #: How many events the summaries account for; fewer in the tracker store means an erasure.
    events_seen: Mapped[int] = mapped_column(Integer, default=0)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ConsoleUser(Base):
    """A support-team member who may sign in to the review console."""

    __tablename__ = "console_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(USER_NAME_MAX_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)


class ConsoleSession(Base):
    """A signed-in browser. The cookie holds the token; only its SHA-256 is stored."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id", ondelete="CASCADE"), index=True)
    #: The form token of this session; every POST must carry it.
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class LoginThrottle(Base):
    """Consecutive failed logins on one key (``user:<name>`` or ``client:<address>``)."""

    __tablename__ = "console_login_throttle"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_failure_at: Mapped[float] = mapped_column(Float, default=0.0)

"""The SQLAlchemy 2 data model: customers, their profiles and interactions.

::

    Customer 1 ── 0..1 Profile        what was learned (only with consent)
        ├──── * ConsentEvent          consent asked, given, refused, withdrawn; personalisation off/on
        │
        └──── * Interaction           impressions, likes, dislikes, critiques, choices, …
                                      (only with consent; otherwise under a pseudonym, no customer)

A customer row exists only once the consent question was put or a privacy choice
was made; it is identified by the chat's sender id. What every column holds, why
and for how long is in ``docs/PRIVACY.md``. Nothing here knows about Rasa or the
web; ``store.profiles`` is the service the actions call.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Enum, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from store.pseudonyms import PSEUDONYM_LENGTH

__all__ = ["Base", "ConsentEvent", "ConsentEventKind", "Customer", "Interaction", "InteractionKind", "Profile"]


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

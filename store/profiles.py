"""The profile service: what the actions ask of the data layer.

Every method is one unit of work (``with Session(engine) as s, s.begin():``).
Privacy by default: before a customer says yes to being remembered, nothing is
stored under their sender id except the consent question's state and their
privacy choices. Their interactions are logged for the shop's metrics under a
rotating pseudonym (:mod:`store.pseudonyms`) with no customer row, no visit is
noted, and no profile is built.

>>> from store.db import make_engine, create_schema
>>> engine = make_engine("sqlite://"); create_schema(engine)
>>> profiles = ProfileStore(engine)
>>> profiles.set_consent("web-1", True)
>>> profiles.learn("web-1", attributes={"colour": "grey"}, weight=1.0)
True
>>> profiles.snapshot("web-1").affinities
{'colour:grey': 1.0}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session

from retrieval.contract import affinity_key
from store.db import DEFAULT_RETENTION_DAYS
from store.models import ConsentEvent, ConsentEventKind, Customer, Interaction, InteractionKind, Profile, utcnow
from store.pseudonyms import Pseudonymiser
from store.retry import RetryPolicy, retrying

__all__ = ["AFFINITY_LIMIT", "ConsentRecord", "ForgetReport", "ProfileSnapshot", "ProfileStore"]

#: Attribute affinities are clamped to ±this, so one strong opinion cannot dominate.
AFFINITY_LIMIT = 5.0
Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class ProfileSnapshot:
    """A read-only view of one customer, for ranking and for "what do you know about me".

    Attributes:
        known: the customer has been seen before.
        consent: ``None`` until asked.
        personalisation: whether rankings may use the profile.
        vector: unit preference vector, or ``None``.
        affinities: ``"attribute:value" → score``.
        last_category, budget_max: what they were last looking for.
        likes, dislikes, choices: counts of logged feedback.
        liked_items: ids of liked items, most recent first.
        last_seen_at: previous visit.
    """

    known: bool = False
    consent: bool | None = None
    consent_asked: bool = False
    personalisation: bool = True
    vector: Vector | None = None
    affinities: Mapping[str, float] = field(default_factory=dict)
    last_category: str | None = None
    budget_max: float | None = None
    likes: int = 0
    dislikes: int = 0
    choices: int = 0
    liked_items: tuple[str, ...] = ()
    last_seen_at: datetime | None = None

    @property
    def usable(self) -> bool:
        """Whether rankings should use this profile."""
        return bool(self.consent) and self.personalisation


@dataclass(frozen=True)
class ConsentRecord:
    """One step of a customer's consent history: what happened, and when (UTC)."""

    kind: ConsentEventKind
    at: datetime


@dataclass(frozen=True)
class ForgetReport:
    """What ``forget`` erased."""

    customers: int
    interactions: int
    profiles: int
    consent_events: int = 0


def _aware(moment: datetime) -> datetime:
    """A stored time as UTC-aware (SQLite and ``timestamp without time zone`` return it naive)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class ProfileStore:
    """Customers, consent, profiles and interactions on one engine.

    Args:
        engine: from :func:`store.db.make_engine`, schema created.
        variant_of: the experiment variant label of a sender (see :mod:`store.experiments`),
            stored with each interaction not given one explicitly; ``None`` when no experiment runs.
        retry_policy: pauses between attempts when the database connection fails: every method
            is retried then (a restart, a failover) and raises
            :class:`store.retry.StoreUnavailableError` when the database stays away, so a write
            is saved or reported, never silently dropped.
        pseudonyms: how customers who did not consent are measured (a random key when ``None``).
        retention_days: how far back :meth:`forget` looks for a sender's past pseudonyms.
    """

    def __init__(self, engine: Engine, *, variant_of: Callable[[str], str] | None = None,
                 retry_policy: RetryPolicy | None = None, pseudonyms: Pseudonymiser | None = None,
                 retention_days: int = DEFAULT_RETENTION_DAYS) -> None:
        self.engine = engine
        self.variant_of = variant_of
        self.retry_policy = retry_policy or RetryPolicy()
        self.pseudonyms = pseudonyms or Pseudonymiser()
        self.retention_days = retention_days

    # -- helpers -------------------------------------------------------------------

    @staticmethod
    def _existing(session: Session, sender_id: str) -> Customer | None:
        return session.scalars(select(Customer).where(Customer.sender_id == sender_id)).one_or_none()

    @staticmethod
    def _customer(session: Session, sender_id: str) -> Customer:
        """The customer row, created for a consent or privacy choice (never for mere activity)."""
        customer = ProfileStore._existing(session, sender_id)
        if customer is None:
            customer = Customer(sender_id=sender_id)
            session.add(customer)
            session.flush()
        return customer

    # -- reading -------------------------------------------------------------------

    @retrying("reading a profile")
    def snapshot(self, sender_id: str) -> ProfileSnapshot:
        """What is known about a sender (an empty snapshot for a stranger)."""
        with Session(self.engine) as session:
            customer = session.scalars(select(Customer).where(Customer.sender_id == sender_id)).one_or_none()
            if customer is None:
                return ProfileSnapshot()
            counts = dict(
                session.execute(
                    select(Interaction.kind, func.count())
                    .where(Interaction.customer_id == customer.id)
                    .group_by(Interaction.kind)
                ).all()
            )
            liked = session.scalars(
                select(Interaction.item_id)
                .where(Interaction.customer_id == customer.id, Interaction.kind == InteractionKind.LIKE)
                .order_by(Interaction.created_at.desc(), Interaction.id.desc())
                .limit(20)
            ).all()
            profile = customer.profile
            vector = None
            if profile is not None and profile.vector is not None:
                raw = np.frombuffer(profile.vector, dtype=np.float32)
                norm = float(np.linalg.norm(raw))
                vector = (raw / norm).astype(np.float32) if norm > 0 else None
            return ProfileSnapshot(
                known=True,
                consent=customer.consent,
                consent_asked=customer.consent_asked,
                personalisation=customer.personalisation,
                vector=vector,
                affinities=dict(profile.affinities) if profile else {},
                last_category=profile.last_category if profile else None,
                budget_max=profile.budget_max if profile else None,
                likes=counts.get(InteractionKind.LIKE, 0),
                dislikes=counts.get(InteractionKind.DISLIKE, 0),
                choices=counts.get(InteractionKind.CHOICE, 0),
                liked_items=tuple(i for i in liked if i),
                last_seen_at=customer.last_seen_at,
            )

    # -- writing -------------------------------------------------------------------

    @retrying("noting a visit")
    def touch(self, sender_id: str) -> None:
        """Note that a customer who agreed to be remembered is here now (nothing for anyone else)."""
        with Session(self.engine) as session, session.begin():
            customer = self._existing(session, sender_id)
            if customer is not None and customer.consent:
                customer.last_seen_at = utcnow()

    @retrying("noting the consent question")
    def mark_consent_asked(self, sender_id: str) -> None:
        """Note that the consent question was put to this customer (so it is asked once)."""
        with Session(self.engine) as session, session.begin():
            customer = self._customer(session, sender_id)
            customer.consent_asked = True
            customer.last_seen_at = utcnow()
            session.add(ConsentEvent(customer_id=customer.id, kind=ConsentEventKind.ASKED))

    @retrying("the consent answer")
    def set_consent(self, sender_id: str, consent: bool) -> None:
        """Record the answer to "may I remember your preferences?".

        Saying no also drops any profile built so far, and the interactions kept under the
        sender id move back under the current pseudonym (still counted, no longer theirs).
        """
        with Session(self.engine) as session, session.begin():
            customer = self._customer(session, sender_id)
            kind = (ConsentEventKind.GIVEN if consent
                    else ConsentEventKind.WITHDRAWN if customer.consent else ConsentEventKind.REFUSED)
            session.add(ConsentEvent(customer_id=customer.id, kind=kind))
            customer.consent = consent
            customer.consent_asked = True
            customer.last_seen_at = utcnow()
            if not consent:
                if customer.profile is not None:
                    session.delete(customer.profile)
                session.execute(
                    update(Interaction).where(Interaction.customer_id == customer.id)
                    .values(customer_id=None, pseudonym=self.pseudonyms.pseudonym(sender_id))
                )

    @retrying("the personalisation switch")
    def set_personalisation(self, sender_id: str, enabled: bool) -> None:
        """Switch profile-based ranking on or off (the profile itself is kept)."""
        with Session(self.engine) as session, session.begin():
            customer = self._customer(session, sender_id)
            customer.personalisation = enabled
            customer.last_seen_at = utcnow()
            session.add(ConsentEvent(customer_id=customer.id, kind=ConsentEventKind.PERSONALISATION_ON if enabled
                                     else ConsentEventKind.PERSONALISATION_OFF))

    @retrying("reading the consent history")
    def consent_history(self, sender_id: str) -> list[ConsentRecord]:
        """When consent was asked, given, refused or withdrawn, and personalisation switched, oldest first."""
        with Session(self.engine) as session:
            rows = session.execute(
                select(ConsentEvent.kind, ConsentEvent.created_at)
                .join(Customer, Customer.id == ConsentEvent.customer_id)
                .where(Customer.sender_id == sender_id)
                .order_by(ConsentEvent.created_at, ConsentEvent.id)
            ).all()
        return [ConsentRecord(kind, _aware(at)) for kind, at in rows]

    def record(
        self,
        sender_id: str,
        kind: InteractionKind,
        *,
        item_id: str | None = None,
        request_id: str | None = None,
        rank: int | None = None,
        variant: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Log one interaction."""
        self.record_many(sender_id, [(kind, item_id, rank)], request_id=request_id, variant=variant,
                         detail=detail)

    @retrying("logging interactions")
    def record_many(
        self,
        sender_id: str,
        rows: Iterable[tuple[InteractionKind, str | None, int | None]],
        *,
        request_id: str | None = None,
        variant: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Log several interactions of one request in one transaction (e.g. impressions).

        They are kept under the customer when they agreed to be remembered, else under
        the sender's current pseudonym with no customer row.

        Args:
            sender_id: the customer.
            rows: ``(kind, item_id, rank)`` per interaction.
            request_id: the recommendation they belong to.
            variant: experiment variant the customer is in.
            detail: extra JSON-able data stored with each row.
        """
        if variant is None and self.variant_of is not None:
            variant = self.variant_of(sender_id)
        with Session(self.engine) as session, session.begin():
            customer = self._existing(session, sender_id)
            customer_id: int | None = None
            pseudonym: str | None = None
            if customer is not None and customer.consent:
                customer.last_seen_at = utcnow()
                customer_id = customer.id
            else:
                pseudonym = self.pseudonyms.pseudonym(sender_id)
            for kind, item_id, rank in rows:
                session.add(Interaction(
                    customer_id=customer_id, pseudonym=pseudonym, kind=kind, item_id=item_id,
                    request_id=request_id, rank=rank, variant=variant, detail=dict(detail or {}),
                ))

    @retrying("a profile update")
    def learn(
        self,
        sender_id: str,
        *,
        vector: Vector | None = None,
        weight: float = 1.0,
        attributes: Mapping[str, str | None] | None = None,
        category: str | None = None,
        budget_max: float | None = None,
    ) -> bool:
        """Fold feedback into the profile — only when the customer consented.

        Args:
            sender_id: the customer.
            vector: the liked (``weight > 0``) or disliked (``weight < 0``) item's vector.
            weight: how strongly; +1 for a like, negative for a dislike.
            attributes: the item's attributes (``{"colour": "grey", …}``), each
                moving its affinity by ``weight``.
            category: the category they were last looking for.
            budget_max: the budget they last stated.

        Returns:
            Whether anything was learned (``False`` without consent).
        """
        with Session(self.engine) as session, session.begin():
            customer = self._existing(session, sender_id)
            if customer is None or not customer.consent:
                return False
            profile = customer.profile or Profile(customer_id=customer.id, affinities={})
            if customer.profile is None:
                customer.profile = profile
            if vector is not None and weight:
                current = (
                    np.frombuffer(profile.vector, dtype=np.float32).copy()
                    if profile.vector is not None
                    else np.zeros_like(vector, dtype=np.float32)
                )
                if current.shape == vector.shape:
                    current += np.asarray(vector, dtype=np.float32) * weight
                    profile.vector = current.astype(np.float32).tobytes()
                    profile.vector_weight = (profile.vector_weight or 0.0) + abs(weight)
            if attributes:
                affinities = dict(profile.affinities or {})
                for name, value in attributes.items():
                    if value:
                        key = affinity_key(name, value)
                        score = affinities.get(key, 0.0) + weight
                        affinities[key] = max(-AFFINITY_LIMIT, min(AFFINITY_LIMIT, score))
                profile.affinities = affinities
            if category:
                profile.last_category = category
            if budget_max is not None:
                profile.budget_max = budget_max
            return True

    @retrying("erasing a customer")
    def forget(self, sender_id: str) -> ForgetReport:
        """Erase the customer, their profile, every interaction, and what was logged under their pseudonyms.

        The pseudonyms of every rotation period within the retention window are recomputed,
        so measurement rows of a customer who never consented go too.
        """
        pseudonyms = self.pseudonyms.pseudonyms_since(sender_id, self.pseudonyms.lookback(self.retention_days))
        with Session(self.engine) as session, session.begin():
            ids = session.scalars(select(Customer.id).where(Customer.sender_id == sender_id)).all()
            unlinked = session.execute(delete(Interaction).where(Interaction.pseudonym.in_(pseudonyms))).rowcount  # type: ignore[attr-defined]
            counts = [
                session.execute(delete(model).where(column.in_(ids))).rowcount  # type: ignore[attr-defined]
                for model, column in (
                    (Interaction, Interaction.customer_id),
                    (Profile, Profile.customer_id),
                    (ConsentEvent, ConsentEvent.customer_id),
                    (Customer, Customer.id),
                )
            ] if ids else [0, 0, 0, 0]
            return ForgetReport(customers=counts[3], interactions=counts[0] + unlinked, profiles=counts[1],
                                consent_events=counts[2])

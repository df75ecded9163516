"""The customer's copy of their data (GDPR art. 15 and 20): one JSON document.

Format ``shopkeeper-export/1`` (documented in ``docs/PRIVACY.md``)::

    {
      "format": "shopkeeper-export/1",
      "exported_at": "2026-12-01T14:00:00+00:00",
      "sender_id": "web-…",
      "customer": {"consent": true, "consent_asked": true, "personalisation": true,
                   "created_at": "…", "last_seen_at": "…"} | null,
      "profile": {"affinities": {"colour:grey": 1.0}, "last_category": "Sofas", "budget_max": 800.0,
                  "preference_vector": [0.1, …] | null, "feedback_weight": 2.0, "updated_at": "…"} | null,
      "consent_history": [{"event": "asked", "at": "…"}, {"event": "given", "at": "…"}],
      "interactions": [{"kind": "like", "item_id": "SKU-1", "request_id": "r-…", "rank": 2,
                        "variant": null, "detail": {}, "at": "…", "linked_by": "customer" | "pseudonym"}],
      "conversation": [{"type": "user", "timestamp": 1764597600.0, "event": {…Rasa's event…}}]
    }

Times are ISO 8601 in UTC; conversation timestamps are Rasa's epoch seconds. Interactions
logged under the sender's pseudonyms (before consent) are included when they fall within
the retention window, marked ``"linked_by": "pseudonym"``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import Engine, inspect, or_, select
from sqlalchemy.orm import Session

from store.errors import NothingStoredError
from store.models import ConsentEvent, Customer, Interaction, Profile
from store.pseudonyms import Pseudonymiser
from store.tracker import events

__all__ = ["EXPORT_FORMAT", "NothingStoredError", "export_customer"]

EXPORT_FORMAT = "shopkeeper-export/1"


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


def _profile(profile: Profile | None) -> dict[str, Any] | None:
    if profile is None:
        return None
    vector = None
    if profile.vector is not None:
        vector = [round(float(x), 6) for x in np.frombuffer(profile.vector, dtype=np.float32)]
    return {"affinities": dict(profile.affinities or {}), "last_category": profile.last_category,
            "budget_max": profile.budget_max, "preference_vector": vector,
            "feedback_weight": profile.vector_weight, "updated_at": _iso(profile.updated_at)}


def _conversation(tracker: Engine | None, sender_id: str) -> list[dict[str, Any]]:
    if tracker is None or not inspect(tracker).has_table("events"):
        return []
    with tracker.connect() as connection:
        rows = connection.execute(
            select(events.c.type_name, events.c.timestamp, events.c.data)
            .where(events.c.sender_id == sender_id).order_by(events.c.id)
        ).all()
    conversation = []
    for type_name, timestamp, raw in rows:
        try:
            event = json.loads(raw or "{}")
        except ValueError:
            event = {"unreadable": raw}
        conversation.append({"type": type_name, "timestamp": timestamp, "event": event})
    return conversation


def export_customer(store: Engine, tracker: Engine | None, sender_id: str, *, pseudonyms: Pseudonymiser,
                    retention_days: int, now: datetime | None = None) -> dict[str, Any]:
    """Everything stored about one sender, as a JSON-able ``shopkeeper-export/1`` document.

    Args:
        store: our database.
        tracker: Rasa's tracker store, or ``None`` when not reachable (the conversation is then empty).
        sender_id: the conversation.
        pseudonyms: to find what was logged before consent.
        retention_days: how far back to look for past pseudonyms.
        now: the export's time (default: now).

    Raises:
        NothingStoredError: when nothing at all is stored about the sender.
    """
    now = now or datetime.now(UTC)
    past = pseudonyms.pseudonyms_since(sender_id, pseudonyms.lookback(retention_days), until=now)
    with Session(store) as session:
        customer = session.scalars(select(Customer).where(Customer.sender_id == sender_id)).one_or_none()
        linked = Interaction.customer_id == customer.id if customer is not None else None
        where = or_(Interaction.pseudonym.in_(past), linked) if linked is not None else Interaction.pseudonym.in_(past)
        interactions = session.scalars(select(Interaction).where(where)
                                       .order_by(Interaction.created_at, Interaction.id)).all()
        history = session.scalars(
            select(ConsentEvent).where(ConsentEvent.customer_id == customer.id)
            .order_by(ConsentEvent.created_at, ConsentEvent.id)
        ).all() if customer is not None else []
        document: dict[str, Any] = {
            "format": EXPORT_FORMAT,
            "exported_at": _iso(now),
            "sender_id": sender_id,
            "customer": None if customer is None else {
                "consent": customer.consent, "consent_asked": customer.consent_asked,
                "personalisation": customer.personalisation, "created_at": _iso(customer.created_at),
                "last_seen_at": _iso(customer.last_seen_at),
            },
            "profile": _profile(customer.profile) if customer is not None else None,
            "consent_history": [{"event": str(e.kind), "at": _iso(e.created_at)} for e in history],
            "interactions": [{
                "kind": str(i.kind), "item_id": i.item_id, "request_id": i.request_id, "rank": i.rank,
                "variant": i.variant, "detail": dict(i.detail or {}), "at": _iso(i.created_at),
                "linked_by": "customer" if i.customer_id is not None else "pseudonym",
            } for i in interactions],
        }
    document["conversation"] = _conversation(tracker, sender_id)
    if customer is None and not document["interactions"] and not document["conversation"]:
        raise NothingStoredError(sender_id)
    return document

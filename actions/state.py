"""Reading the conversation's state from the tracker: needs, shown cards, references.

The slots are the single source of truth; everything else (the needs, the
cards a reference points at) is derived here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
from rasa_sdk import Tracker

from actions.parsing import parse_ordinals, resolve_item_reference
from actions.services import Services
from retrieval.catalog import Product
from retrieval.recommender import SOFT_ATTRIBUTES, Needs, Preferences
from store.profiles import ProfileSnapshot

__all__ = [
    "ANY",
    "entity_values",
    "exclusions_in_message",
    "needs_from",
    "negated_values",
    "preferences_for",
    "referenced_items",
    "request_text",
    "shown_products",
]

#: Slot value meaning "the customer does not mind".
ANY = "any"


def _slot(tracker: Tracker, name: str) -> Any:
    value = tracker.get_slot(name)
    return None if value in (None, "", ANY) else value


#: Any sign of ruling something out; without one, an ``exclude`` role from the NLU is not believed.
_NEGATION_CUE = re.compile(
    r"\b(not|no|non|without|except|but|hate|avoid|never|nothing|less|instead|rather|other than|free of|"
    r"no more)\b|n'?t\b|👎",
    re.IGNORECASE,
)


def _role(entity: dict[str, Any], text: str) -> str | None:
    """The entity's role as the words support it.

    The model learns the ``exclude`` role from many "not leather" examples and sometimes gives
    it to a bare "leather" (an answer to "Any preferred material?") or to "do you have it in
    black?" — taking that literally would rule out exactly what the customer asked for — and
    sometimes misses it in "not cotton". A negation just before the entity makes it an
    exclusion; an ``exclude`` with no negation anywhere in the message is dropped.
    """
    role = entity.get("role")
    start = entity.get("start")
    if role is None and isinstance(start, int) and _NEGATION.search(text[:start]):
        return "exclude"
    if role == "exclude" and not _NEGATION_CUE.search(text):
        return None
    return None if role is None else str(role)


def entity_values(tracker: Tracker, entity: str, role: str | None = None) -> list[str]:
    """Values of an entity in the latest message (``role=None``: entities without a role)."""
    message = tracker.latest_message or {}
    text = str(message.get("text") or "")
    return [
        str(e.get("value"))
        for e in message.get("entities", [])
        if e.get("entity") == entity and _role(e, text) == role and e.get("value") not in (None, "")
    ]


#: A negation close before an entity ("not leather", "anything but black", "no glass please").
_NEGATION = re.compile(
    r"\b(not|no|non|without|except|but|hate|avoid|never|don'?t want|dont want|free of)\b[\s\w-]{0,12}$",
    re.IGNORECASE,
)


def negated_values(tracker: Tracker, entity: str) -> list[str]:
    """Values of an entity the latest message rules out.

    Either the NLU gave it the ``exclude`` role, or a negation stands just before it
    in the text (the role is the harder thing for the model to learn).
    """
    message = tracker.latest_message or {}
    text = str(message.get("text") or "")
    found: list[str] = []
    for e in message.get("entities", []):
        if e.get("entity") != entity or e.get("value") in (None, ""):
            continue
        if _role(e, text) == "exclude":
            value = str(e["value"]).lower()
            if value not in found:
                found.append(value)
    return found


def exclusions_in_message(tracker: Tracker) -> list[str]:
    """Words the latest message rules out ("not leather", "anything but black")."""
    words: list[str] = []
    for entity in ("material", "colour", "style", "brand"):
        words += [v for v in negated_values(tracker, entity) if v not in words]
    return words


def request_text(tracker: Tracker) -> str:
    """The customer's own words of their latest request, to enrich the query.

    A request ("i need a sofa for movie nights") counts, and so does a description that
    names a category without asking ("big comfy settee for movie nights"): NLU tells
    the two apart by the asking, but both say what is wanted. A bare detail ("blue")
    does not replace the request it refines.
    """
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        intent = (parse.get("intent") or {}).get("name")
        names_a_category = any(e.get("entity") == "category" for e in parse.get("entities") or [])
        if intent == "request_recommendation" or (intent == "inform" and names_a_category):
            return str(event.get("text") or "")
    return ""


def needs_from(tracker: Tracker) -> Needs:
    """The needs as the slots hold them."""
    exclusions = tuple(tracker.get_slot("exclusions") or ())
    preferences = {
        name: str(value)
        for name in SOFT_ATTRIBUTES
        if (value := _slot(tracker, name)) and str(value).lower() not in exclusions
    }
    minimum, maximum = tracker.get_slot("budget_min"), tracker.get_slot("budget_max")
    return Needs(
        category=_slot(tracker, "category"),
        min_price=float(minimum) if minimum is not None else None,
        max_price=float(maximum) if maximum is not None else None,
        preferences=preferences,
        exclusions=exclusions,
        text=request_text(tracker),
    )


def shown_products(tracker: Tracker, services: Services) -> list[Product]:
    """The cards of the latest list, in display order (unknown ids skipped)."""
    catalog = services.recommender.catalog
    return [p for i in tracker.get_slot("shown_items") or [] if (p := catalog.get(i)) is not None]


def referenced_items(tracker: Tracker, services: Services, *, limit: int = 1) -> list[Product]:
    """The shown items the latest message points at.

    Looks, in order, at an ``item_id`` entity (buttons), ``item`` entities and
    the text (a title word that singles out one card), then ``ordinal`` entities
    and ordinal words. With a single card shown, that card is meant.
    """
    catalog = services.recommender.catalog
    shown = shown_products(tracker, services)
    found: list[Product] = []
    for item_id in entity_values(tracker, "item_id"):
        product = catalog.get(item_id)
        if product is not None and product not in found:
            found.append(product)
    pairs = [(p.id, p.title) for p in shown]
    text = str((tracker.latest_message or {}).get("text") or "")
    for mention in [*entity_values(tracker, "item"), text]:
        if len(found) >= limit:
            break
        item_id = resolve_item_reference(mention, pairs) if mention else None
        product = catalog.get(item_id) if item_id else None
        if product is not None and product not in found:
            found.append(product)
    positions: list[int] = []
    for ordinal in entity_values(tracker, "ordinal"):
        positions += parse_ordinals(ordinal)
    if not positions:
        positions = parse_ordinals(text)
    for position in positions:
        if -len(shown) <= position < len(shown) and shown[position] not in found:
            found.append(shown[position])
    if not found and len(shown) == 1:
        found = shown[:1]
    return found[:limit]


def preferences_for(tracker: Tracker, services: Services, snapshot: ProfileSnapshot) -> Preferences:
    """What may personalise the ranking.

    This conversation's likes and dislikes, plus the stored profile when the customer
    consented — nothing at all when personalisation is off.
    """
    if not snapshot.personalisation:
        return Preferences()
    catalog = services.recommender.catalog
    recommender = services.recommender
    vector = np.zeros(recommender.retriever.index.dimension, dtype=np.float32)
    affinities: dict[str, float] = {}

    def fold(item_ids: Sequence[str], weight: float) -> None:
        nonlocal vector
        for item_id in item_ids:
            product = catalog.get(item_id)
            if product is None:
                continue
            vector = vector + weight * recommender.item_vector(item_id)
            for name in ("category", *SOFT_ATTRIBUTES):
                value = product.category if name == "category" else product.attribute(name)
                if value:
                    key = f"{name}:{value.casefold()}"
                    affinities[key] = affinities.get(key, 0.0) + weight

    fold(tracker.get_slot("liked_items") or [], 1.0)
    fold(tracker.get_slot("rejected_items") or [], -0.5)
    if snapshot.usable:
        if snapshot.vector is not None and snapshot.vector.shape == vector.shape:
            vector = vector + snapshot.vector
        for key, score in snapshot.affinities.items():
            affinities[key] = affinities.get(key, 0.0) + score
    norm = float(np.linalg.norm(vector))
    return Preferences(vector=(vector / norm).astype(np.float32) if norm > 0 else None, affinities=affinities)

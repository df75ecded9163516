"""Feedback on shown items: likes, dislikes and critiques, each refining the next list."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import texts
from actions.base import Events, ShopAction
from actions.recommend import present, recommend
from actions.state import entity_values, needs_from, referenced_items, shown_products
from retrieval.catalog import Product
from retrieval.explain import format_price
from retrieval.recommender import SOFT_ATTRIBUTES, Needs
from store.models import InteractionKind

__all__ = ["ActionCritique", "ActionFeedback", "sentiment_of", "size_number"]

_NEGATIVE = re.compile(
    r"👎|\b(not|don'?t|dont|no|hate|ugly|meh|nah|dislike|awful|bad|boring|too|never|nope)\b", re.IGNORECASE
)
#: Below/above the reference price for "cheaper"/"pricier".
PRICE_STEP = 0.9


def sentiment_of(tracker: Tracker) -> str | None:
    """``"like"`` or ``"dislike"``: from a button's entity, a typed 👍 / 👎, the intent, or the words.

    A thumb the customer typed outranks the intent: the character is exact, the intent is the
    classifier's guess (one that once took 👎🏻 for a like).
    """
    explicit = entity_values(tracker, "sentiment")
    if explicit and explicit[0] in ("like", "dislike"):
        return explicit[0]
    text = str((tracker.latest_message or {}).get("text") or "")
    up, down = "👍" in text, "👎" in text
    if up != down:
        return "like" if up else "dislike"
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
    if intent in ("like", "dislike"):
        return str(intent)
    return "dislike" if _NEGATIVE.search(text) else None


def _attributes(product: Product) -> dict[str, str | None]:
    return {"category": product.category, **{n: product.attribute(n) for n in SOFT_ATTRIBUTES}}


class ActionFeedback(ShopAction):
    """👍 / 👎 by button or in words: log it, learn from it, show a refined list."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_feedback"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Record the feedback on the referenced item and refine."""
        if not tracker.get_slot("shown_items") and not entity_values(tracker, "item_id"):
            dispatcher.utter_message(text=texts.NOTHING_SHOWN)
            return []
        sentiment = sentiment_of(tracker)
        items = referenced_items(tracker, self.services)
        if sentiment is None:
            dispatcher.utter_message(text=texts.ASK_SENTIMENT)
            return []
        if not items:
            dispatcher.utter_message(text=texts.WHICH_ITEM)
            return []
        item = items[0]
        liked = sentiment == "like"
        shown = list(tracker.get_slot("shown_items") or [])
        profiles = self.services.profiles
        profiles.record(
            tracker.sender_id,
            InteractionKind.LIKE if liked else InteractionKind.DISLIKE,
            item_id=item.id,
            request_id=tracker.get_slot("request_id"),
            rank=shown.index(item.id) + 1 if item.id in shown else None,
        )
        profiles.learn(
            tracker.sender_id,
            vector=self.services.recommender.item_vector(item.id),
            weight=1.0 if liked else -1.0,
            attributes=_attributes(item),
            category=item.category if liked else None,
        )
        slot = "liked_items" if liked else "rejected_items"
        updated = [i for i in (tracker.get_slot(slot) or []) if i != item.id] + [item.id]
        events: Events = [SlotSet(slot, updated)]
        tracker.slots[slot] = updated  # the refined list below must already see it
        dispatcher.utter_message(text=(texts.NOTED_LIKE if liked else texts.NOTED_DISLIKE).format(title=item.title))
        needs = needs_from(tracker)
        result = recommend(tracker, self.services, needs, exclude=shown, like_item=item.id if liked else None)
        return events + present(dispatcher, tracker, self.services, result, texts.REFINED)


class ActionCritique(ShopAction):
    """"Cheaper", "bigger", "another colour", "not leather": change the needs and refine."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_critique"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Apply the critique to the needs, say how, and show a new list."""
        shown = shown_products(tracker, self.services)
        if not shown:
            dispatcher.utter_message(text=texts.NOTHING_SHOWN)
            return []
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        reference = referenced_items(tracker, self.services)
        needs = needs_from(tracker)
        excluded_before = set(needs.exclusions)
        events: Events = []
        exclude = [p.id for p in shown]
        if intent == "critique_cheaper":
            base = reference[0].price if reference else min(p.price for p in shown)
            ceiling = round(base * PRICE_STEP, 2)
            if needs.max_price is not None:
                ceiling = min(ceiling, needs.max_price)
            needs = dataclasses.replace(needs, max_price=ceiling, min_price=None)
            events += [SlotSet("budget_max", ceiling), SlotSet("budget_min", None)]
            note = texts.CHEAPER.format(price=format_price(ceiling, shown[0].currency))
        elif intent == "critique_pricier":
            base = reference[0].price if reference else max(p.price for p in shown)
            floor = round(base / PRICE_STEP, 2)
            needs = dataclasses.replace(needs, min_price=floor, max_price=None)
            events += [SlotSet("budget_min", floor), SlotSet("budget_max", None)]
            note = texts.PRICIER.format(price=format_price(floor, shown[0].currency))
        elif intent in ("critique_bigger", "critique_smaller"):
            bigger = intent == "critique_bigger"
            words = "bigger larger spacious" if bigger else "compact small space-saving"
            needs = dataclasses.replace(needs, text=f"{needs.text} {words}".strip())
            exclude += self._wrong_size(reference[0] if reference else None, shown, bigger)
            note = texts.BIGGER if bigger else texts.SMALLER
        else:  # critique_different, or exclusions named in a critique
            needs, note, changed = self._different(tracker, needs, reference[0] if reference else None, shown)
            events += changed
        self._learn(tracker.sender_id, intent, needs, [v for v in needs.exclusions if v not in excluded_before])
        self.services.profiles.record(
            tracker.sender_id, InteractionKind.CRITIQUE,
            item_id=reference[0].id if reference else None, request_id=tracker.get_slot("request_id"),
            detail={"intent": intent, "needs": {"max_price": needs.max_price, "min_price": needs.min_price,
                                                 "exclusions": list(needs.exclusions)}},
        )
        dispatcher.utter_message(text=note)
        result = recommend(tracker, self.services, needs, exclude=exclude)
        return events + present(dispatcher, tracker, self.services, result, texts.REFINED)

    def _learn(self, sender_id: str, intent: str | None, needs: Needs, ruled_out: list[str]) -> None:
        """A critique is feedback too: the profile (with consent) learns the budget and what was ruled out."""
        values = self.services.vocabulary.values
        attributes = {
            name: value
            for value in ruled_out
            for name in ("colour", "material", "style", "brand")
            if value.casefold() in (v.casefold() for v in values.get(name, []))
        }
        budget = needs.max_price if intent == "critique_cheaper" else None
        if attributes or budget is not None:
            self.services.profiles.learn(sender_id, attributes=attributes, weight=-1.0, budget_max=budget)

    def _wrong_size(self, reference: Product | None, shown: list[Product], bigger: bool) -> list[str]:
        """Ids of same-category items not bigger (or not smaller) than the reference."""
        anchor = reference or shown[0]
        anchor_size = size_number(anchor.size)
        if anchor_size is None:
            return []
        wrong = []
        for product in self.services.recommender.catalog:
            if product.category != anchor.category:
                continue
            size = size_number(product.size)
            if size is not None and (size <= anchor_size if bigger else size >= anchor_size):
                wrong.append(product.id)
        return wrong

    @staticmethod
    def _different(
        tracker: Tracker, needs: Needs, reference: Product | None, shown: list[Product]
    ) -> tuple[Needs, str, Events]:
        """Another colour/material/style.

        A named value ("in blue") becomes the wish; otherwise the current value(s) are excluded.
        """
        for name in ("colour", "material", "style", "brand"):
            wanted = entity_values(tracker, name)
            if wanted:
                preferences = {**needs.preferences, name: wanted[0]}
                return (dataclasses.replace(needs, preferences=preferences), texts.DIFFERENT_TO.format(value=wanted[0]),
                        [SlotSet(name, wanted[0])])
        excluded = [
            v.lower() for n in ("colour", "material", "style", "brand") for v in entity_values(tracker, n, "exclude")
        ]
        if not excluded:
            attribute = (entity_values(tracker, "attribute") or ["colour"])[0]
            if attribute not in ("colour", "material", "style", "brand"):
                attribute = "colour"
            source = [reference] if reference else shown
            counts = Counter(v.lower() for p in source if (v := p.attribute(attribute)))
            excluded = [v for v, _ in counts.most_common(2 if reference is None else 1)]
            note = texts.DIFFERENT.format(attribute=attribute, values=" or ".join(excluded) or "these")
            preferences = {k: v for k, v in needs.preferences.items() if k != attribute}
            needs = dataclasses.replace(needs, preferences=preferences)
        else:
            note = texts.DIFFERENT.format(attribute="option", values=" or ".join(excluded))
        exclusions = tuple(dict.fromkeys([*needs.exclusions, *excluded]))
        return dataclasses.replace(needs, exclusions=exclusions), note, [SlotSet("exclusions", list(exclusions))]


def size_number(size: str | None) -> float | None:
    """A comparable size: the largest number in the size text, or ``None``.

    "3-seater, 210 cm" → 210, "Corner, 280x200 cm" → 280, "28 L" → 28, "EU 42" → 42.
    """
    if not size:
        return None
    numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", size)]
    return max(numbers) if numbers else None

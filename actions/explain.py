"""Answering questions about shown items: "why this one?" and "compare 1 and 2"."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import texts
from actions.base import Events, ShopAction
from actions.state import referenced_items, shown_products
from retrieval.catalog import Product
from retrieval.explain import format_price

__all__ = ["ActionCompare", "ActionExplain", "compare_lines"]


class ActionExplain(ShopAction):
    """Why an item was recommended: the reason its score was built from."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_explain"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Explain the referenced card (or all of them when none is named)."""
        shown = shown_products(tracker, self.services)
        if not shown:
            dispatcher.utter_message(text=texts.NOTHING_SHOWN)
            return []
        reasons = list(tracker.get_slot("shown_reasons") or [])
        items = referenced_items(tracker, self.services) or shown
        for product in items:
            position = shown.index(product) if product in shown else -1
            reason = reasons[position] if 0 <= position < len(reasons) else "it matches what you described"
            dispatcher.utter_message(text=texts.WHY.format(title=product.title, reason=reason))
        return []


def _value(product: Product, attribute: str) -> str | None:
    if attribute == "price":
        return format_price(product.price, product.currency)
    if attribute == "rating":
        return f"{product.rating:.1f}/5 ({product.rating_count} ratings)" if product.rating is not None else None
    return product.attribute(attribute)


def compare_lines(first: Product, second: Product) -> list[str]:
    """The differences that matter between two items, one line each (price first)."""
    lines: list[str] = []
    if first.price != second.price:
        cheaper, dearer = (first, second) if first.price < second.price else (second, first)
        saving = format_price(round(dearer.price - cheaper.price, 2), cheaper.currency)
        lines.append(f"• price: {_value(first, 'price')} vs {_value(second, 'price')} — the {cheaper.title} "
                     f"is {saving} cheaper")
    else:
        lines.append(f"• price: both {_value(first, 'price')}")
    for attribute in ("rating", "material", "size", "colour", "style", "brand"):
        a, b = _value(first, attribute), _value(second, attribute)
        if a is None and b is None:
            continue
        if a == b:
            lines.append(f"• {attribute}: both {a}")
        else:
            lines.append(f"• {attribute}: {a or 'not given'} vs {b or 'not given'}")
    if first.in_stock != second.in_stock:
        out = first if not first.in_stock else second
        lines.append(f"• the {out.title} is out of stock")
    return lines


class ActionCompare(ShopAction):
    """Compare two shown items on price, rating, material, size and more."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_compare"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """List the differences between the two referenced items."""
        shown = shown_products(tracker, self.services)
        if not shown:
            dispatcher.utter_message(text=texts.NOTHING_SHOWN)
            return []
        items = referenced_items(tracker, self.services, limit=2)
        if len(items) < 2 and len(shown) == 2:
            items = shown
        if len(items) < 2:
            dispatcher.utter_message(text=texts.NEED_TWO)
            return []
        first, second = items[:2]
        header = texts.COMPARE_INTRO.format(first=first.title, second=second.title)
        dispatcher.utter_message(text="\n".join([header, *compare_lines(first, second)]))
        return []

"""The needs form: ask only what is missing and useful, at most three questions.

Order of questions: the category (nothing can be suggested without it), then
the budget (a hard constraint most customers have), then the descriptive
attribute whose answer best splits the remaining candidates. Anything the
customer already said — in the first message or in a correction ("actually
blue") — is never asked. After the first recommendation no more questions are
asked: new needs refine the list directly.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions import services as services_module
from actions import texts
from actions.base import Events, ShopAction
from actions.parsing import parse_budget
from actions.services import Services
from actions.state import ANY, entity_values, exclusions_in_message, needs_from, negated_values
from retrieval.explain import format_price
from retrieval.questions import answer_entropy, best_question

__all__ = ["MAX_QUESTIONS", "ActionAskAttribute", "ActionAskBudget", "ActionAskCategory", "ValidateNeedsForm"]

#: Questions asked before the first recommendation, at most.
MAX_QUESTIONS = 3
#: Stop asking once this few candidates fit.
ENOUGH_CANDIDATES = 6
ATTRIBUTE_QUESTIONS = ("colour", "material", "style", "use")
#: Categories offered as buttons or named when an answer is not one (the commonest first).
MAX_CATEGORY_OPTIONS = 12
#: Every slot the form may fill, in the order they are considered.
NEED_SLOTS = ("category", "budget", *ATTRIBUTE_QUESTIONS)
#: Relative budgets resolve to these price quantiles of the candidates.
RELATIVE_BUDGETS = {"cheap": (None, 0.33), "mid": (0.33, 0.66), "premium": (0.66, None)}


def questions_asked(tracker: Tracker) -> int:
    """How many questions the form has put in this conversation."""
    return sum(
        1 for e in tracker.events
        if e.get("event") == "slot" and e.get("name") == "requested_slot" and e.get("value")
    )


def _candidates(tracker: Tracker, services: Services) -> list[Any]:
    needs = needs_from(tracker)
    mask = services.recommender.retriever.filter_table.mask(needs.filters(tracker.get_slot("rejected_items") or []))
    catalog = services.recommender.catalog
    return [catalog[i] for i in np.flatnonzero(mask)]


def _value_before_message(tracker: Tracker, slot: str) -> Any:
    """The slot's value before the latest message (what the customer had said until then)."""
    events = list(tracker.events)
    last_message = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=len(events))
    earlier = [e.get("value") for e in events[:last_message] if e.get("event") == "slot" and e.get("name") == slot]
    return earlier[-1] if earlier else None


def _as_list(value: Any) -> list[str]:
    """Slot values may arrive as a list when a message holds several entities of a kind."""
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if v not in (None, "")]


class ValidateNeedsForm(FormValidationAction):
    """Chooses the next question and checks every answer against the catalog."""

    def __init__(self, services: Any = None) -> None:
        self._services = services or services_module.default_services

    @property
    def services(self) -> Services:
        """The shared services."""
        services: Services = self._services()
        return services

    def name(self) -> str:
        """The validation action's name."""
        return "validate_needs_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        """The needs already given (so that they are validated) and the next one to ask, if any.

        rasa-sdk extracts and validates only the slots listed here and asks for the first
        one that is still empty, so the filled needs come first and at most one empty slot
        follows.
        """
        filled = [s for s in NEED_SLOTS if tracker.get_slot(s) is not None]
        # "exclusions" starts as [] (never asked); listing it makes rasa-sdk run extract_exclusions.
        return ["exclusions", *filled, *self._next_question(tracker)]

    def _next_question(self, tracker: Tracker) -> list[str]:
        if tracker.get_slot("seen_items") or questions_asked(tracker) >= MAX_QUESTIONS:
            return []
        if tracker.get_slot("category") is None:
            return ["category"]
        candidates = _candidates(tracker, self.services)
        if len(candidates) <= ENOUGH_CANDIDATES:
            return []
        if tracker.get_slot("budget") is None and answer_entropy(candidates, "budget") >= 0.5:
            return ["budget"]
        open_questions = [a for a in ATTRIBUTE_QUESTIONS if tracker.get_slot(a) is None]
        best = best_question(candidates, open_questions)
        return [best] if best else []

    async def extract_exclusions(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Add "no leather"-style exclusions from the latest message."""
        new = exclusions_in_message(tracker)
        current = list(tracker.get_slot("exclusions") or [])
        added = [w for w in new if w not in current]
        return {"exclusions": current + added} if added else {}

    def validate_category(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Map the answer to a catalog category, or explain what the shop has."""
        if value == ANY:
            return {"category": ANY}
        for candidate in _as_list(value):
            match = self.services.vocabulary.match("category", candidate)
            if match:
                return {"category": match}
        before = _value_before_message(tracker, "category")
        if before is not None and tracker.get_slot("requested_slot") != "category":
            # a stray word the NLU took for a category ("for boys") never erases what was said
            return {"category": before}
        vocabulary = self.services.vocabulary
        shown = vocabulary.popular_categories(MAX_CATEGORY_OPTIONS)
        more = len(vocabulary.values["category"]) > len(shown)
        options = ", ".join([*shown, texts.MORE_OPTIONS] if more else shown)
        dispatcher.utter_message(text=texts.UNKNOWN_CATEGORY.format(value=str(value)[:60], options=options))
        return {"category": None}

    def validate_budget(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Parse the budget; relative words ("cheap") resolve against the candidates' prices.

        The first readable one wins among the slot value, every budget entity of the
        message and the whole message ("under $1500, not leather" may yield a stray entity).
        """
        text = str((tracker.latest_message or {}).get("text") or "")
        budget = None
        if value != ANY:
            for candidate in [*_as_list(value), *entity_values(tracker, "budget"), text]:
                budget = parse_budget(candidate)
                if budget is not None:
                    value = candidate
                    break
        if value == ANY or (budget is not None and budget.no_limit):
            return {"budget": ANY, "budget_min": None, "budget_max": None}
        if budget is None:
            dispatcher.utter_message(text=texts.UNUSABLE_BUDGET.format(value=str(value)[:60]))
            return {"budget": None}
        minimum, maximum = budget.minimum, budget.maximum
        if budget.relative:
            tracker.slots.update({"budget_min": None, "budget_max": None})
            prices = [p.price for p in _candidates(tracker, self.services)] or [p.price for p in
                                                                                   self.services.recommender.catalog]
            low, high = RELATIVE_BUDGETS[budget.relative]
            minimum = round(float(np.quantile(prices, low)), 2) if low is not None else None
            maximum = round(float(np.quantile(prices, high)), 2) if high is not None else None
        return {"budget": str(value), "budget_min": minimum, "budget_max": maximum}

    def _validate_attribute(
        self, attribute: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        if value == ANY:
            return {attribute: ANY}
        negated = negated_values(tracker, attribute)
        for candidate in _as_list(value):
            if candidate.lower() in negated:
                return {attribute: None}  # "not leather" is an exclusion, not a wish
            match = self.services.vocabulary.match(attribute, candidate)
            if match:
                return {attribute: match}
        if tracker.get_slot("requested_slot") != attribute:
            # a stray word the NLU took for this attribute: keep what was said before, quietly
            return {attribute: _value_before_message(tracker, attribute)}
        values = self.services.vocabulary.popular_values(attribute, 8)
        # Catalog values may hold commas themselves ("Men, Boys"): then list them apart with semicolons.
        options = ("; " if any("," in v for v in values) else ", ").join(values)
        dispatcher.utter_message(text=texts.UNKNOWN_VALUE.format(value=str(value)[:40], attribute=attribute,
                                                                 options=options))
        return {attribute: None}

    def validate_colour(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> dict[str, Any]:
        """A colour the catalog has."""
        return self._validate_attribute("colour", value, dispatcher, tracker)

    def validate_material(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                          domain: DomainDict) -> dict[str, Any]:
        """A material the catalog has."""
        return self._validate_attribute("material", value, dispatcher, tracker)

    def validate_style(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                       domain: DomainDict) -> dict[str, Any]:
        """A style the catalog has."""
        return self._validate_attribute("style", value, dispatcher, tracker)

    def validate_use(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                     domain: DomainDict) -> dict[str, Any]:
        """A use the catalog knows."""
        return self._validate_attribute("use", value, dispatcher, tracker)


def _dont_mind_button() -> dict[str, str]:
    return {"title": texts.DONT_MIND, "payload": "/no_preference"}


class ActionAskCategory(ShopAction):
    """Ask what they are shopping for, with the categories as buttons."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_ask_category"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Utter the question."""
        buttons = [{"title": c, "payload": f'/inform{{"category": "{c}"}}'}
                   for c in self.services.vocabulary.popular_categories(MAX_CATEGORY_OPTIONS)]
        dispatcher.utter_message(text=texts.ASK_CATEGORY, buttons=buttons)
        return []


class ActionAskBudget(ShopAction):
    """Ask the budget, with price bands of the current candidates as buttons."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_ask_budget"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Utter the question with three ranges and "no budget"."""
        prices = sorted(p.price for p in _candidates(tracker, self.services))
        category = needs_from(tracker).category
        currency = self.services.recommender.catalog.currency
        buttons = []
        if prices:
            low, high = (round(float(np.quantile(prices, q)), -1) for q in (0.33, 0.66))
            for title, text in (
                (f"Under {format_price(low, currency)}", f"under {low:.0f}"),
                (f"{format_price(low, currency)}–{format_price(high, currency)}", f"between {low:.0f} and {high:.0f}"),
                (f"Over {format_price(high, currency)}", f"over {high:.0f}"),
            ):
                buttons.append({"title": title, "payload": f'/inform{{"budget": "{text}"}}'})
        buttons.append({"title": "No budget", "payload": "/no_preference"})
        example = format_price(round(float(np.median(prices)), -1), currency) if prices else "500"
        dispatcher.utter_message(
            text=texts.ASK_BUDGET.format(for_category=f" for the {category.lower()}" if category else "",
                                         example=example),
            buttons=buttons,
        )
        return []


class ActionAskAttribute(ShopAction):
    """Ask about one attribute, offering its commonest values among the candidates."""

    @property
    @abstractmethod
    def attribute(self) -> str:
        """The attribute asked about (subclasses set it)."""

    def name(self) -> str:
        """The action's name in the domain."""
        return f"action_ask_{self.attribute}"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Utter the question with up to five values and "I don't mind"."""
        top = self.services.vocabulary.popular_values(self.attribute, 5, _candidates(tracker, self.services))
        buttons = [{"title": v, "payload": f'/inform{{"{self.attribute}": "{v}"}}'} for v in top]
        dispatcher.utter_message(text=texts.ASK_ATTRIBUTE[self.attribute], buttons=[*buttons, _dont_mind_button()])
        return []


class ActionAskColour(ActionAskAttribute):
    """Ask for a colour."""

    attribute = "colour"


class ActionAskMaterial(ActionAskAttribute):
    """Ask for a material."""

    attribute = "material"


class ActionAskStyle(ActionAskAttribute):
    """Ask for a style."""

    attribute = "style"


class ActionAskUse(ActionAskAttribute):
    """Ask what it is for."""

    attribute = "use"

"""The in-process replay of the benchmarks: rules read as Rasa routes them, slots kept per customer."""

from __future__ import annotations

from typing import Any

import yaml

from actions.conversation import State
from benchmarks.replay import RESPONSES, ReplayBot, rule_actions
from retrieval.contract import SlotName, cards_in, recommendations_in
from tests.actions_support import demo_retriever


def _parse(text: str, intent: str, *entities: tuple[str, str]) -> dict[str, Any]:
    found = [{"entity": name, "value": value, "start": text.find(value), "end": text.find(value) + len(value)}
             for name, value in entities]
    return {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": found,
            "intent_ranking": [{"name": intent, "confidence": 0.9}]}


def test_every_intent_of_the_rules_goes_to_its_action() -> None:
    actions = rule_actions()
    assert actions["request_recommendation"] == actions["nlu_fallback"] == "action_shop"
    assert actions["thank"] == "utter_you_are_welcome" and actions["forget_me"] == "action_forget_me"


def test_a_conversation_is_answered_as_over_rest_and_remembered_per_customer() -> None:
    parses = {
        "hello": _parse("hello", "greet"),
        "a sofa under 900": _parse("a sofa under 900", "request_recommendation", ("category", "sofa"),
                                   ("budget", "under 900")),
        "i don't mind": _parse("i don't mind", "no_preference"),
        "cheers": _parse("cheers", "thank"),
    }
    bot = ReplayBot(demo_retriever(), parses)
    assert any(m.get("text") for m in bot.send("a", "hello"))
    reply = bot.send("a", "a sofa under 900")
    for _ in range(3):
        shown = [card for m in reply for card in cards_in(recommendations_in(m.get("custom")))]
        if shown:
            break
        reply = bot.send("a", "i don't mind")
    assert shown and all(c["category"] == "Sofas" and c["price"] <= 900 for c in shown)
    thanks = yaml.safe_load(RESPONSES.read_text(encoding="utf-8"))["responses"]["utter_you_are_welcome"][0]["text"]
    assert [m.get("text") for m in bot.send("a", "cheers")] == [thanks]
    # the slots are each customer's own: b's "I don't mind" finds no sofa need of a's
    bot.send("b", "i don't mind")
    assert State.from_dict(bot.slots["a"][SlotName.SHOP_STATE]).need.scope == ("Sofas",)
    assert State.from_dict(bot.slots["b"].get(SlotName.SHOP_STATE)).need.scope != ("Sofas",)

"""From parsed messages to moves: the intent names the move, the words back it up.

The texts are written as shoppers type them; the intents are what the classifier might say,
including its mistakes (a fallback for "none of these, sorry", ``like`` for "👎 the second").
"""

from __future__ import annotations

import ast
from typing import Any

import pytest

from actions.conversation import Need, State
from actions.moves import move_from, sentiment_of
from retrieval.catalog import Catalog, Product
from retrieval.vocabulary import CatalogVocabulary
from tests.actions_support import make_services
from tests.conftest import ROOT

SERVICES = make_services()
CATALOG = SERVICES.recommender.catalog
LAMPS = tuple(p.id for p in CATALOG if p.category == "Lamps")[:3]
LISTED = State(need=Need(scope=("Lamps",)), lists=(LAMPS,), seen=LAMPS)


def message(text: str, intent: str, *entities: dict[str, Any]) -> dict[str, Any]:
    return {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": list(entities),
            "intent_ranking": [{"name": intent, "confidence": 0.9}]}


def entity(name: str, value: str, role: str | None = None, *, text: str = "") -> dict[str, Any]:
    found: dict[str, Any] = {"entity": name, "value": value}
    if role:
        found["role"] = role
    if text and value in text:
        found["start"] = text.index(value)
    return found


@pytest.mark.parametrize(("text", "intent", "entities", "state", "kind", "fields"), [
    ("need a cheap desk for wfh", "request_recommendation", [entity("category", "desk")], State(), "state",
     {"scope": ("Desks",), "relative_budget": "cheap"}),
    ("sofaa under 900 pls", "request_recommendation", [entity("category", "sofa"), entity("budget", "under 900")],
     State(), "state", {"scope": ("Sofas",), "budget_max": 900.0}),
    # an amount said beside a word for cheap is the budget; an age is no amount; a ceiling may follow the amount
    ("cheap desk for my grandad, under 250", "request_recommendation",
     [entity("budget", "cheap"), entity("category", "desk"), entity("budget", "under 250")], State(), "state",
     {"scope": ("Desks",), "budget_max": 250.0, "relative_budget": None}),
    ("a lamp for my son, he's 12", "request_recommendation", [entity("category", "lamp"), entity("budget", "12")],
     State(), "state", {"scope": ("Lamps",), "budget_max": None}),
    ("£300 tops", "inform", [entity("budget", "£300 tops")], State(need=Need(scope=("Sofas",)), pending="budget"),
     "state", {"budget_max": 300.0}),
    ("couch, nothing leather", "inform",
     [entity("category", "couch"), entity("material", "leather", text="couch, nothing leather")], State(),
     "state", {"scope": ("Sofas",), "exclusions": ("leather",)}),
    ("grey", "inform", [], State(need=Need(scope=("Sofas",)), pending="colour"), "state",
     {"wishes": {"colour": "grey"}}),
    ("gray", "nlu_fallback", [], State(need=Need(scope=("Sofas",)), pending="colour"), "state",
     {"wishes": {"colour": "grey"}}),
    ("500", "inform", [], State(need=Need(scope=("Sofas",)), pending="budget"), "state", {"budget_max": 500.0}),
    ("between 4 and 9", "inform", [entity("budget", "4")], State(need=Need(scope=("Sofas",)), pending="budget"),
     "state", {"budget_min": 4.0, "budget_max": 9.0}),
    ("44,maroon", "inform", [], State(need=Need(scope=("Sofas",)), pending="colour"), "state",
     {"budget_max": None, "unmatched": "44,maroon"}),
    # a percentage the NLU tagged as a budget is a material's share
    ("100% velvet", "inform", [entity("budget", "100"), entity("material", "velvet")],
     State(need=Need(scope=("Sofas",), budget_max=840.0), pending="material"), "state",
     {"budget_max": None, "wishes": {"material": "velvet"}}),
    ("something for my office, an office chair", "request_recommendation",
     [entity("category", "office"), entity("category", "office chair")], State(), "state",
     {"scope": ("Office Chairs",), "scope_guessed": False}),
    ("dont care", "no_preference", [], State(need=Need(scope=("Sofas",)), pending="colour"), "dont_mind", {}),
    ("whatever u think", "nlu_fallback", [], State(need=Need(scope=("Sofas",)), pending="colour"), "dont_mind", {}),
    ("any colour is fine", "no_preference", [entity("attribute", "colour")], LISTED, "dont_mind",
     {"drop": ("colour",)}),
    ("forget the budget", "inform", [], LISTED, "state", {"drop": ("budget",)}),
    ("actually, show me sofas instead", "inform", [entity("category", "sofas")], LISTED, "state",
     {"scope": ("Sofas",)}),
    ("make it 600", "inform", [entity("budget", "600")], LISTED, "state", {"budget_max": 600.0}),
    ("none of these, sorry", "nlu_fallback", [], LISTED, "reject_all", {}),
    ("nah", "deny", [], LISTED, "reject_all", {}),
    ("no", "deny", [], State(need=Need(scope=("Lamps",)), pending="consent", lists=(LAMPS,)), "no", {}),
    ("all too expensive", "reject_all", [], LISTED, "reject_all", {"critique": "cheaper"}),
    ("i dont like any of these", "reject_all", [], LISTED, "reject_all", {}),
    ("they're all way too pricey", "reject_all", [], LISTED, "reject_all", {"critique": "cheaper"}),
    ("the 2nd one 👎", "like", [entity("ordinal", "2nd")], LISTED, "feedback",
     {"sentiment": "dislike", "items": (LAMPS[1],)}),
    ("love the first", "like", [entity("ordinal", "first")], LISTED, "feedback",
     {"sentiment": "like", "items": (LAMPS[0],)}),
    ("the second one is nice but too expensive", "dislike", [entity("ordinal", "second")], LISTED, "feedback",
     {"critique": "cheaper", "items": (LAMPS[1],)}),
    ("cheaper than the 3rd?", "critique_cheaper", [entity("ordinal", "3rd")], LISTED, "critique",
     {"critique": "cheaper", "items": (LAMPS[2],)}),
    ("something a bit fancier than the third one", "critique_pricier", [entity("ordinal", "third")], LISTED, "critique",
     {"critique": "pricier", "items": (LAMPS[2],)}),
    ("like the second but cheaper", "critique_cheaper", [entity("ordinal", "second")], LISTED, "critique",
     {"critique": "cheaper", "items": (LAMPS[1],)}),
    # "but" alone contrasts: "same lamp but black" wishes black; "anything but black" rules it out
    ("same lamp but black?", "critique_different", [entity("colour", "black", text="same lamp but black?")], LISTED,
     "critique", {"value": "black", "exclusions": ()}),
    ("is the first one available in black?", "critique_different", [entity("ordinal", "first")], LISTED, "critique",
     {"value": "black", "items": (LAMPS[0],)}),  # the catalog's own colour, untagged by the NLU
    ("anything but black", "critique_different", [entity("colour", "black", text="anything but black")], LISTED,
     "critique", {"exclusions": ("black",)}),
    ("more like the first one", "more_like", [entity("ordinal", "first")], LISTED, "more_like",
     {"items": (LAMPS[0],)}),
    ("in blue maybe", "critique_different", [entity("colour", "blue")], LISTED, "critique",
     {"critique": "different", "attribute": "colour", "value": "blue", "text": ""}),
    # a difference said in the customer's own words is searched; "something different" says none
    ("something spookier than these", "critique_different", [], LISTED, "critique",
     {"critique": "different", "attribute": None, "text": "something spookier than these"}),
    ("something different", "critique_different", [], LISTED, "critique", {"critique": "different", "text": ""}),
    ("start again", "start_over", [], LISTED, "start_over", {}),
    ("reset pls", "start_over", [], LISTED, "start_over", {}),
    ("just show me something", "request_recommendation", [], State(), "browse", {}),
    # Words of a shop the classifier was not trained on: the catalog is searched for what they mean.
    ("a kite for the beach", "request_recommendation", [], State(), "browse", {"text": "a kite for the beach"}),
    ("stuff for the pool", "browse", [], State(), "browse", {"text": "stuff for the pool"}),
    ("bike for a 5 year old", "out_of_scope", [entity("category", "bike")], State(), "out_of_scope",
     {"text": "bike for a 5 year old"}),
    # about a list, with nothing on screen: unclear, so the catalog is searched before the customer is asked
    ("growth chart", "critique_bigger", [], State(), "unclear", {"text": "growth chart"}),
    ("where is my order", "choose_item", [], State(), "unclear", {"text": "where is my order"}),
    ("???", "inform", [], State(), "unclear", {"text": ""}),
    ("...", "affirm", [], LISTED, "unclear", {}),
    ("barbie accessories under 20", "critique_pricier", [], State(), "state", {"budget_max": 20.0}),
    ("something for my office", "request_recommendation", [], State(), "state",
     {"scope": ("Office Chairs",), "scope_guessed": True}),
    ("an office chair", "request_recommendation", [], State(), "state",
     {"scope": ("Office Chairs",), "scope_guessed": False}),
    ("barbie accessories", "critique_pricier", [], State(), "unclear", {"text": "barbie accessories"}),
    ("i like the first", "like", [entity("ordinal", "first")], State(), "feedback", {"sentiment": "like"}),
    ("growth chart", "critique_bigger", [], LISTED, "critique", {"critique": "bigger"}),
    ("cool. now sofas", "affirm", [], LISTED, "state", {"scope": ("Sofas",)}),
    ("on second thoughts a sofa", "nlu_fallback", [], LISTED, "state", {"scope": ("Sofas",)}),
    ("on second thoughts my office", "nlu_fallback", [], LISTED, "unclear", {}),
    ("ok, something for my office", "affirm", [], LISTED, "yes", {}),  # a word that only hints at a kind
    ("more of those lamps", "show_more", [], LISTED, "show_more", {}),
    ("actually show me sofas instead", "browse", [entity("category", "sofas")], LISTED, "state",
     {"scope": ("Sofas",)}),
    ("kite under 25", "nlu_fallback", [entity("budget", "under 25")], State(), "state",
     {"budget_max": 25.0, "text": "kite under 25"}),
    ("my baby is teething, anything to chew on", "no_preference", [], State(), "dont_mind",
     {"text": "my baby is teething, anything to chew on"}),
    ("whatever", "no_preference", [], State(need=Need(scope=("Sofas",)), pending="colour"), "dont_mind", {"text": ""}),
    ("asdfgh", "nlu_fallback", [], State(), "unclear", {}),
    ("compare 1 and 3", "compare", [entity("ordinal", "1"), entity("ordinal", "3")], LISTED, "compare",
     {"items": (LAMPS[0], LAMPS[2])}),
    ("do you have it in black?", "inform", [entity("colour", "black", "exclude")], LISTED, "state",
     {"wishes": {"colour": "black"}}),
    # Everyday words for several of the catalog's values: the conversation keeps the customer's word.
    ("a wooden desk", "request_recommendation", [entity("category", "desk")], State(), "state",
     {"scope": ("Desks",), "wishes": {"material": "wooden"}}),
    ("sofa in dark colours", "request_recommendation", [entity("category", "sofa")], State(), "state",
     {"scope": ("Sofas",), "wishes": {"colour": "dark"}}),
    ("dark", "inform", [], State(need=Need(scope=("Sofas",)), pending="colour"), "state",
     {"wishes": {"colour": "dark"}}),
    ("dark grey", "inform", [], State(need=Need(scope=("Sofas",)), pending="colour"), "state",
     {"wishes": {"colour": "grey"}}),  # a value named outright beats its family
    ("a light for my desk", "request_recommendation", [], State(), "state", {"wishes": {}}),
    ("a bright reading lamp with a linen shade", "request_recommendation", [entity("category", "lamp")], State(),
     "state", {"wishes": {"material": "linen"}}),  # no colour: "bright" is the lamp's, a shade is a lampshade
    ("a rug in light colours", "request_recommendation", [entity("category", "rug")], State(), "state",
     {"wishes": {"colour": "light"}}),
    # After a list for words that named no kind, new words that name none either are a new search ...
    ("something to keep my drinks cold", "request_recommendation", [],
     State(need=Need(text="something cosy for reading at night"), lists=(LAMPS,), seen=LAMPS), "browse",
     {"text": "something to keep my drinks cold"}),
    # ... a budget alone is not
    ("under 50 please", "inform", [entity("budget", "under 50")],
     State(need=Need(text="something cosy for reading at night"), lists=(LAMPS,), seen=LAMPS), "state",
     {"text": "", "budget_max": 50.0}),
    # a button's payload is not the customer's words
    ('/inform{"category": "Sofas"}', "inform", [entity("category", "Sofas")],
     State(need=Need(scope=("Armchairs", "Sofas")), pending="kind"), "state", {"scope": ("Sofas",), "text": ""}),
])
def test_move_from(text: str, intent: str, entities: list[dict[str, Any]], state: State, kind: str,
                   fields: dict[str, Any]) -> None:
    move = move_from(message(text, intent, *entities), state, SERVICES.vocabulary, CATALOG)
    assert move.kind == kind, move
    for name, value in fields.items():
        assert getattr(move, name) == value, (name, move)


def test_the_conversation_model_imports_no_rasa() -> None:
    for module in ("conversation", "moves", "catalog_shop"):
        tree = ast.parse((ROOT / "actions" / f"{module}.py").read_text())
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        imported |= {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        assert not {m for m in imported if m.split(".")[0] in ("rasa", "rasa_sdk")}, module


@pytest.mark.parametrize(("text", "intent", "state", "kind", "fields"), [
    ("hi i'm after a sofaa", "request_recommendation", State(), "state", {"scope": ("Sofas",)}),
    ("looking for a lmap for reading", "request_recommendation", State(), "state", {"scope": ("Lamps",)}),
    ("in gold if u have it", "nlu_fallback", LISTED, "state", {"wishes": {"colour": "gold"}}),
    ("yep sorted thanks", "nlu_fallback", State(pending="satisfaction"), "yes", {}),
    ("nah not really", "nlu_fallback", State(pending="consent"), "no", {}),
    ("some sneakers for the gym, nothing over a hundred and twenty", "request_recommendation", State(), "state",
     {"scope": ("Sneakers",), "budget_max": 120.0}),
])
def test_the_words_back_the_classifier_up(text: str, intent: str, state: State, kind: str,
                                          fields: dict[str, Any]) -> None:
    move = move_from(message(text, intent), state, SERVICES.vocabulary, CATALOG)
    assert move.kind == kind, move
    for name, value in fields.items():
        assert getattr(move, name) == value, (name, move)


def test_an_answer_to_the_pending_question_is_no_other_wish_as_well() -> None:
    # Flipkart's watches say "steel" as a colour and as a material: "steel" to the colour question is the colour
    watches = Catalog([Product("w1", "Analog watch", 1200.0, "INR", "Watches", colour="Steel", material="Steel"),
                       Product("w2", "Digital watch", 900.0, "INR", "Watches", colour="Black", material="Plastic")])
    vocabulary = CatalogVocabulary(watches)
    state = State(need=Need(scope=("Watches",)), pending="colour")
    move = move_from(message("steel", "inform"), state, vocabulary, watches)
    assert move.wishes == {"colour": "Steel"}, move
    move = move_from(message("steel", "inform", entity("colour", "Steel")), state, vocabulary, watches)
    assert move.wishes == {"colour": "Steel"}, move  # tagged by the NLU as the colour: the same
    # another value in the same answer still counts
    mixed = Catalog([*watches, Product("w3", "Dress watch", 1500.0, "INR", "Watches", colour="Black",
                                        material="Leather")])
    move = move_from(message("black, leather strap", "inform", entity("colour", "black")),
                     State(need=Need(scope=("Watches",)), pending="colour"), CatalogVocabulary(mixed), mixed)
    assert move.wishes == {"colour": "Black", "material": "Leather"}, move
    # untagged words still back up both where no question was asked
    move = move_from(message("a steel watch", "request_recommendation"), State(), vocabulary, watches)
    assert move.wishes == {"colour": "Steel", "material": "Steel"}, move


@pytest.mark.parametrize(("ranking", "sentiment"), [
    ([("feedback", 0.6), ("dislike", 0.35), ("like", 0.05)], "dislike"),   # "some bad feedback on these"
    ([("feedback", 0.7), ("like", 0.25), ("dislike", 0.05)], "like"),
    ([("feedback", 0.95), ("like", 0.03), ("dislike", 0.02)], None),       # "let me rate these": no sentiment yet
])
def test_a_message_of_another_intent_takes_its_sentiment_from_the_classifiers_runner_up(
        ranking: list[tuple[str, float]], sentiment: str | None) -> None:
    parsed = {"text": "about these", "intent": {"name": ranking[0][0], "confidence": ranking[0][1]},
              "entities": [], "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking]}
    assert sentiment_of(parsed) == sentiment

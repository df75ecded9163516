"""Mistakes the customer simulator (benchmarks/simulator.py) found in real conversations, pinned down.

The NLU sometimes gives the ``exclude`` role to a value the customer asked *for*: a bare
"leather" answering "Any preferred material?", or "do you have it in black?". The moves
believe the role only when the words carry a negation.
"""

from __future__ import annotations

from typing import Any

from actions import texts
from actions.conversation import Need, State
from actions.moves import entity_values, negated_values
from actions.shop import ActionShop
from tests.actions_support import cards, entity, make_services, run, shop_tracker, state_of, texts_of, tracker


def located(name: str, value: str, text: str, role: str | None = "exclude") -> dict[str, object]:
    found = entity(name, value, role)
    found["start"] = text.index(value)
    return found


def message(text: str, intent: str, entities: list[dict[str, Any]]) -> dict[str, Any]:
    """The latest message of a tracker saying ``text``, as the moves read it."""
    return dict(tracker(text, intent, entities=entities).latest_message)


def test_a_bare_answer_is_a_wish_even_when_the_model_says_exclude() -> None:
    ents = [located("material", "leather", "leather")]
    latest = message("leather", "inform", ents)
    assert negated_values(latest, "material") == [] and entity_values(latest, "material") == ["leather"]
    services = make_services()
    asked = State(need=Need(scope=("Sofas",), settled=("budget", "colour")), pending="material", questions=2)
    _, events = run(ActionShop(lambda: services), shop_tracker("leather", "inform", ents, asked))
    need = state_of(events).need
    assert need.wishes.get("material") == "leather" and need.exclusions == ()


def test_a_negation_still_excludes() -> None:
    for text in ("not leather", "anything but leather", "no leather please", "i don't want leather",
                 "something less leather"):
        latest = message(text, "inform", [located("material", "leather", text)])
        assert negated_values(latest, "material") == ["leather"], text
    # the role alone is believed when the words say no, wherever they say it
    latest = message("leather? no", "inform", [located("material", "leather", "leather? no")])
    assert negated_values(latest, "material") == ["leather"]


def test_a_negation_rules_the_value_out_in_the_conversation() -> None:
    services = make_services()
    text = "a sofa, no leather please"
    ents = [entity("category", "sofa"), located("material", "leather", text, role=None)]
    _, events = run(ActionShop(lambda: services), shop_tracker(text, "request_recommendation", ents))
    need = state_of(events).need
    assert need.exclusions == ("leather",) and "material" not in need.wishes


def test_do_you_have_it_in_black_asks_for_black() -> None:
    services = make_services()
    catalog = services.recommender.catalog
    shown = tuple(p.id for p in catalog if p.category == "Office Chairs" and p.colour != "black")[:3]
    text = "do you have it in black?"
    state = State(need=Need(scope=("Office Chairs",)), lists=(shown,), seen=shown)
    dispatcher, events = run(ActionShop(lambda: services),
                             shop_tracker(text, "critique_different", [located("colour", "black", text)], state))
    assert texts.DIFFERENT_TO.format(value="black") in texts_of(dispatcher)
    need = state_of(events).need
    assert need.wishes.get("colour") == "black" and "black" not in need.exclusions
    assert cards(dispatcher) and all(catalog.get(i["id"]).colour == "black" for i in cards(dispatcher))  # type: ignore[union-attr]


def test_not_cotton_excludes_cotton_even_without_the_role() -> None:
    latest = message("not cotton", "critique_different", [located("material", "cotton", "not cotton", role=None)])
    assert negated_values(latest, "material") == ["cotton"]
    assert entity_values(latest, "material") == [] and entity_values(latest, "material", "exclude") == ["cotton"]


def test_a_stray_category_word_keeps_the_category() -> None:
    services = make_services()
    asking_use = State(need=Need(scope=("Sofas",), scope_words="sofa", settled=("budget",)), pending="use",
                       questions=2)
    dispatcher, events = run(ActionShop(lambda: services),
                             shop_tracker("for boys", "inform", [entity("category", "boys")], asking_use))
    assert state_of(events).need.scope == ("Sofas",)
    assert not any("we don't carry" in t for t in texts_of(dispatcher))
    # asked for, an unknown category is still explained
    dispatcher, events = run(ActionShop(lambda: services), shop_tracker("spaceship", "inform",
                                                                        state=State(pending="category")))
    assert state_of(events).need.scope == () and "we don't carry" in texts_of(dispatcher)[0]

"""Mistakes the customer simulator (benchmarks/simulator.py) found in real conversations, pinned down.

The NLU sometimes gives the ``exclude`` role to a value the customer asked *for*: a bare
"leather" answering "Any preferred material?", or "do you have it in black?". The actions
believe the role only when the words carry a negation.
"""

from __future__ import annotations

import asyncio

from rasa_sdk.executor import CollectingDispatcher

from actions import texts
from actions.feedback import ActionCritique
from actions.needs_form import ValidateNeedsForm
from actions.state import entity_values, negated_values
from tests.actions_support import cards, entity, make_services, run, slots_of, texts_of, tracker


def located(name: str, value: str, text: str, role: str | None = "exclude") -> dict[str, object]:
    found = entity(name, value, role)
    found["start"] = text.index(value)
    return found


def test_a_bare_answer_is_a_wish_even_when_the_model_says_exclude() -> None:
    t = tracker("leather", "inform", entities=[located("material", "leather", "leather")], active_loop="needs_form",
                slots={"category": "Sofas", "requested_slot": "material"})
    assert negated_values(t, "material") == [] and entity_values(t, "material") == ["leather"]
    services = make_services()
    form = ValidateNeedsForm(lambda: services)
    assert asyncio.run(form.extract_exclusions(CollectingDispatcher(), t, {})) == {}
    assert form.validate_material("leather", CollectingDispatcher(), t, {}) == {"material": "leather"}


def test_a_negation_still_excludes() -> None:
    for text in ("not leather", "anything but leather", "no leather please", "i don't want leather",
                 "something less leather"):
        t = tracker(text, "inform", entities=[located("material", "leather", text)])
        assert negated_values(t, "material") == ["leather"], text
    # the role alone is believed when the words say no, wherever they say it
    t = tracker("leather? no", "inform", entities=[located("material", "leather", "leather? no")])
    assert negated_values(t, "material") == ["leather"]


def test_do_you_have_it_in_black_asks_for_black() -> None:
    services = make_services()
    shown = [p.id for p in services.recommender.catalog if p.category == "Office Chairs" and p.colour != "black"][:3]
    text = "do you have it in black?"
    t = tracker(text, "critique_different", entities=[located("colour", "black", text)],
                slots={"category": "Office Chairs", "shown_items": shown, "seen_items": shown})
    dispatcher, events = run(ActionCritique(lambda: services), t)
    assert texts.DIFFERENT_TO.format(value="black") in texts_of(dispatcher)
    assert slots_of(events).get("colour") == "black" and "black" not in (slots_of(events).get("exclusions") or [])
    assert any(services.recommender.catalog.get(i["id"]).colour == "black" for i in cards(dispatcher))  # type: ignore[union-attr]


def test_not_cotton_excludes_cotton_even_without_the_role() -> None:
    text = "not cotton"
    t = tracker(text, "critique_different", entities=[located("material", "cotton", text, role=None)])
    assert negated_values(t, "material") == ["cotton"]
    assert entity_values(t, "material") == [] and entity_values(t, "material", "exclude") == ["cotton"]


def test_a_stray_category_word_keeps_the_category() -> None:
    services = make_services()
    form = ValidateNeedsForm(lambda: services)
    earlier = [{"event": "user", "text": "a sofa"}, {"event": "slot", "name": "category", "value": "Sofas"},
               {"event": "slot", "name": "requested_slot", "value": "use"}]
    t = tracker("for boys", "inform", slots={"category": "boys", "requested_slot": "use"}, events=earlier)
    said = CollectingDispatcher()
    assert form.validate_category("boys", said, t, {}) == {"category": "Sofas"}
    assert said.messages == []
    # asked for, an unknown category is still explained
    t = tracker("spaceship", "inform", slots={"category": "spaceship", "requested_slot": "category"})
    assert form.validate_category("spaceship", said, t, {}) == {"category": None} and said.messages

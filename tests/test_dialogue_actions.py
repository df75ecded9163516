"""Every action, with Tracker.from_dict and CollectingDispatcher (no Rasa server)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from actions import texts
from actions.explain import ActionCompare, ActionExplain
from actions.feedback import ActionCritique, ActionFeedback, size_number
from actions.follow_through import ActionChoose, ActionGreet, ActionHandleYesNo, ActionHandoff, ActionRephrase
from actions.needs_form import ActionAskBudget, ActionAskCategory, ActionAskColour, ValidateNeedsForm
from actions.privacy import ActionDescribeProfile, ActionForgetMe, ActionSetPersonalisation
from actions.recommend import ActionMoreLike, ActionRecommend, ActionShowMore, ActionSurprise
from actions.services import Services
from store.models import Interaction, InteractionKind
from tests.actions_support import cards, entity, make_services, run, slots_of, texts_of, tracker


@pytest.fixture
def services() -> Services:
    return make_services()


def pseudonymous(services: Services, kind: InteractionKind, sender: str = "customer-1") -> int:
    """Interactions of ``kind`` logged under the sender's pseudonym (customers who did not consent)."""
    with services.profiles.engine.connect() as connection:
        return int(connection.scalar(
            select(func.count()).select_from(Interaction).where(
                Interaction.kind == kind, Interaction.customer_id.is_(None),
                Interaction.pseudonym == services.profiles.pseudonyms.pseudonym(sender))) or 0)


def shown_for(services: Services, category: str, count: int = 3) -> list[str]:
    return [p.id for p in services.recommender.catalog if p.category == category and p.in_stock][:count]


def test_recommend_obeys_category_budget_and_exclusions(services: Services) -> None:
    slots = {"category": "Sofas", "budget_max": 1200.0, "colour": "grey"}
    t = tracker("a grey sofa, not leather", entities=[entity("material", "leather", "exclude")], slots=slots)
    dispatcher, events = run(ActionRecommend(lambda: services), t)
    items = cards(dispatcher)
    assert len(items) == 3
    catalog = services.recommender.catalog
    for item in items:
        product = catalog.get(item["id"])
        assert product is not None and product.category == "Sofas" and product.price <= 1200
        assert "leather" not in f"{product.material} {product.title}".lower()
        assert item["reason"]
    set_slots = slots_of(events)
    assert set_slots["exclusions"] == ["leather"]
    assert set_slots["shown_items"] == [i["id"] for i in items] == set_slots["seen_items"]
    assert set_slots["request_id"].startswith("r-")
    # impressions were logged under a pseudonym; nothing is kept under the sender id before consent
    assert pseudonymous(services, InteractionKind.IMPRESSION) == 3
    assert not services.profiles.snapshot("customer-1").known


def test_show_more_never_repeats(services: Services) -> None:
    seen = shown_for(services, "Desks")
    t = tracker("more", "show_more", slots={"category": "Desks", "seen_items": seen, "shown_items": seen})
    dispatcher, events = run(ActionShowMore(lambda: services), t)
    new = [i["id"] for i in cards(dispatcher)]
    assert len(new) == 3 and not set(new) & set(seen)
    assert slots_of(events)["seen_items"] == seen + new


def test_show_more_says_when_nothing_is_left(services: Services) -> None:
    lamps = [p.id for p in services.recommender.catalog if p.category == "Lamps"]
    t = tracker("more", "show_more", slots={"category": "Lamps", "seen_items": lamps})
    dispatcher, _ = run(ActionShowMore(lambda: services), t)
    assert cards(dispatcher) == [] and texts_of(dispatcher) == [texts.NO_MORE]


def test_like_by_ordinal_logs_learns_and_refines(services: Services) -> None:
    shown = shown_for(services, "Rugs")
    services.profiles.set_consent("customer-1", True)
    t = tracker("i like the second one", "like", entities=[entity("ordinal", "second")],
                slots={"category": "Rugs", "shown_items": shown, "request_id": "r-1"})
    dispatcher, events = run(ActionFeedback(lambda: services), t)
    assert slots_of(events)["liked_items"] == [shown[1]]
    assert len(cards(dispatcher)) == 3 and not {i["id"] for i in cards(dispatcher)} & set(shown)
    snapshot = services.profiles.snapshot("customer-1")
    assert snapshot.likes == 1 and snapshot.liked_items == (shown[1],)
    assert snapshot.affinities.get("category:rugs") == 1.0


def test_dislike_button_removes_the_item_and_changes_the_next_list(services: Services) -> None:
    shown = shown_for(services, "Sofas")
    t = tracker(f'/feedback{{"item_id": "{shown[0]}", "sentiment": "dislike"}}', "feedback",
                entities=[entity("item_id", shown[0]), entity("sentiment", "dislike")],
                slots={"category": "Sofas", "shown_items": shown})
    dispatcher, events = run(ActionFeedback(lambda: services), t)
    assert slots_of(events)["rejected_items"] == [shown[0]]
    new = [i["id"] for i in cards(dispatcher)]
    assert shown[0] not in new and new != shown
    # without consent nothing was learned, but the dislike was logged under a pseudonym
    snapshot = services.profiles.snapshot("customer-1")
    assert pseudonymous(services, InteractionKind.DISLIKE) == 1 and snapshot.affinities == {}


@pytest.mark.parametrize(("message", "intent", "kept"), [("👎 the second", "like", "rejected_items"),
                                                        ("the second 👍🏼", "dislike", "liked_items")])
def test_a_typed_thumb_outranks_a_misread_intent(services: Services, message: str, intent: str,
                                                  kept: str) -> None:
    shown = shown_for(services, "Lamps")
    t = tracker(message, intent, entities=[entity("ordinal", "second")],
                slots={"category": "Lamps", "shown_items": shown})
    _, events = run(ActionFeedback(lambda: services), t)
    assert slots_of(events)[kept] == [shown[1]]
    counts = (pseudonymous(services, InteractionKind.LIKE), pseudonymous(services, InteractionKind.DISLIKE))
    assert counts == ((0, 1) if kept == "rejected_items" else (1, 0))


def test_first_feedback_asks_for_consent_once(services: Services) -> None:
    shown = shown_for(services, "Lamps")
    t = tracker("love the first", "like", entities=[entity("ordinal", "first")],
                slots={"category": "Lamps", "shown_items": shown})
    dispatcher, events = run(ActionFeedback(lambda: services), t)
    assert texts.CONSENT_QUESTION in texts_of(dispatcher)
    assert slots_of(events)["awaiting"] == "consent"
    again, _ = run(ActionFeedback(lambda: services), t)
    assert texts.CONSENT_QUESTION not in texts_of(again)


def test_feedback_without_a_reference_asks_which(services: Services) -> None:
    shown = shown_for(services, "Lamps")
    dispatcher, events = run(ActionFeedback(lambda: services), tracker("i like it", "like",
                                                                       slots={"shown_items": shown}))
    assert texts_of(dispatcher) == [texts.WHICH_ITEM] and events == []
    dispatcher, _ = run(ActionFeedback(lambda: services), tracker("i like the first", "like"))
    assert texts_of(dispatcher) == [texts.NOTHING_SHOWN]


@pytest.mark.parametrize(
    ("intent", "message", "check"),
    [
        ("critique_cheaper", "too expensive", lambda new, ref: all(p.price < min(r.price for r in ref) for p in new)),
        ("critique_pricier", "fancier please", lambda new, ref: all(p.price > max(r.price for r in ref) for p in new)),
    ],
)
def test_price_critiques_move_the_budget(services: Services, intent: str, message: str, check: Any) -> None:
    shown = shown_for(services, "Armchairs")
    t = tracker(message, intent, slots={"category": "Armchairs", "shown_items": shown})
    dispatcher, events = run(ActionCritique(lambda: services), t)
    catalog = services.recommender.catalog
    new = [catalog.get(i["id"]) for i in cards(dispatcher)]
    assert len(new) == 3 and check(new, [catalog.get(i) for i in shown])
    bounds = slots_of(events)
    if intent == "critique_cheaper":
        assert bounds["budget_max"] is not None and bounds["budget_min"] is None
    else:
        assert bounds["budget_min"] is not None and bounds["budget_max"] is None


def test_cheaper_than_a_named_item(services: Services) -> None:
    shown = shown_for(services, "Sofas")
    catalog = services.recommender.catalog
    second = catalog.get(shown[1])
    assert second is not None
    t = tracker("the second one is nice but too expensive", "critique_cheaper",
                entities=[entity("ordinal", "second")], slots={"category": "Sofas", "shown_items": shown})
    dispatcher, events = run(ActionCritique(lambda: services), t)
    assert slots_of(events)["budget_max"] == round(second.price * 0.9, 2)
    assert all(i["price"] <= second.price * 0.9 for i in cards(dispatcher))


def test_another_colour_excludes_the_current_one(services: Services) -> None:
    shown = shown_for(services, "Sofas", 1)
    catalog = services.recommender.catalog
    colour = catalog.get(shown[0]).colour  # type: ignore[union-attr]
    t = tracker("another colour", "critique_different", entities=[entity("attribute", "colour")],
                slots={"category": "Sofas", "shown_items": shown, "colour": colour})
    dispatcher, events = run(ActionCritique(lambda: services), t)
    assert slots_of(events)["exclusions"] == [colour]
    assert all(catalog.get(i["id"]).colour != colour for i in cards(dispatcher))  # type: ignore[union-attr]


@pytest.mark.parametrize("intent", ["critique_bigger", "critique_smaller"])
def test_size_critiques_move_the_size(services: Services, intent: str) -> None:
    catalog = services.recommender.catalog
    sofas = sorted((p for p in catalog if p.category == "Sofas" and p.in_stock), key=lambda p: size_number(p.size) or 0)
    anchor = sofas[len(sofas) // 2]
    t = tracker("bigger" if intent == "critique_bigger" else "smaller", intent,
                slots={"category": "Sofas", "shown_items": [anchor.id]})
    dispatcher, _ = run(ActionCritique(lambda: services), t)
    sizes = [size_number(catalog.get(i["id"]).size) for i in cards(dispatcher)]  # type: ignore[union-attr]
    anchor_size = size_number(anchor.size) or 0
    assert len(sizes) == 3
    assert all((s or 0) > anchor_size if intent == "critique_bigger" else (s or 0) < anchor_size for s in sizes)


def test_more_like_the_second(services: Services) -> None:
    shown = shown_for(services, "Backpacks")
    t = tracker("more like the second", "more_like", entities=[entity("ordinal", "second")],
                slots={"shown_items": shown})
    dispatcher, events = run(ActionMoreLike(lambda: services), t)
    assert slots_of(events)["like_item"] == shown[1]
    assert {i["category"] for i in cards(dispatcher)} == {"Backpacks"}
    assert not {i["id"] for i in cards(dispatcher)} & set(shown)


def test_why_uses_the_reason_shown(services: Services) -> None:
    shown = shown_for(services, "Lamps")
    t = tracker("why the first?", "ask_why", entities=[entity("ordinal", "first")],
                slots={"shown_items": shown, "shown_reasons": ["brass, under your $100 budget", "b", "c"]})
    dispatcher, _ = run(ActionExplain(lambda: services), t)
    title = services.recommender.catalog.get(shown[0]).title  # type: ignore[union-attr]
    assert texts_of(dispatcher) == [f"Why the {title}: brass, under your $100 budget."]


def test_compare_lists_the_differences_that_matter(services: Services) -> None:
    shown = shown_for(services, "Desks")
    t = tracker("compare 1 and 3", "compare", entities=[entity("ordinal", "1"), entity("ordinal", "3")],
                slots={"shown_items": shown})
    dispatcher, _ = run(ActionCompare(lambda: services), t)
    [answer] = texts_of(dispatcher)
    catalog = services.recommender.catalog
    first, third = catalog.get(shown[0]), catalog.get(shown[2])
    assert answer.startswith(f"{first.title} vs {third.title}:")  # type: ignore[union-attr]
    assert "• price:" in answer and "• material:" in answer and "• rating:" in answer
    dispatcher, _ = run(ActionCompare(lambda: services), tracker("compare", "compare", slots={"shown_items": shown}))
    assert texts_of(dispatcher) == [texts.NEED_TWO]


def test_choose_confirms_links_and_asks_about_satisfaction(services: Services) -> None:
    shown = shown_for(services, "Beds")
    t = tracker("i'll take the third", "choose_item", entities=[entity("ordinal", "third")],
                slots={"shown_items": shown})
    dispatcher, events = run(ActionChoose(lambda: services), t)
    product = services.recommender.catalog.get(shown[2])
    assert product is not None and product.url in texts_of(dispatcher)[0]
    assert texts_of(dispatcher)[1] == texts.ASK_SATISFIED and slots_of(events)["awaiting"] == "satisfaction"
    assert pseudonymous(services, InteractionKind.CHOICE) == 1
    dispatcher, events = run(ActionHandleYesNo(lambda: services),
                             tracker("yes", "affirm", slots={"awaiting": "satisfaction"}))
    assert texts_of(dispatcher) == [texts.SATISFIED] and slots_of(events) == {"awaiting": None}


def test_consent_answer_is_stored_and_session_likes_are_kept(services: Services) -> None:
    liked = shown_for(services, "Lamps", 1)
    run(ActionHandleYesNo(lambda: services),
        tracker("yes", "affirm", slots={"awaiting": "consent", "liked_items": liked}))
    snapshot = services.profiles.snapshot("customer-1")
    assert snapshot.consent is True and snapshot.affinities.get("category:lamps") == 1.0
    dispatcher, _ = run(ActionHandleYesNo(lambda: services), tracker("no", "deny"))
    assert texts_of(dispatcher) == [texts.NOTHING_PENDING_NO]


def test_returning_customer_is_welcomed_back(services: Services) -> None:
    dispatcher, _ = run(ActionGreet(lambda: services), tracker("hi", "greet"))
    assert texts_of(dispatcher) == [texts.GREETING]
    services.profiles.set_consent("customer-1", True)
    services.profiles.learn("customer-1", category="Desks")
    dispatcher, _ = run(ActionGreet(lambda: services), tracker("hi", "greet"))
    assert texts_of(dispatcher) == ["Welcome back! Still looking for a desk?"]
    services.profiles.set_personalisation("customer-1", False)
    dispatcher, _ = run(ActionGreet(lambda: services), tracker("hi", "greet"))
    assert texts_of(dispatcher) == [texts.GREETING]


def test_profile_is_described_in_plain_words(services: Services) -> None:
    dispatcher, _ = run(ActionDescribeProfile(lambda: services), tracker("what do you know", "ask_profile"))
    assert texts_of(dispatcher) == [texts.PROFILE_NOTHING]
    liked = shown_for(services, "Sofas", 1)[0]
    services.profiles.set_consent("customer-1", True)
    services.profiles.record("customer-1", InteractionKind.LIKE, item_id=liked)
    services.profiles.learn("customer-1", attributes={"colour": "grey", "material": "leather"}, category="Sofas",
                            budget_max=800)
    services.profiles.learn("customer-1", attributes={"material": "leather"}, weight=-2)
    dispatcher, _ = run(ActionDescribeProfile(lambda: services), tracker("what do you know", "ask_profile"))
    [answer] = texts_of(dispatcher)
    assert "last looking at sofas" in answer and "up to $800" in answer
    assert "you tend to like: grey" in answer and "you tend to avoid: leather" in answer
    assert services.recommender.catalog.get(liked).title in answer  # type: ignore[union-attr]


def test_personalisation_switch(services: Services) -> None:
    dispatcher, _ = run(ActionSetPersonalisation(lambda: services), tracker("stop", "personalisation_off"))
    assert texts_of(dispatcher) == [texts.PERSONALISATION_OFF]
    assert not services.profiles.snapshot("customer-1").personalisation
    run(ActionSetPersonalisation(lambda: services), tracker("on", "personalisation_on"))
    assert services.profiles.snapshot("customer-1").personalisation


def test_personalisation_off_gives_the_unpersonalised_ranking(services: Services) -> None:
    slots = {"category": "Armchairs", "liked_items": shown_for(services, "Armchairs", 6)[3:6]}
    personal, _ = run(ActionRecommend(lambda: services), tracker("armchairs", slots=slots, sender="p"))
    services.profiles.set_personalisation("p", False)
    neutral, _ = run(ActionRecommend(lambda: services), tracker("armchairs", slots=slots, sender="p"))
    plain, _ = run(ActionRecommend(lambda: services), tracker("armchairs", slots={"category": "Armchairs"},
                                                              sender="q"))
    assert [i["id"] for i in cards(neutral)] == [i["id"] for i in cards(plain)]
    assert [i["id"] for i in cards(personal)] != [i["id"] for i in cards(plain)]


def test_forget_me_erases_profile_interactions_and_conversation(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    services = make_services(url)
    assert services.conversations is not None
    with services.conversations.engine.begin() as db:
        db.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
                        "timestamp REAL, intent_name TEXT, action_name TEXT, data TEXT)"))
        db.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES "
                        "('customer-1', 'user', 1, '{}'), ('someone-else', 'user', 1, '{}')"))
    services.profiles.set_consent("customer-1", True)
    services.profiles.learn("customer-1", attributes={"colour": "grey"})
    services.profiles.record("customer-1", InteractionKind.LIKE, item_id="SKU-0001")

    async def forget_and_let_rasa_store_the_turn() -> list[dict[str, Any]]:
        from rasa_sdk.executor import CollectingDispatcher

        dispatcher = CollectingDispatcher()
        events = await ActionForgetMe(lambda: services).run(dispatcher, tracker("forget me", "forget_me"), {})
        assert dispatcher.messages[0]["text"] == texts.FORGOTTEN
        await asyncio.sleep(0.3)
        with services.conversations.engine.begin() as db:  # type: ignore[union-attr]
            db.execute(text("INSERT INTO events (sender_id, type_name, timestamp, action_name, data) VALUES "
                            "('customer-1', 'action', 9999999999, 'action_forget_me', '{}')"))
        await asyncio.sleep(0.6)
        return events

    events = asyncio.run(forget_and_let_rasa_store_the_turn())
    assert events[0]["event"] == "reset_slots"
    assert not services.profiles.snapshot("customer-1").known
    assert services.conversations.event_count("customer-1") == 0
    assert services.conversations.event_count("someone-else") == 1


def test_handoff_is_flagged_for_review(services: Services) -> None:
    dispatcher, _ = run(ActionHandoff(lambda: services), tracker("get me a human", "human_handoff"))
    assert texts_of(dispatcher) == [texts.HANDOFF]
    with services.profiles.engine.connect() as db:
        kinds = db.execute(text("SELECT kind FROM interactions")).scalars().all()
    assert kinds == ["HANDOFF"] or kinds == ["handoff"]


def test_rephrase_offers_the_likely_meanings(services: Services) -> None:
    ranking = [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "show_more", "confidence": 0.3},
               {"name": "compare", "confidence": 0.2}]
    dispatcher, _ = run(ActionRephrase(lambda: services), tracker("hmm?", "nlu_fallback", intent_ranking=ranking))
    [message] = dispatcher.messages
    assert [b["payload"] for b in message["buttons"]] == ["/show_more", "/compare", "/human_handoff"]


def test_a_failing_action_still_answers_politely() -> None:
    def broken() -> Services:
        raise RuntimeError("database is down")

    dispatcher, events = run(ActionRecommend(broken), tracker("a sofa"))
    assert texts_of(dispatcher) == [texts.SOMETHING_WENT_WRONG] and events == []


# -- the needs form --------------------------------------------------------------------

def form(services: Services) -> ValidateNeedsForm:
    return ValidateNeedsForm(lambda: services)


def required(services: Services, t: Any) -> list[str]:
    """The slot the form would ask next (required_slots also lists the filled ones, for validation)."""
    listed = asyncio.run(form(services).required_slots([], None, t, {}))  # type: ignore[arg-type]
    assert listed[0] == "exclusions"
    listed = listed[1:]
    filled = [s for s in listed if t.get_slot(s) is not None]
    assert listed[: len(filled)] == filled, "filled slots must come first"
    return listed[len(filled):]


def test_form_asks_category_first_then_budget_then_the_best_split(services: Services) -> None:
    assert required(services, tracker("something", slots={})) == ["category"]
    assert required(services, tracker("sofa", slots={"category": "Sofas"})) == ["budget"]
    next_slot = required(services, tracker("x", slots={"category": "Sofas", "budget": "any"}))
    assert next_slot == ["colour"]  # colours split the sofas best


def test_form_skips_what_was_said_and_stops_after_three_questions(services: Services) -> None:
    slots = {"category": "Sofas", "budget": "under 800", "budget_max": 800.0, "colour": "grey"}
    assert required(services, tracker("x", slots=slots)) in ([], ["material"], ["style"], ["use"])
    asked = [{"event": "slot", "name": "requested_slot", "value": s} for s in ("category", "budget", "colour")]
    assert required(services, tracker("x", slots={"category": "Sofas"}, events=asked)) == []
    assert required(services, tracker("x", slots={"seen_items": ["SKU-0001"]})) == []


def test_form_stops_when_few_candidates_are_left(services: Services) -> None:
    slots = {"category": "Sofas", "budget_max": 600.0, "budget": "under 600"}
    assert required(services, tracker("x", slots=slots)) == []


def test_form_validates_answers_against_the_catalog(services: Services) -> None:
    validator = form(services)
    dispatcher = __import__("rasa_sdk.executor", fromlist=["CollectingDispatcher"]).CollectingDispatcher()
    t = tracker("a couch")
    assert validator.validate_category("a couch please", dispatcher, t, {}) == {"category": "Sofas"}
    assert validator.validate_category("spaceship", dispatcher, t, {}) == {"category": None}
    assert "we don't carry" in dispatcher.messages[-1]["text"]
    assert validator.validate_budget("between 2 and 3 hundred", dispatcher, t, {}) == {
        "budget": "between 2 and 3 hundred", "budget_min": 200.0, "budget_max": 300.0}
    assert validator.validate_budget("no budget", dispatcher, t, {})["budget"] == "any"
    assert validator.validate_budget("a lot", dispatcher, t, {}) == {"budget": None}
    assert "didn't get a budget" in dispatcher.messages[-1]["text"]
    cheap = validator.validate_budget("something cheap", dispatcher, tracker("x", slots={"category": "Lamps"}), {})
    lamp_prices = sorted(p.price for p in services.recommender.catalog if p.category == "Lamps" and p.in_stock)
    assert cheap["budget_min"] is None and lamp_prices[0] <= cheap["budget_max"] < lamp_prices[-1]
    assert validator.validate_colour("gray", dispatcher, t, {}) == {"colour": "grey"}
    assert validator.validate_colour("any", dispatcher, t, {}) == {"colour": "any"}
    assert validator.validate_material("unobtainium", dispatcher, t, {}) == {"material": None}


def test_form_picks_up_exclusions(services: Services) -> None:
    t = tracker("no leather", "inform", entities=[entity("material", "leather", "exclude")],
                slots={"exclusions": ["glass"]})
    result = asyncio.run(form(services).extract_exclusions(None, t, {}))  # type: ignore[arg-type]
    assert result == {"exclusions": ["glass", "leather"]}


def test_ask_actions_offer_buttons(services: Services) -> None:
    dispatcher, _ = run(ActionAskCategory(lambda: services), tracker("x"))
    assert dispatcher.messages[0]["text"] == texts.ASK_CATEGORY and len(dispatcher.messages[0]["buttons"]) == 12
    dispatcher, _ = run(ActionAskBudget(lambda: services), tracker("x", slots={"category": "Lamps"}))
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert titles[0].startswith("Under $") and titles[-1] == "No budget"
    dispatcher, _ = run(ActionAskColour(lambda: services), tracker("x", slots={"category": "Sofas"}))
    buttons = dispatcher.messages[0]["buttons"]
    assert buttons[-1]["payload"] == "/no_preference" and len(buttons) == 6


def test_negated_values_become_exclusions_not_wishes(services: Services) -> None:
    message = "i need a sofa under $1500, not leather"
    start = message.index("leather")
    ents = [entity("category", "Sofas"), entity("budget", "under $1500"), entity("budget", "not"),
            {"entity": "material", "value": "leather", "start": start, "end": start + 7}]
    t = tracker(message, entities=ents, slots={"category": "Sofas", "budget": "not", "material": "leather"})
    validator = form(services)
    from rasa_sdk.executor import CollectingDispatcher

    dispatcher = CollectingDispatcher()
    assert validator.validate_material("leather", dispatcher, t, {}) == {"material": None}
    assert validator.validate_budget("not", dispatcher, t, {}) == {
        "budget": "under $1500", "budget_min": None, "budget_max": 1500.0}
    assert asyncio.run(validator.extract_exclusions(dispatcher, t, {})) == {"exclusions": ["leather"]}
    assert dispatcher.messages == []  # nothing to complain about


def test_every_given_need_is_validated_not_only_the_asked_one(services: Services) -> None:
    t = tracker("a couch in gray", slots={"category": "a couch", "colour": "gray"})
    listed = asyncio.run(form(services).required_slots([], None, t, {}))  # type: ignore[arg-type]
    assert {"category", "colour"} <= set(listed)


def test_critiques_teach_the_profile_with_consent(services: Services) -> None:
    services.profiles.set_consent("customer-1", True)
    shown = shown_for(services, "Sofas")
    t = tracker("not leather", "critique_different",
                entities=[entity("material", "leather", "exclude")], slots={"category": "Sofas", "shown_items": shown})
    run(ActionCritique(lambda: services), t)
    run(ActionCritique(lambda: services), tracker("cheaper", "critique_cheaper",
                                                   slots={"category": "Sofas", "shown_items": shown}))
    snapshot = services.profiles.snapshot("customer-1")
    assert snapshot.affinities.get("material:leather") == -1.0
    cheapest = min(services.recommender.catalog.get(i).price for i in shown)  # type: ignore[union-attr]
    assert snapshot.budget_max == round(cheapest * 0.9, 2)


def test_surprise_me_shows_unseen_items_within_the_limits_and_logs_them(services: Services) -> None:
    seen = shown_for(services, "Lamps", 6)
    slots = {"category": "Lamps", "budget_max": 150.0, "seen_items": seen, "liked_items": seen[:2]}
    dispatcher, events = run(ActionSurprise(lambda: services), tracker("surprise me", "surprise_me", slots=slots))
    items = cards(dispatcher)
    assert texts_of(dispatcher)[0] == texts.SURPRISE and len(items) == 3
    catalog = services.recommender.catalog
    for item in items:
        product = catalog.get(item["id"])
        assert product is not None and product.category == "Lamps" and product.price <= 150
        assert item["id"] not in seen
        assert item["reason"].startswith(("off your usual path", "something different"))
    assert slots_of(events)["shown_items"] == [i["id"] for i in items]
    again, _ = run(ActionSurprise(lambda: services), tracker(
        "surprise me", "surprise_me", slots={**slots, "seen_items": seen + [i["id"] for i in items]}))
    assert not {i["id"] for i in cards(again)} & {i["id"] for i in items}


def test_request_text_is_the_latest_request_or_description_of_what_is_wanted() -> None:
    from actions.state import request_text

    def user(text: str, intent: str, *entities: dict[str, Any]) -> dict[str, Any]:
        return {"event": "user", "text": text,
                "parse_data": {"intent": {"name": intent}, "entities": list(entities)}}

    asked = user("i need a sofa for movie nights", "request_recommendation", entity("category", "sofa"))
    assert request_text(tracker("blue", "inform", entities=[entity("colour", "blue")], events=[asked])) == (
        "i need a sofa for movie nights")  # a detail refines the request, it does not replace it
    described = user("big comfy settee for movie nights", "inform", entity("category", "settee"))
    assert request_text(tracker("blue", "inform", events=[asked, described])) == "big comfy settee for movie nights"
    assert request_text(tracker("thanks", "thank")) == ""

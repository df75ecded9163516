"""Every action, with Tracker.from_dict and CollectingDispatcher (no Rasa server).

The shopping turns all go through ``action_shop``: each test puts the conversation in a state
(the ``shop_state`` slot), says one message and checks the answer, the slots and what was stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select, text

from actions import texts
from actions.catalog_shop import size_number
from actions.conversation import Need, State
from actions.follow_through import ActionGreet, ActionHandoff
from actions.privacy import ActionDescribeProfile, ActionForgetMe, ActionSetPersonalisation
from actions.services import Services
from actions.shop import ActionShop
from retrieval.catalog import Product
from retrieval.contract import ATTRIBUTES, SlotName, affinity_key, affinity_parts, taught_attributes
from retrieval.explain import format_price
from store.models import Interaction, InteractionKind
from tests.actions_support import (
    cards,
    entity,
    make_services,
    run,
    shop_tracker,
    slots_of,
    state_of,
    texts_of,
    tracker,
)


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


def showing(category: str, shown: list[str], **need: Any) -> State:
    """A conversation about ``category`` with ``shown`` on screen."""
    return State(need=Need(scope=(category,), **need), lists=(tuple(shown),), seen=tuple(shown))


def shop(services: Services, message: str, intent: str = "request_recommendation",
         entities: list[dict[str, Any]] | None = None, state: State | None = None, *,
         sender: str = "customer-1", **kwargs: Any) -> tuple[CollectingDispatcher, list[dict[str, Any]], State]:
    """One turn of ``action_shop``: the messages, the events and the state it leaves."""
    dispatcher, events = run(ActionShop(lambda: services),
                             shop_tracker(message, intent, entities, state, sender=sender, **kwargs))
    return dispatcher, events, state_of(events)


def product(services: Services, item_id: str) -> Product:
    found = services.recommender.catalog.get(item_id)
    assert found is not None, item_id
    return found


def test_recommend_obeys_category_budget_and_exclusions(services: Services) -> None:
    asked = State(need=Need(scope=("Sofas",), budget_max=1500.0), questions=3)
    dispatcher, events, state = shop(services, "a sofa, not leather", "inform",
                                     [entity("material", "leather", "exclude")], asked)
    items = cards(dispatcher)
    assert len(items) == 3
    for item in items:
        found = product(services, item["id"])
        assert found.category == "Sofas" and found.price <= 1500
        assert "leather" not in f"{found.material} {found.title}".lower()
        assert item["reason"]
    assert state.need.exclusions == ("leather",) and "material" not in state.need.wishes
    set_slots = slots_of(events)
    assert set_slots["shown_items"] == [i["id"] for i in items] == list(state.seen)
    assert set_slots["shown_reasons"] == [i["reason"] for i in items]
    assert set_slots["request_id"].startswith("r-")
    # The shop waits for the customer next: Rasa runs no second policy prediction for that.
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "action_listen"}
    assert sum(e["event"] == "followup" for e in events) == 1
    # impressions were logged under a pseudonym; nothing is kept under the sender id before consent
    assert pseudonymous(services, InteractionKind.IMPRESSION) == 3
    assert not services.profiles.snapshot("customer-1").known
    with services.profiles.engine.connect() as db:
        logged = db.execute(text("SELECT item_id FROM interactions WHERE lower(kind) = 'impression'")).scalars().all()
    assert sorted(logged) == sorted(i["id"] for i in items)


def test_a_wished_colour_is_a_hard_constraint_and_all_that_fits_is_said(services: Services) -> None:
    fitting = {p.id for p in services.recommender.catalog
               if p.category == "Sofas" and p.in_stock and p.colour == "grey" and p.price <= 1200}
    assert 0 < len(fitting) < 3
    asked = State(need=Need(scope=("Sofas",), budget_max=1200.0, wishes={"colour": "grey"}), questions=3)
    dispatcher, _, _ = shop(services, "grey", "inform", [entity("colour", "grey")], asked)
    assert {i["id"] for i in cards(dispatcher)} == fitting
    assert texts_of(dispatcher)[-1] == texts.ALL_THAT_FITS


def test_a_whole_request_in_one_message_is_understood(services: Services) -> None:
    message = "a grey sofa under 1200, not leather"
    ents = [entity("category", "sofa"), entity("colour", "grey"), entity("budget", "under 1200"),
            entity("material", "leather", "exclude")]
    _, _, state = shop(services, message, "request_recommendation", ents)
    need = state.need
    assert need.scope == ("Sofas",) and need.budget_max == 1200.0 and need.wishes == {"colour": "grey"}
    assert need.exclusions == ("leather",)


def test_show_more_never_repeats(services: Services) -> None:
    seen = shown_for(services, "Desks")
    dispatcher, events, _ = shop(services, "more", "show_more", state=showing("Desks", seen))
    new = [i["id"] for i in cards(dispatcher)]
    assert len(new) == 3 and not set(new) & set(seen)
    assert list(state_of(events).seen) == seen + new
    assert texts_of(dispatcher)[0] == texts.HERE_ARE_MORE


def test_the_items_seen_are_stored_once_in_the_shop_state_and_in_no_slot_of_their_own(services: Services) -> None:
    # Every item seen was also written to a `seen_items` slot that nothing read: with each list shown
    # the stored conversation grew by the whole list of items seen again (benchmarks/soak.py measures it).
    seen = shown_for(services, "Desks")
    state = showing("Desks", seen)
    for message, intent in (("more", "show_more"), ("more", "show_more"), ("cheaper", "critique_cheaper")):
        dispatcher, events, state = shop(services, message, intent, state=state)
        assert cards(dispatcher)
        assert SlotName.SEEN_ITEMS not in slots_of(events)
    assert len(state.seen) >= len(seen) + 6 and set(seen) <= set(state.seen)


def test_show_more_says_plainly_when_nothing_is_left(services: Services) -> None:
    lamps = [p.id for p in services.recommender.catalog if p.category == "Lamps"]
    state = State(need=Need(scope=("Lamps",)), lists=(tuple(lamps[-3:]),), seen=tuple(lamps))
    dispatcher, events, _ = shop(services, "more", "show_more", state=state)
    assert cards(dispatcher) == []
    assert texts_of(dispatcher) == [texts.SEEN_EVERYTHING.format(need="lamps"), texts.WHAT_TO_CHANGE]
    assert "shown_items" not in slots_of(events)  # the list on screen is still the last one


def test_a_waiver_after_the_last_list_shows_the_best_again_and_says_that_is_everything(services: Services) -> None:
    # "I don't mind" asks for no change: where nothing new is left it gets the best of what fits, not a dead end
    lamps = [p.id for p in services.recommender.catalog if p.category == "Lamps"]
    state = State(need=Need(scope=("Lamps",)), lists=(tuple(lamps[-3:]),), seen=tuple(lamps), rejected=(lamps[0],))
    dispatcher, _, after = shop(services, "don't mind really", "no_preference", state=state)
    shown = [i["id"] for i in cards(dispatcher)]
    assert texts_of(dispatcher)[0] == texts.BEST_OF_ALL.format(need="lamps")
    assert len(shown) == 3 and set(shown) <= set(lamps) and lamps[0] not in shown
    assert after.lists[-1] == tuple(shown)
    more = State(need=Need(scope=("Lamps",)), lists=(tuple(lamps[:3]),), seen=tuple(lamps[:3]))
    dispatcher, _, _ = shop(services, "don't mind really", "no_preference", state=more)
    assert texts_of(dispatcher)[0] == texts.HERE_ARE_MORE and not {i["id"] for i in cards(dispatcher)} & set(lamps[:3])


def test_like_by_ordinal_logs_learns_and_refines(services: Services) -> None:
    shown = shown_for(services, "Rugs")
    services.profiles.set_consent("customer-1", True)
    dispatcher, events, state = shop(services, "i like the second one", "like", [entity("ordinal", "second")],
                                     showing("Rugs", shown), slots={"request_id": "r-1"})
    assert slots_of(events)["liked_items"] == [shown[1]] and state.liked == (shown[1],)
    title = product(services, shown[1]).title
    assert texts_of(dispatcher)[:2] == [texts.NOTED_LIKE.format(title=title), texts.REFINED]
    assert len(cards(dispatcher)) == 3 and not {i["id"] for i in cards(dispatcher)} & set(shown)
    snapshot = services.profiles.snapshot("customer-1")
    assert snapshot.likes == 1 and snapshot.liked_items == (shown[1],)
    assert snapshot.affinities.get("category:rugs") == 1.0


def test_dislike_button_removes_the_item_and_changes_the_next_list(services: Services) -> None:
    shown = shown_for(services, "Sofas")
    t = f'/feedback{{"item_id": "{shown[0]}", "sentiment": "dislike"}}'
    dispatcher, events, state = shop(services, t, "feedback",
                                     [entity("item_id", shown[0]), entity("sentiment", "dislike")],
                                     showing("Sofas", shown))
    assert slots_of(events)["rejected_items"] == [shown[0]] and state.rejected == (shown[0],)
    new = [i["id"] for i in cards(dispatcher)]
    assert len(new) == 3 and shown[0] not in new and new != shown
    # without consent nothing was learned, but the dislike was logged under a pseudonym
    snapshot = services.profiles.snapshot("customer-1")
    assert pseudonymous(services, InteractionKind.DISLIKE) == 1 and snapshot.affinities == {}
    # and the item is never shown again
    more, _, _ = shop(services, "more", "show_more", state=State(need=state.need, rejected=state.rejected))
    assert shown[0] not in [i["id"] for i in cards(more)]


@pytest.mark.parametrize(("message", "intent", "kept"), [("👎 the second", "like", "rejected_items"),
                                                        ("the second 👍🏼", "dislike", "liked_items")])
def test_a_typed_thumb_outranks_a_misread_intent(services: Services, message: str, intent: str,
                                                  kept: str) -> None:
    shown = shown_for(services, "Lamps")
    _, events, _ = shop(services, message, intent, [entity("ordinal", "second")], showing("Lamps", shown))
    assert slots_of(events)[kept] == [shown[1]]
    counts = (pseudonymous(services, InteractionKind.LIKE), pseudonymous(services, InteractionKind.DISLIKE))
    assert counts == ((0, 1) if kept == "rejected_items" else (1, 0))


def test_first_feedback_asks_for_consent_once(services: Services) -> None:
    shown = shown_for(services, "Lamps")
    liked = ("love the first", "like", [entity("ordinal", "first")])
    dispatcher, events, state = shop(services, *liked, showing("Lamps", shown))
    assert texts_of(dispatcher)[-1] == texts.CONSENT_QUESTION
    assert [b["payload"] for b in dispatcher.messages[-1]["buttons"]] == ["/affirm", "/deny"]
    assert slots_of(events)["awaiting"] == "consent" and state.pending == "consent" and state.consent_asked
    # asked once: not again for this customer, even from a conversation that does not remember asking
    again, events, _ = shop(services, *liked, showing("Lamps", shown))
    assert texts.CONSENT_QUESTION not in texts_of(again) and "awaiting" not in slots_of(events)
    later, _, _ = shop(services, "love the second", "like", [entity("ordinal", "second")],
                       State(need=state.need, lists=state.lists, seen=state.seen, liked=state.liked,
                             consent_asked=True), sender="someone-else")
    assert texts.CONSENT_QUESTION not in texts_of(later)


def test_feedback_without_a_reference_asks_which(services: Services) -> None:
    shown = shown_for(services, "Lamps")
    dispatcher, events, state = shop(services, "i like it", "like", state=showing("Lamps", shown))
    assert texts_of(dispatcher) == [texts.WHICH_ITEM] and cards(dispatcher) == []
    assert state.liked == () and "liked_items" not in slots_of(events)
    assert services.profiles.snapshot("customer-1").likes == 0
    dispatcher, _, _ = shop(services, "i like the first", "like", [entity("ordinal", "first")])
    assert texts_of(dispatcher) == [texts.NOTHING_SHOWN]


@pytest.mark.parametrize(("intent", "message"), [("critique_cheaper", "too expensive"),
                                                  ("critique_pricier", "fancier please")])
def test_price_critiques_move_the_price_from_the_first_card(services: Services, intent: str, message: str) -> None:
    shown = shown_for(services, "Armchairs")
    reference = product(services, shown[0])
    dispatcher, _, state = shop(services, message, intent, state=showing("Armchairs", shown))
    new = [product(services, i["id"]) for i in cards(dispatcher)]
    assert len(new) == 3 and not {p.id for p in new} & set(shown)
    assert all(p.category == "Armchairs" for p in new)
    if intent == "critique_cheaper":
        assert all(p.price < reference.price for p in new)
        assert state.need.price_cap is not None and state.need.price_floor is None
    else:
        assert all(p.price > reference.price for p in new)
        assert state.need.price_floor is not None and state.need.price_cap is None
    assert state.need.budget_max is None and state.need.budget_min is None  # a critique is not a stated budget


def test_cheaper_than_a_named_item(services: Services) -> None:
    shown = shown_for(services, "Sofas")
    second = product(services, shown[1])
    dispatcher, _, state = shop(services, "the second one is nice but too expensive", "critique_cheaper",
                                [entity("ordinal", "second")], showing("Sofas", shown))
    ceiling = round(second.price * 0.9, 2)
    assert state.need.price_cap == ceiling
    assert texts.CHEAPER.format(price=format_price(ceiling, "USD")) in texts_of(dispatcher)
    assert cards(dispatcher) and all(i["price"] <= ceiling for i in cards(dispatcher))


def test_cheaper_never_goes_above_the_stated_budget(services: Services) -> None:
    sofas = sorted((p for p in services.recommender.catalog if p.category == "Sofas" and p.in_stock),
                   key=lambda p: p.price)
    dear = [p.id for p in sofas[-3:]]  # on screen from before the budget was lowered
    budget = sofas[len(sofas) // 2].price
    assert product(services, dear[0]).price * 0.9 > budget
    dispatcher, _, state = shop(services, "cheaper", "critique_cheaper",
                                state=showing("Sofas", dear, budget_max=budget))
    assert state.need.price_cap == budget and state.need.budget_max == budget
    assert cards(dispatcher) and all(i["price"] <= budget for i in cards(dispatcher))


def test_nothing_cheaper_is_said_plainly(services: Services) -> None:
    lamps = sorted((p for p in services.recommender.catalog if p.category == "Lamps" and p.in_stock),
                   key=lambda p: p.price)
    cheapest = lamps[0]
    dispatcher, _, _ = shop(services, "cheaper", "critique_cheaper", state=showing("Lamps", [cheapest.id]))
    assert cards(dispatcher) == []
    assert texts_of(dispatcher)[0] == texts.NOTHING_CHEAPER.format(title=cheapest.title, need="lamps")


def test_another_colour_excludes_the_current_one(services: Services) -> None:
    shown = shown_for(services, "Sofas", 1)
    colour = product(services, shown[0]).colour
    assert colour
    dispatcher, _, state = shop(services, "another colour", "critique_different", [entity("attribute", "colour")],
                                showing("Sofas", shown, wishes={"colour": colour}))
    assert ("colour", colour) in state.need.avoid and "colour" not in state.need.wishes
    assert len(cards(dispatcher)) == 3
    assert all(product(services, i["id"]).colour != colour for i in cards(dispatcher))


@pytest.mark.parametrize("intent", ["critique_bigger", "critique_smaller"])
def test_size_critiques_move_the_size(services: Services, intent: str) -> None:
    catalog = services.recommender.catalog
    sofas = sorted((p for p in catalog if p.category == "Sofas" and p.in_stock), key=lambda p: size_number(p.size) or 0)
    anchor = sofas[len(sofas) // 2]
    dispatcher, _, _ = shop(services, "bigger" if intent == "critique_bigger" else "smaller", intent,
                            state=showing("Sofas", [anchor.id]))
    sizes = [size_number(product(services, i["id"]).size) for i in cards(dispatcher)]
    anchor_size = size_number(anchor.size) or 0
    assert len(sizes) == 3
    assert all((s or 0) > anchor_size if intent == "critique_bigger" else (s or 0) < anchor_size for s in sizes)


def test_more_like_the_second(services: Services) -> None:
    shown = shown_for(services, "Backpacks")
    dispatcher, _, _ = shop(services, "more like the second", "more_like", [entity("ordinal", "second")],
                            State(lists=(tuple(shown),), seen=tuple(shown)))
    assert texts_of(dispatcher)[0] == texts.MORE_LIKE.format(title=product(services, shown[1]).title)
    assert len(cards(dispatcher)) == 3 and {i["category"] for i in cards(dispatcher)} == {"Backpacks"}
    assert not {i["id"] for i in cards(dispatcher)} & set(shown)


def test_why_uses_the_reason_shown(services: Services) -> None:
    shown = shown_for(services, "Lamps")
    state = State(lists=(tuple(shown),), reasons=("brass, under your $100 budget", "b", "c"), seen=tuple(shown))
    dispatcher, _, _ = shop(services, "why the first?", "ask_why", [entity("ordinal", "first")], state)
    title = product(services, shown[0]).title
    assert texts_of(dispatcher) == [f"Why the {title}: brass, under your $100 budget."]


def test_why_never_cites_a_budget_the_customer_did_not_state(services: Services) -> None:
    shown = shown_for(services, "Lamps")
    _, events, state = shop(services, "too expensive", "critique_cheaper", state=showing("Lamps", shown))
    reasons = slots_of(events)["shown_reasons"]
    assert state.need.price_cap is not None and reasons
    assert not any("budget" in r for r in reasons), reasons
    dispatcher, _, _ = shop(services, "why these?", "ask_why", state=state)
    answers = texts_of(dispatcher)
    assert len(answers) == len(state.shown) and not any("budget" in a for a in answers), answers


def test_compare_lists_the_differences_that_matter(services: Services) -> None:
    shown = shown_for(services, "Desks")
    state = showing("Desks", shown)
    dispatcher, _, _ = shop(services, "compare 1 and 3", "compare", [entity("ordinal", "1"), entity("ordinal", "3")],
                            state)
    [answer] = texts_of(dispatcher)
    first, third = product(services, shown[0]), product(services, shown[2])
    assert answer.startswith(f"{first.title} vs {third.title}:")
    assert "• price:" in answer and "• material:" in answer and "• rating:" in answer
    dispatcher, _, _ = shop(services, "compare", "compare", state=state)  # none named of three: a pick
    [decided] = texts_of(dispatcher)
    assert decided.startswith(texts.DECIDE_PICK.split("{")[0] + first.title)


def test_choose_confirms_links_and_asks_about_satisfaction(services: Services) -> None:
    shown = shown_for(services, "Beds")
    dispatcher, events, state = shop(services, "i'll take the third", "choose_item", [entity("ordinal", "third")],
                                     showing("Beds", shown))
    chosen = product(services, shown[2])
    assert chosen.url and chosen.url in texts_of(dispatcher)[0]
    assert texts_of(dispatcher)[1] == texts.ASK_SATISFIED and slots_of(events)["awaiting"] == "satisfaction"
    assert state.chosen == (chosen.id,)
    assert pseudonymous(services, InteractionKind.CHOICE) == 1
    dispatcher, events, state = shop(services, "yes", "affirm", state=state, slots={"awaiting": "satisfaction"})
    assert texts_of(dispatcher) == [texts.SATISFIED] and slots_of(events)["awaiting"] is None
    assert state.pending is None
    with services.profiles.engine.connect() as db:
        detail = db.execute(text("SELECT detail FROM interactions WHERE lower(kind) = 'satisfaction'")).scalar_one()
    assert "true" in str(detail).lower()


def test_consent_answer_is_stored_and_session_likes_are_kept(services: Services) -> None:
    liked = tuple(shown_for(services, "Lamps", 1))
    dispatcher, events, state = shop(services, "yes", "affirm", state=State(pending="consent", liked=liked,
                                                                           consent_asked=True),
                                     slots={"awaiting": "consent"})
    assert texts_of(dispatcher) == [texts.CONSENT_YES] and slots_of(events)["awaiting"] is None
    snapshot = services.profiles.snapshot("customer-1")
    assert snapshot.consent is True and snapshot.affinities.get("category:lamps") == 1.0
    assert state.liked == liked
    dispatcher, _, _ = shop(services, "no", "deny")
    assert texts_of(dispatcher) == [texts.NOTHING_PENDING_NO]


def test_a_like_kept_at_consent_teaches_what_a_like_after_consent_teaches() -> None:
    # Liking with consent given, and liking first then agreeing to be remembered, must leave the same
    # profile: both learn through one function (retrieval.contract.taught_attributes).
    before, after = make_services(), make_services()
    shown = shown_for(before, "Sofas")
    item = max(shown, key=lambda i: sum(product(before, i).attribute(n) is not None for n in ATTRIBUTES))
    liking = [entity("ordinal", ("first", "second", "third")[shown.index(item)])]
    before.profiles.set_consent("customer-1", True)
    shop(before, "i like that one", "like", liking, showing("Sofas", shown))
    _, _, state = shop(after, "i like that one", "like", liking, showing("Sofas", shown))
    assert state.liked == (item,) and not after.profiles.snapshot("customer-1").affinities
    shop(after, "yes", "affirm", state=replace(state, pending="consent", consent_asked=True),
         slots={"awaiting": "consent"})
    learned = after.profiles.snapshot("customer-1").affinities
    assert learned == before.profiles.snapshot("customer-1").affinities
    liked = product(after, item)
    assert set(learned) == {affinity_key(name, value) for name, value in taught_attributes(liked).items() if value}
    assert sum(name in ATTRIBUTES for name, _ in map(affinity_parts, learned)) >= 2  # more than the category


def test_consent_refused_is_stored(services: Services) -> None:
    dispatcher, _, _ = shop(services, "no thanks", "deny", state=State(pending="consent", consent_asked=True),
                            slots={"awaiting": "consent"})
    assert texts_of(dispatcher) == [texts.CONSENT_NO]
    assert services.profiles.snapshot("customer-1").consent is False


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
    assert product(services, liked).title in answer


def test_personalisation_switch(services: Services) -> None:
    dispatcher, _ = run(ActionSetPersonalisation(lambda: services), tracker("stop", "personalisation_off"))
    assert texts_of(dispatcher) == [texts.PERSONALISATION_OFF]
    assert not services.profiles.snapshot("customer-1").personalisation
    run(ActionSetPersonalisation(lambda: services), tracker("on", "personalisation_on"))
    assert services.profiles.snapshot("customer-1").personalisation


def armchairs(services: Services, sender: str, liked: tuple[str, ...] = ()) -> list[str]:
    """The first list of armchairs shown to ``sender``, who liked ``liked`` earlier in the conversation."""
    state = State(need=Need(scope=("Armchairs",)), liked=liked, questions=3)
    dispatcher, _, _ = shop(services, "armchairs", "request_recommendation", [entity("category", "armchairs")],
                            state, sender=sender)
    return [i["id"] for i in cards(dispatcher)]


def test_personalisation_off_gives_the_unpersonalised_ranking(services: Services) -> None:
    liked = tuple(shown_for(services, "Armchairs", 6)[3:6])
    personal = armchairs(services, "p", liked)
    services.profiles.set_personalisation("p", False)
    neutral = armchairs(services, "p", liked)
    plain = armchairs(services, "q")
    assert len(plain) == 3 and neutral == plain
    assert personal != plain


def test_forget_me_erases_profile_interactions_and_conversation(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
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
    erasures: list[Future[Any]] = []  # the background erasure, to wait for it and not for seconds
    schedule = ActionForgetMe.later

    def later(coroutine: Coroutine[Any, Any, Any]) -> Future[Any]:
        erasures.append(schedule(coroutine))
        return erasures[-1]

    monkeypatch.setattr(ActionForgetMe, "later", staticmethod(later))

    async def forget_and_let_rasa_store_the_turn() -> list[dict[str, Any]]:
        dispatcher = CollectingDispatcher()
        events = await ActionForgetMe(lambda: services).run(dispatcher, tracker("forget me", "forget_me"), {})
        assert dispatcher.messages[0]["text"] == texts.FORGOTTEN
        [erasure] = erasures
        await asyncio.sleep(0.3)  # an erasure that does not wait for the stored turn has run by now
        assert not erasure.done()  # it waits for the turn (stored below) before it erases
        with services.conversations.engine.begin() as db:  # type: ignore[union-attr]
            db.execute(text("INSERT INTO events (sender_id, type_name, timestamp, action_name, data) VALUES "
                            "('customer-1', 'action', 9999999999, 'action_forget_me', '{}')"))
        # It sees the turn within a poll (0.2 s); the bound only stops a broken erasure hanging the run.
        await asyncio.wait_for(asyncio.wrap_future(erasure), timeout=30)
        return events

    events = asyncio.run(forget_and_let_rasa_store_the_turn())
    assert events[0]["event"] == "reset_slots"  # the shopping conversation (shop_state) goes too
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
    dispatcher, _, state = shop(services, "hmm?", "nlu_fallback", intent_ranking=ranking)
    [message] = dispatcher.messages
    assert message["text"] == texts.REPHRASE
    assert [b["payload"] for b in message["buttons"]] == ["/show_more", "/compare", "/human_handoff"]
    assert state.unclear == 1


def test_a_failing_action_still_answers_politely() -> None:
    def broken() -> Services:
        raise RuntimeError("database is down")

    dispatcher, events = run(ActionShop(broken), shop_tracker("a sofa", "request_recommendation",
                                                              [entity("category", "sofa")]))
    assert texts_of(dispatcher) == [texts.SOMETHING_WENT_WRONG] and events == []


# -- the needs questions -----------------------------------------------------------------


def asked(dispatcher: CollectingDispatcher, state: State) -> str | None:
    """The need question the turn asked (``None``: it showed cards)."""
    if cards(dispatcher):
        return None
    assert state.pending is not None, texts_of(dispatcher)
    return state.pending


def test_questions_come_category_first_then_budget_then_the_best_split(services: Services) -> None:
    dispatcher, _, _ = shop(services, "something for my flat", "inform")
    assert texts_of(dispatcher)[-1] == texts.OR_TELL_ME  # nothing said yet: popular things, and the categories
    assert len(dispatcher.messages[-1]["buttons"]) == 12
    dispatcher, _, state = shop(services, "something under $800", "inform", [entity("budget", "under $800")])
    assert asked(dispatcher, state) == "category" and texts_of(dispatcher) == [texts.ASK_CATEGORY]
    dispatcher, _, state = shop(services, "a sofa", "inform", [entity("category", "sofa")])
    assert asked(dispatcher, state) == "budget"
    assert texts_of(dispatcher)[0].startswith("What's your budget for the sofa")
    dispatcher, _, state = shop(services, "no budget", "no_preference", state=state)
    assert asked(dispatcher, state) == "colour"  # colours split the sofas best
    assert texts_of(dispatcher) == [texts.ASK_ATTRIBUTE["colour"]]


def test_questions_skip_what_was_said_and_stop_after_two(services: Services) -> None:
    ents = [entity("category", "sofa"), entity("budget", "under 1500"), entity("material", "leather", "exclude")]
    dispatcher, _, state = shop(services, "a sofa under 1500, not leather", "request_recommendation", ents)
    # a kind, a budget and a deal-breaker up front: a list to react to at once
    assert asked(dispatcher, state) is None and len(cards(dispatcher)) == 3
    # only the kind: the budget, then the best split, then the list
    dispatcher, _, state = shop(services, "a sofa", "inform", [entity("category", "sofa")])
    questions = []
    for answer in ("under 2500", "grey", "velvet"):
        question = asked(dispatcher, state)
        if question is None:
            break
        questions.append(question)
        ents = {"budget": [entity("budget", answer)], "colour": [entity("colour", answer)]}.get(question, [])
        dispatcher, _, state = shop(services, answer, "inform", ents, state)
    assert questions == ["budget", "colour"]
    assert cards(dispatcher) and state.need.wishes == {"colour": "grey"}
    # once a list was shown, a new detail refines it without a question
    dispatcher, _, state = shop(services, "in navy", "inform", [entity("colour", "navy")], state)
    assert asked(dispatcher, state) is None and state.need.wishes == {"colour": "navy"} and cards(dispatcher)


def test_i_dont_mind_to_a_question_brings_the_list(services: Services) -> None:
    dispatcher, _, state = shop(services, "a sofa", "inform", [entity("category", "sofa")])
    assert asked(dispatcher, state) == "budget"
    dispatcher, _, state = shop(services, "i don't mind", "no_preference", state=state)
    assert asked(dispatcher, state) is None and len(cards(dispatcher)) == 3


def test_questions_stop_when_few_candidates_are_left(services: Services) -> None:
    dispatcher, _, state = shop(services, "a sofa under 600", "request_recommendation",
                                [entity("category", "sofa"), entity("budget", "under 600")])
    assert asked(dispatcher, state) is None and cards(dispatcher)
    assert all(i["price"] <= 600 for i in cards(dispatcher))


def test_answers_are_validated_against_the_catalog(services: Services) -> None:
    category = State(pending="category")
    _, _, state = shop(services, "a couch please", "inform", state=category)
    assert state.need.scope == ("Sofas",)
    dispatcher, _, state = shop(services, "spaceship", "inform", state=category)
    assert state.need.scope == () and state.pending == "category"
    assert "we don't carry \"spaceship\"" in texts_of(dispatcher)[0]
    assert len(dispatcher.messages[0]["buttons"]) == 12

    budget = State(need=Need(scope=("Lamps",)), pending="budget", questions=1)
    _, _, state = shop(services, "between 2 and 3 hundred", "inform", state=budget)
    assert (state.need.budget_min, state.need.budget_max) == (200.0, 300.0)
    _, _, state = shop(services, "no budget", "inform", state=budget)
    assert (state.need.budget_min, state.need.budget_max) == (None, None) and "budget" in state.need.settled
    _, _, state = shop(services, "something cheap", "inform", state=budget)
    lamp_prices = sorted(p.price for p in services.recommender.catalog if p.category == "Lamps" and p.in_stock)
    assert state.need.budget_min is None and state.need.budget_max is not None
    assert lamp_prices[0] <= state.need.budget_max < lamp_prices[-1]

    colour = State(need=Need(scope=("Sofas",), settled=("budget",)), pending="colour", questions=2)
    _, _, state = shop(services, "gray", "inform", state=colour)
    assert state.need.wishes == {"colour": "grey"}
    _, _, state = shop(services, "any", "no_preference", state=colour)
    assert "colour" in state.need.settled and "colour" not in state.need.wishes
    material = State(need=Need(scope=("Sofas",), settled=("budget",)), pending="material", questions=2)
    _, _, state = shop(services, "unobtainium", "inform", state=material)
    assert "material" not in state.need.wishes


def test_an_answer_that_fits_nothing_is_explained_not_ignored(services: Services) -> None:
    budget = State(need=Need(scope=("Lamps",)), pending="budget", questions=1)
    dispatcher, _, state = shop(services, "a lot", "inform", state=budget)
    assert any("didn't get a budget" in t for t in texts_of(dispatcher)), texts_of(dispatcher)
    assert state.need.budget_max is None and "budget" not in state.need.settled
    material = State(need=Need(scope=("Sofas",), settled=("budget",)), pending="material", questions=2)
    dispatcher, _, _ = shop(services, "unobtainium", "inform", state=material)
    assert any("unobtainium" in t for t in texts_of(dispatcher)), texts_of(dispatcher)


def test_negated_values_become_exclusions_not_wishes(services: Services) -> None:
    message = "i need a sofa under $1500, not leather"
    start = message.index("leather")
    ents = [entity("category", "sofa"), entity("budget", "under $1500"), entity("budget", "not"),
            {"entity": "material", "value": "leather", "start": start, "end": start + 7}]
    dispatcher, _, state = shop(services, message, "request_recommendation", ents)
    assert state.need.exclusions == ("leather",) and "material" not in state.need.wishes
    assert (state.need.budget_min, state.need.budget_max) == (None, 1500.0)
    assert not any("don't" in t or "didn't" in t for t in texts_of(dispatcher))  # nothing to complain about


def test_exclusions_add_up(services: Services) -> None:
    earlier = State(need=Need(scope=("Sofas",), exclusions=("glass",)), questions=3)
    _, _, state = shop(services, "no leather", "inform", [entity("material", "leather", "exclude")], earlier)
    assert state.need.exclusions == ("glass", "leather")


def test_every_given_need_is_understood_not_only_the_asked_one(services: Services) -> None:
    _, _, state = shop(services, "a couch in gray", "inform", [entity("category", "couch"), entity("colour", "gray")],
                       State(pending="category"))
    assert state.need.scope == ("Sofas",) and state.need.wishes == {"colour": "grey"}


def test_a_detail_refines_the_request_text_and_a_new_description_replaces_it(services: Services) -> None:
    _, _, state = shop(services, "i need a sofa for movie nights", "request_recommendation",
                       [entity("category", "sofa")])
    _, _, state = shop(services, "blue", "inform", [entity("colour", "blue")], state)
    assert state.need.text == "i need a sofa for movie nights"  # a detail refines the request
    _, _, state = shop(services, "big comfy couch for movie nights", "inform", [entity("category", "couch")], state)
    assert state.need.text == "big comfy couch for movie nights"
    _, _, state = shop(services, "thanks", "thank")
    assert state.need.text == ""


def test_ask_questions_offer_buttons(services: Services) -> None:
    dispatcher, _, _ = shop(services, "something under 500", "inform", [entity("budget", "under 500")])
    assert dispatcher.messages[0]["text"] == texts.ASK_CATEGORY and len(dispatcher.messages[0]["buttons"]) == 12
    dispatcher, _, _ = shop(services, "a lamp", "inform", [entity("category", "lamp")])
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert titles[0].startswith("Under $") and titles[-1] == "No budget"
    dispatcher, _, state = shop(services, "a sofa", "inform", [entity("category", "sofa"), entity("budget", "any")],
                                State(need=Need(settled=("budget",))))
    assert state.pending == "colour"
    buttons = dispatcher.messages[0]["buttons"]
    assert buttons[-1] == {"title": texts.DONT_MIND, "payload": "/no_preference"} and len(buttons) == 6


def test_not_leather_after_a_list_rules_leather_out(services: Services) -> None:
    shown = shown_for(services, "Sofas")
    dispatcher, _, state = shop(services, "not leather", "critique_different",
                                [entity("material", "leather", "exclude")], showing("Sofas", shown))
    assert "leather" in state.need.exclusions
    assert state.need.avoid == ()  # the colour was not what they objected to
    assert cards(dispatcher)
    assert not any("leather" in f"{i['title']} {product(services, i['id']).material}".lower()
                   for i in cards(dispatcher))


def test_critiques_teach_the_profile_with_consent(services: Services) -> None:
    services.profiles.set_consent("customer-1", True)
    shown = shown_for(services, "Sofas")
    first = product(services, shown[0])
    _, _, state = shop(services, "cheaper", "critique_cheaper", state=showing("Sofas", shown))
    assert services.profiles.snapshot("customer-1").budget_max == state.need.price_cap == round(first.price * 0.9, 2)
    shop(services, "not leather", "critique_different", [entity("material", "leather", "exclude")],
         showing("Sofas", shown))
    assert services.profiles.snapshot("customer-1").affinities.get("material:leather") == -1.0


def test_critiques_teach_nothing_without_consent(services: Services) -> None:
    shown = shown_for(services, "Sofas")
    shop(services, "cheaper", "critique_cheaper", state=showing("Sofas", shown))
    snapshot = services.profiles.snapshot("customer-1")
    assert snapshot.budget_max is None and snapshot.affinities == {}


def test_surprise_me_shows_unseen_items_within_the_limits_and_logs_them(services: Services) -> None:
    seen = tuple(shown_for(services, "Lamps", 6))
    start = State(need=Need(scope=("Lamps",), budget_max=150.0), lists=(seen[3:],), seen=seen, liked=seen[:2])
    dispatcher, events, state = shop(services, "surprise me", "surprise_me", state=start)
    items = cards(dispatcher)
    assert texts_of(dispatcher)[0] == texts.SURPRISE and len(items) == 3
    for item in items:
        found = product(services, item["id"])
        assert found.category == "Lamps" and found.price <= 150
        assert item["id"] not in seen
        assert item["reason"].startswith(("off your usual path", "something different"))
    assert slots_of(events)["shown_items"] == [i["id"] for i in items]
    assert services.profiles.snapshot("customer-1").known  # impressions were logged
    again, _, _ = shop(services, "surprise me", "surprise_me", state=state)
    assert not {i["id"] for i in cards(again)} & {i["id"] for i in items}

"""The simulated customer and the measures of benchmarks/simulator.py, without servers."""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np
import pytest

from evaluation.simulation import (
    DONT_MIND,
    RunMeasures,
    SimulatedCustomer,
    baseline_conversation,
    close_enough,
    detect_question,
    first_hit,
    intra_list_diversity,
    novelty,
    popularity_ranking,
    reply_cards,
    tracker_question,
)
from retrieval.catalog import Catalog
from tests.conftest import make_product


@pytest.fixture
def catalog() -> Catalog:
    return Catalog([
        make_product("t", "Halden grey linen sofa", "Sofas", 700, colour="grey", material="linen", rating=4.0,
                     rating_count=10),
        make_product("twin", "Mira grey linen sofa", "Sofas", 760, colour="Grey", material="Linen"),
        make_product("pricey", "Grand grey linen sofa", "Sofas", 1500, colour="grey", material="linen", rating=4.9,
                     rating_count=400),
        make_product("blue", "Nook blue velvet sofa", "Sofas", 690, colour="blue", material="velvet", rating=4.5,
                     rating_count=50),
        make_product("leather", "Brixton grey leather sofa", "Sofas", 720, colour="grey", material="leather"),
        make_product("desk", "Oak grey desk", "Desks", 700, colour="grey", material="oak", rating=5.0,
                     rating_count=1000),
    ])


def cards_reply(*ids: str) -> list[dict[str, Any]]:
    items = [{"id": i, "title": i} for i in ids]
    return [{"text": "Here are a few things you might like:",
             "custom": {"data": {"type": "recommendations", "request_id": "r-1", "items": items}}}]


def question_reply(slot: str, *values: str) -> list[dict[str, Any]]:
    buttons = [{"title": v, "payload": "/inform" + json.dumps({slot: v})} for v in values]
    return [{"text": "a question", "buttons": [*buttons, {"title": "I don't mind", "payload": "/no_preference"}]}]


def test_close_enough_wants_the_category_key_attributes_and_a_near_price(catalog: Catalog) -> None:
    target = catalog.get("t")
    assert target is not None
    verdicts = {p.id: close_enough(target, p) for p in catalog}
    assert verdicts == {"t": True, "twin": True, "pricey": False, "blue": False, "leather": False, "desk": False}
    no_material = make_product("x", "Sofa", "Sofas", 700, colour="grey")
    assert close_enough(no_material, catalog.get("leather"))  # only what the target has must agree


def test_reading_replies() -> None:
    assert reply_cards(cards_reply("a", "b")) == ["a", "b"]
    assert reply_cards([{"custom": {"type": "recommendations", "items": [{"id": "c"}]}}]) == ["c"]
    assert detect_question(question_reply("material", "oak")) == "material"
    assert detect_question([{"text": "What style do you like?"}], {"style": "What style"}) == "style"
    assert detect_question([{"text": "Sorry?", "buttons": [{"title": "x", "payload": "/greet"}]}]) is None


def test_answers_come_from_the_target(catalog: Catalog) -> None:
    customer = SimulatedCustomer(catalog.get("t"), catalog, seed=3)  # type: ignore[arg-type]
    assert customer.answer("category") == "sofas"
    assert customer.answer("colour") == "grey" and customer.answer("material") == "linen"
    assert customer.answer("style") == DONT_MIND
    for seed in range(20):
        budget = SimulatedCustomer(catalog.get("t"), catalog, seed=seed).answer("budget")  # type: ignore[arg-type]
        numbers = [int(n) for n in budget.split() if n.isdigit()]
        assert numbers and max(numbers) >= 700 and min(numbers) <= 700 * 1.3, budget
    openings = {SimulatedCustomer(catalog.get("t"), catalog, seed=s).conversation.opening  # type: ignore[arg-type]
                for s in range(30)}
    assert all("sofas" in o for o in openings) and any("grey sofas" in o for o in openings)


def test_same_seed_same_customer(catalog: Catalog) -> None:
    def script(seed: int) -> list[str | None]:
        customer = SimulatedCustomer(catalog.get("t"), catalog, seed=seed)  # type: ignore[arg-type]
        return [customer.first_message(), customer.next_message(question_reply("budget", "under 500")),
                customer.next_message(cards_reply("pricey", "desk", "blue"))]

    assert script(5) == script(5)


def test_critiques_follow_the_target(catalog: Catalog) -> None:
    target = catalog.get("t")
    customer = SimulatedCustomer(target, catalog, seed=1)  # type: ignore[arg-type]
    product = catalog.get
    assert customer.react([product("desk")]) == "actually i want sofas"  # type: ignore[list-item]
    assert customer.react([product("pricey")]) in (  # type: ignore[list-item]
        "something cheaper", "too expensive", "anything more affordable?")
    assert customer.react([product("blue")]) == "do you have it in grey?"  # type: ignore[list-item]
    assert customer.react([product("leather")]) == "not leather"  # type: ignore[list-item]
    # nothing left to say about these: a 👎 on the first card or "show me more", alternately
    fallbacks = {customer.react([product("leather")]) for _ in range(2)}  # type: ignore[list-item]
    assert fallbacks == {'/feedback{"item_id": "leather", "sentiment": "dislike"}', "show me more"}


def test_never_rules_out_what_the_target_is_made_of(catalog: Catalog) -> None:
    target = make_product("x", "Leather-trimmed linen sofa", "Sofas", 700, colour="grey", material="linen")
    customer = SimulatedCustomer(target, catalog, seed=1)
    assert customer.react([catalog.get("leather")]) != "not leather"  # type: ignore[list-item]


def test_a_conversation_counts_turns_questions_and_the_first_hit(catalog: Catalog) -> None:
    customer = SimulatedCustomer(catalog.get("t"), catalog, seed=2, max_turns=5)  # type: ignore[arg-type]
    assert customer.first_message()
    assert customer.next_message(question_reply("budget", "under 500")) is not None
    assert customer.next_message(question_reply("colour", "grey")) == "grey"
    assert customer.next_message(cards_reply("desk", "blue", "pricey")) is not None
    assert customer.next_message(cards_reply("leather", "twin", "blue")) is None  # a hit: done
    conversation = customer.conversation
    assert (conversation.turns, conversation.questions, conversation.success_turn) == (4, 2, 4)
    assert conversation.first_rank == 5 and conversation.exact_turn is None
    assert conversation.lists == [["desk", "blue", "pricey"], ["leather", "twin", "blue"]]


def test_the_customer_gives_up(catalog: Catalog) -> None:
    customer = SimulatedCustomer(catalog.get("t"), catalog, seed=2, max_turns=3)  # type: ignore[arg-type]
    customer.first_message()
    replies = [cards_reply("desk"), cards_reply("blue"), cards_reply("pricey")]
    said = [customer.next_message(r) for r in replies]
    assert said[-1] is None and all(said[:-1]) and customer.conversation.success_turn is None


def test_a_repeated_question_gets_i_dont_mind(catalog: Catalog) -> None:
    customer = SimulatedCustomer(catalog.get("t"), catalog, seed=2)  # type: ignore[arg-type]
    customer.first_message()
    assert customer.next_message([{"text": "?"}], pending="material") == "linen"
    assert customer.next_message([{"text": "I don't know that"}], pending="material") == DONT_MIND


def test_the_pending_question_is_read_from_the_trackers_shop_state() -> None:
    def tracker(state: Any) -> dict[str, Any]:
        return {"sender_id": "s", "slots": {"shop_state": state, "shown_items": None}, "events": []}

    for question in ("category", "budget", "colour", "material", "style", "use"):
        assert tracker_question(tracker({"pending": question, "need": {}})) == question
    for other in (None, "relax:budget", "relax:colour", "consent", "satisfaction"):
        assert tracker_question(tracker({"pending": other})) is None
    assert tracker_question(tracker(None)) is None  # before the first shopping move
    assert tracker_question({"slots": {}}) is None and tracker_question({}) is None
    assert tracker_question(None) is None and tracker_question(tracker("nonsense")) is None


def test_a_pending_question_beats_the_reply_and_other_pending_values_defer_to_it(catalog: Catalog) -> None:
    customer = SimulatedCustomer(catalog.get("t"), catalog, seed=2)  # type: ignore[arg-type]
    customer.first_message()
    # the tracker says material although the buttons look like a colour question
    assert customer.next_message(question_reply("colour", "grey"), pending="material") == "linen"
    # "shall I show other colours?" is no needs question: the reply's yes/no buttons decide
    offer = [{"text": "I do have 4 sofas in other colours than grey — shall I show them?",
              "buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}]}]
    assert customer.next_message(offer, pending="relax:colour") == "no"
    assert customer.next_message(question_reply("colour", "grey"), pending="consent") == "grey"
    assert customer.conversation.questions == 2


def test_baselines_page_a_ranking_three_at_a_time(catalog: Catalog) -> None:
    assert popularity_ranking(catalog)[:2] == ["desk", "pricey"]
    ranking = popularity_ranking(catalog, "Sofas")
    assert ranking[:3] == ["pricey", "blue", "t"] and "desk" not in ranking
    target = catalog.get("t")
    assert first_hit(target, ranking, catalog) == 3  # type: ignore[arg-type]
    conversation = baseline_conversation(target, "sofas", ["desk", "blue", "pricey", "leather", "t"], catalog,
                                         max_turns=5)  # type: ignore[arg-type]
    assert (conversation.success_turn, conversation.first_rank, conversation.turns) == (2, 5, 2)


def test_diversity_against_brute_force() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(6, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [str(i) for i in range(6)]
    lists = [ids[:3], ids[3:], ids[:1]]

    def vector_of(chosen: list[str]) -> np.ndarray:
        return vectors[[int(i) for i in chosen]]

    expected = np.mean([
        np.mean([1 - float(vectors[int(a)] @ vectors[int(b)]) for a, b in itertools.combinations(lst, 2)])
        for lst in lists[:2]
    ])
    assert intra_list_diversity(lists, vector_of) == pytest.approx(expected, rel=1e-5)  # type: ignore[arg-type]


def test_novelty_coverage_and_success_rates(catalog: Catalog) -> None:
    total = sum(p.rating_count + 1 for p in catalog)
    assert novelty(["desk"], catalog) == pytest.approx(-np.log2(1001 / total))
    assert novelty(["twin"], catalog) > novelty(["desk"], catalog)  # the unrated one is the novel one
    target = catalog.get("t")
    hit = baseline_conversation(target, "x", ["desk", "blue", "t"], catalog, max_turns=15)  # type: ignore[arg-type]
    late = baseline_conversation(target, "x", ["desk"] * 20 + ["t"], catalog, max_turns=15)  # type: ignore[arg-type]
    miss = baseline_conversation(target, "x", ["desk", "blue"], catalog, max_turns=15)  # type: ignore[arg-type]
    measures = RunMeasures.of([hit, late, miss], catalog, cutoffs=(1, 5, 15), max_turns=15,
                              vector_of=lambda ids: np.eye(len(catalog), dtype=np.float32)[
                                  [catalog.position(i) for i in ids]])
    assert measures.success_at == {1: pytest.approx(1 / 3), 5: pytest.approx(1 / 3), 15: pytest.approx(2 / 3)}
    assert measures.average_turns == pytest.approx((1 + 7 + 15) / 3)
    assert measures.mean_first_rank == pytest.approx((3 + 21) / 2)
    assert measures.coverage == pytest.approx(3 / 6)


def test_the_exact_target_customer_wants_the_target_itself(catalog: Catalog) -> None:
    target = catalog.get("t")
    customer = SimulatedCustomer(target, catalog, seed=2, max_turns=8, exact=True)  # type: ignore[arg-type]
    opening = customer.first_message()
    assert "halden grey" in opening and "sofas" in opening  # its title words and its category
    # a close-enough twin is not it: the customer asks for more like it, through the card's button
    said = customer.next_message(cards_reply("twin", "desk", "blue"))
    assert said == '/more_like{"item_id": "twin"}'
    assert customer.conversation.success_turn is None
    said = customer.next_message(cards_reply("pricey", "leather", "blue"))
    assert said is not None and not said.startswith("/more_like{\"item_id\": \"twin\"")
    said = customer.next_message(cards_reply("blue", "desk", "leather"))
    assert said == "i'm after the halden grey linen sofa"  # every third miss: the title in more words
    assert customer.next_message(cards_reply("desk", "t", "blue")) is None
    conversation = customer.conversation
    assert conversation.success_turn == conversation.exact_turn == 4 and conversation.first_rank == 11


def test_exact_baselines_count_only_the_target(catalog: Catalog) -> None:
    ranking = ["twin", "pricey", "blue", "t"]
    lenient = baseline_conversation(catalog.get("t"), "sofas", ranking, catalog, max_turns=5)  # type: ignore[arg-type]
    exact = baseline_conversation(catalog.get("t"), "sofas", ranking, catalog, max_turns=5,  # type: ignore[arg-type]
                                  exact=True)
    assert (lenient.success_turn, exact.success_turn) == (1, 2)
    assert first_hit(catalog.get("t"), ranking, catalog, exact=True) == 4  # type: ignore[arg-type]

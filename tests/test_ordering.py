"""Superlatives: "your cheapest desk", "the best rated headphones" are a sort inside the need.

The shown items are the true first of the need in that order, "our cheapest …" is said only when no item
of the kind comes before it, and the order is never a price band ("cheapest" is not "cheap").
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from actions.catalog_shop import RATING_PRIOR, CatalogShop
from actions.conversation import ITEMS_PER_TURN, Move, Need, State, apply
from actions.moves import move_from
from actions.parsing import order_of
from tests.actions_support import make_services
from tests.test_moves import entity, message

SERVICES = make_services()
SHOP = CatalogShop(SERVICES.recommender, SERVICES.vocabulary)
CATALOG = SERVICES.recommender.catalog
DESKS = [p for p in CATALOG if p.category == "Desks" and p.in_stock]  # what the shop can sell


def shown(state: State) -> list[str]:
    return list(state.shown)


def test_a_superlative_is_an_order_not_a_price_band() -> None:
    move = move_from(message("what's your cheapest desk?", "request_recommendation", entity("category", "desk")),
                     State(), SERVICES.vocabulary, CATALOG)
    assert move.kind == "state" and move.order == "cheapest" and move.scope == ("Desks",)
    assert move.relative_budget is None and move.budget_max is None


def test_the_cheapest_are_the_true_cheapest_of_the_kind_and_come_at_once() -> None:
    state, reply = apply(State(), Move("state", scope=("Desks",), scope_words="desk", order="cheapest"), SHOP)
    assert reply.kind == "cards", "no question before the list a superlative asked for"
    expected = [p.id for p in sorted(DESKS, key=lambda p: p.price)[:ITEMS_PER_TURN]]
    assert shown(state) == expected
    assert reply.cards[0].reason.startswith("our cheapest desk")
    _, more = apply(state, Move("show_more"), SHOP)
    assert [s.product.id for s in more.cards] == \
        [p.id for p in sorted(DESKS, key=lambda p: p.price)[ITEMS_PER_TURN:2 * ITEMS_PER_TURN]]


def test_our_cheapest_only_when_nothing_of_the_kind_is_cheaper() -> None:
    cheapest = min(DESKS, key=lambda p: p.price)
    floor = cheapest.price + 0.01
    need = Need(scope=("Desks",), scope_words="desk", order="cheapest", budget_min=floor)
    _, reply = apply(State(need=need), Move("show_more"), SHOP)
    first = reply.cards[0]
    assert first.product.price == min(p.price for p in DESKS if p.price >= floor)
    assert not first.reason.startswith("our") and "fits what you asked" in first.reason


def test_best_rated_weighs_a_rating_by_how_many_gave_it() -> None:
    rated = [p for p in CATALOG if p.rating is not None]
    mean = sum(p.rating or 0.0 for p in rated) / len(rated)
    state, _ = apply(State(), Move("state", scope=("Desks",), scope_words="desk", order="best_rated"), SHOP)

    def shrunk(rating: float | None, count: int) -> float:
        return ((rating or 0.0) * count + mean * RATING_PRIOR) / (count + RATING_PRIOR)

    scores = [shrunk(p.rating, p.rating_count) for p in DESKS]
    best = DESKS[scores.index(max(scores))]
    assert shown(state)[0] == best.id


def test_show_me_the_cheapest_after_a_list_sorts_instead_of_going_below_a_card() -> None:
    ids = tuple(p.id for p in DESKS[:3])
    listed = State(need=Need(scope=("Desks",), scope_words="desk"), lists=(ids,), seen=ids)
    move = move_from(message("show me the cheapest ones", "critique_cheaper"), listed, SERVICES.vocabulary, CATALOG)
    assert move.kind == "state" and move.order == "cheapest"
    state, _ = apply(listed, move, SHOP)
    assert state.need.order == "cheapest" and state.need.scope == ("Desks",)


@pytest.mark.parametrize(("text", "order"), [
    ("lowest priced sofa", "cheapest"), ("most expensive watch you have", "priciest"),
    ("top rated headphones", "best_rated"), ("your best sellers", "popular"), ("a cheap lamp", None),
])
def test_the_superlatives_shoppers_use(text: str, order: str | None) -> None:
    assert order_of(text) == order


def test_an_order_survives_the_slot_round_trip() -> None:
    state = State(need=replace(Need(scope=("Desks",)), order="priciest"))
    assert State.from_dict(state.to_dict()).need.order == "priciest"
    assert State.from_dict({**state.to_dict(), "need": {"order": "sideways"}}).need.order is None

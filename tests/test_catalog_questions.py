"""Questions about the catalog as a whole: how many of a kind, which brands, colours or materials, what prices.

The answer is counted or grouped from the items that meet the need the question states, the same items a
list would come from; a count or a price range comes with the best of them, a field's values with a
button each.
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from actions import texts
from actions.catalog_shop import CatalogShop
from actions.conversation import Move, Need, State, apply
from actions.moves import move_from
from retrieval.catalog import Catalog, Product
from retrieval.encoder import HashingEncoder
from retrieval.explain import format_price
from retrieval.facets import FACET_QUESTIONS, MAX_NAMED, CatalogFacets, facet_of
from retrieval.recommender import Recommender
from retrieval.search import Retriever
from retrieval.vocabulary import CatalogVocabulary
from tests.actions_support import make_services
from tests.test_moves import entity, message

SERVICES = make_services()
SHOP = CatalogShop(SERVICES.recommender, SERVICES.vocabulary)
CATALOG = SERVICES.recommender.catalog


def kind_with_brands() -> str:
    """A category whose items come from more than one brand and span more than one price."""
    for category in CATALOG.categories():
        items = [p for p in CATALOG if p.category == category]
        if len({p.brand for p in items if p.brand}) > 1 and len({p.price for p in items}) > 1:
            return category
    raise AssertionError("the test catalog has no category with several brands")


KIND = kind_with_brands()
ITEMS = [p for p in CATALOG if p.category == KIND]


def catalog_question(text: str, **fields: object) -> tuple[State, object]:
    return apply(State(), Move("catalog", text=text, scope=(KIND,), scope_words=KIND.lower(), **fields), SHOP)


def test_every_facet_example_is_read_as_its_own_facet() -> None:
    facets = CatalogFacets(HashingEncoder(256))
    for name, examples in FACET_QUESTIONS.items():
        assert {facets.facet(e) for e in examples} == {name}


def test_facet_of_counts_and_groups_the_items_spellings_together() -> None:
    brand = ITEMS[0].brand
    assert brand
    items = [*ITEMS, ITEMS[0].__class__(**{**ITEMS[0].__dict__, "id": "X", "brand": brand.upper()})]
    facet = facet_of("brand", items)
    assert facet.count == len(items)
    counted = dict(facet.values)
    assert sum(counted.values()) + facet.unknown == len(items)
    assert brand.upper() not in counted or brand not in counted  # one value, its commonest spelling
    assert facet.low == min(p.price for p in items) and facet.high == max(p.price for p in items)


def test_how_many_states_the_true_count_under_the_budget_and_shows_the_best_of_them() -> None:
    prices = sorted(p.price for p in ITEMS)
    ceiling = prices[len(prices) // 2]
    truth = sum(p.price <= ceiling and p.in_stock for p in ITEMS)
    gone = sum(p.price <= ceiling and not p.in_stock for p in ITEMS)
    after, reply = catalog_question("how many do you have", budget_max=ceiling)
    assert reply.kind == "cards"
    assert re.search(rf"\bWe have {truth:,}\b", reply.lines[0]), reply.lines
    assert (f"({gone:,} more are out of stock" in reply.lines[0]) == bool(gone), reply.lines
    assert reply.cards and all(s.product.category == KIND and s.product.price <= ceiling for s in reply.cards)
    assert after.need.scope == (KIND,) and after.need.budget_max == ceiling


def test_how_many_with_nothing_under_the_budget_says_so_truthfully() -> None:
    cheapest = min(p.price for p in ITEMS)
    _, reply = catalog_question("how many do you have", budget_max=round(cheapest / 2, 2))
    assert reply.kind in ("nothing_fits", "offer_relax") and not reply.cards
    assert any("no " in line for line in reply.lines), reply.lines


def test_which_brands_names_every_brand_of_the_kind_with_a_button_each() -> None:
    truth = {p.brand for p in ITEMS if p.brand}
    after, reply = catalog_question("which brands do you have")
    assert reply.kind == "answer" and not reply.cards
    named = {b for b in truth if b in reply.lines[0]}
    assert named == truth if len(truth) <= MAX_NAMED else len(named) == MAX_NAMED
    assert {title for title, _ in reply.buttons} == named
    assert all(payload.startswith('/inform{"brand": ') for _, payload in reply.buttons)
    assert after.need.scope == (KIND,)


def test_the_price_range_is_the_kinds_own_cheapest_and_dearest() -> None:
    _, reply = catalog_question("what's the price range")
    prices = [p.price for p in ITEMS if p.in_stock]
    low, high = (format_price(p, CATALOG.currency) for p in (min(prices), max(prices)))
    assert f"from {low} to {high} ({len(prices)} of them)" in reply.lines[0], reply.lines
    assert reply.cards


def test_a_field_the_catalog_does_not_give_is_said_to_be_unknown() -> None:
    bare = [p.__class__(**{**p.__dict__, "material": None}) for p in ITEMS]
    facet = facet_of("material", bare)
    assert facet.values == () and facet.unknown == len(bare)


def test_the_question_is_read_as_a_catalog_question_with_the_need_it_states() -> None:
    text = f"how many {KIND.lower()} do you have under 300"
    kind = {**entity("category", KIND.lower(), text=text), "end": 9 + len(KIND)}
    move = move_from(message(text, "ask_catalog", kind), State(), SERVICES.vocabulary, CATALOG)
    assert move.kind == "catalog"
    assert move.scope == (KIND,) and move.budget_max == 300
    assert move.text == "how many do you have"  # what is asked, without the kind and the budget it names


def test_a_catalog_question_about_a_card_on_screen_is_a_question_about_that_card() -> None:
    shown = tuple(p.id for p in ITEMS[:3])
    state = State(need=Need(scope=(KIND,)), lists=(shown,), seen=shown)
    move = move_from(message("how many of the second one are left", "ask_catalog", entity("ordinal", "second")),
                     state, SERVICES.vocabulary, CATALOG)
    assert move.kind == "ask" and move.items == (shown[1],)


def test_a_catalog_question_keeps_the_kind_on_screen_when_it_names_none() -> None:
    shown = tuple(p.id for p in ITEMS[:3])
    state = State(need=Need(scope=(KIND,), scope_words=KIND.lower()), lists=(shown,), seen=shown)
    after, reply = apply(state, Move("catalog", text="which brands do you have"), SHOP)
    assert after.need.scope == (KIND,)
    assert texts.FACET_VALUES["brand"].split("{")[0] in reply.lines[0]


@pytest.mark.parametrize("text", ["how many products do you sell", "how many items have you got"])
def test_how_many_with_no_kind_anywhere_counts_the_whole_catalog(text: str) -> None:
    _, reply = apply(State(), Move("catalog", text=text), SHOP)
    assert f"We have {sum(p.in_stock for p in CATALOG):,} " in reply.lines[0], reply.lines


def _kind_and_colours() -> tuple[str, str, str, str]:
    """A category with items of two colours, and a colour the catalog has only in other categories."""
    for category in CATALOG.categories():
        colours = {p.colour.lower() for p in CATALOG if p.category == category and p.colour}
        elsewhere = {p.colour.lower() for p in CATALOG if p.category != category and p.colour} - colours
        if len(colours) >= 2 and elsewhere:
            first, second = sorted(colours)[:2]
            return category, first, second, sorted(elsewhere)[0]
    raise AssertionError("the test catalog has no category in two colours")


def _shown_in(category: str, colour: str) -> State:
    item = next(p for p in CATALOG if p.category == category and (p.colour or "").lower() == colour)
    return State(need=Need(scope=(category,), scope_words=category.lower()), lists=((item.id,),), seen=(item.id,))


def test_another_colour_of_the_kind_shows_that_colour_first_the_same_kind() -> None:
    category, first, second, _ = _kind_and_colours()
    after, reply = apply(_shown_in(category, first),
                         Move("critique", critique="different", attribute="colour", value=second), SHOP)
    assert reply.kind == "cards"
    assert all(s.product.category == category and (s.product.colour or "").lower() == second for s in reply.cards)
    assert after.need.strict == ("colour",)


def test_a_colour_the_kind_lacks_is_said_and_the_closest_in_that_colour_are_shown() -> None:
    category, first, _, missing = _kind_and_colours()
    _, reply = apply(_shown_in(category, first),
                     Move("critique", critique="different", attribute="colour", value=missing), SHOP)
    assert reply.lines == (texts.NONE_OF_THE_KIND_IN.format(kind=category.lower(), value=missing),)
    assert reply.cards and all((s.product.colour or "").lower() == missing for s in reply.cards)
    assert all(s.product.category != category for s in reply.cards)


def test_a_strict_wish_filters_even_where_the_catalog_seldom_gives_the_attribute() -> None:
    """"Do you have it in black?" where one pair of sunglasses says its colour: that one, not the five that don't."""
    products = [Product(f"s{i}", f"Aviator sunglasses {i}", 20.0 + i, "USD", "Sunglasses", colour=c)
                for i, c in enumerate(["black", None, None, None, None, None])]
    catalog = Catalog(products)
    shop = CatalogShop(Recommender(Retriever.build(catalog, HashingEncoder(64))), CatalogVocabulary(catalog))
    need = Need(scope=("Sunglasses",), wishes={"colour": "black"})
    assert shop.count(need, ()) == 6  # a wish said in passing ranks where the catalog seldom describes it
    strict = dataclasses.replace(need, strict=("colour",))
    assert shop.count(strict, ()) == 1
    assert State.from_dict(State(need=strict).to_dict()).need.strict == ("colour",)


def test_no_to_does_it_come_in_a_colour_offers_the_kind_in_that_colour_and_yes_shows_them() -> None:
    category, first, second, _ = _kind_and_colours()
    shown = _shown_in(category, first)
    asked = Move("ask", items=shown.shown, text=f"does the first one come in {second}?", wishes={"colour": second})
    after, reply = apply(shown, asked, SHOP)
    assert reply.kind == "answer" and reply.lines[0].startswith(texts.NO)
    assert reply.question == texts.OFFER_ANOTHER.format(kind=category.lower(), value=second)
    assert after.need == shown.need and after.lists == shown.lists  # a question changes nothing by itself
    for taken in (Move("yes"), Move("show_more"), Move("dont_mind")):  # "yes", "go on, show me", "I don't mind"
        _, cards = apply(after, taken, SHOP)
        assert cards.kind == "cards" and cards.cards, taken
        assert all(s.product.category == category and (s.product.colour or "").lower() == second
                   for s in cards.cards), taken
    kept, answer = apply(after, Move("no"), SHOP)
    assert answer.lines == (texts.KEEP_THESE,) and kept.lists == shown.lists and kept.pending is None


def test_no_offer_when_the_kind_has_nothing_in_that_colour_or_the_answer_is_yes() -> None:
    category, first, _, missing = _kind_and_colours()
    shown = _shown_in(category, first)
    _, none = apply(shown, Move("ask", items=shown.shown, text=f"is it {missing}?", wishes={"colour": missing}), SHOP)
    assert none.lines[0].startswith(texts.NO) and not none.question
    _, same = apply(shown, Move("ask", items=shown.shown, text=f"is it {first}?", wishes={"colour": first}), SHOP)
    assert same.lines[0].startswith(texts.YES) and not same.question

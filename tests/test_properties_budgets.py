"""Properties of the amount and budget parsers: any words give a budget or none, never a crash.

``actions/parsing.py`` reads budgets, ordinals and item references out of what customers type;
``retrieval/prices.py`` reads prices out of catalog cells. Both take text nobody vetted.
"""

from __future__ import annotations

import math
import string

from hypothesis import example, given
from hypothesis import strategies as st

from actions.parsing import (
    Budget,
    parse_budget,
    parse_ordinal,
    parse_ordinals,
    resolve_item_reference,
    without_budget,
    without_measures,
)
from retrieval.prices import CURRENCY_MARKERS, Price, PriceError, parse_price, salvage_price
from tests.properties_support import messy_text

_WORDS = ["under", "below", "less than", "max", "at most", "up to", "no more than", "over", "above", "at least",
          "from", "between", "and", "to", "-", "–", "around", "about", "ish", "~", "+", "k", "grand", "thousand",
          "hundred", "bucks", "dollars", "rs", "usd", "€", "$", "£", "₹", "cheap", "premium", "mid-range",
          "no budget", "whatever", "don't mind", "sofa", "lamp", "inches", "seater", "age", "size", "years",
          "for", "people", "a", "an", "two", "twenty", "five", "%", "iphone", "13", "pro", "1.5k", ",", "."]
#: Amounts as customers write them, small and absurd: "500", "1,299.50", "3k", a 400-digit number.
_AMOUNTS = st.one_of(
    st.integers(min_value=0, max_value=10**6).map(str),
    st.integers(min_value=0, max_value=10**6).map(lambda n: f"{n:,}"),
    st.floats(min_value=0, max_value=1e7, allow_nan=False).map(lambda x: f"{x:.2f}"),
    st.integers(min_value=1, max_value=999).map(lambda n: f"{n}k"),
    st.text(alphabet=string.digits, min_size=1, max_size=20),
    st.integers(min_value=300, max_value=500).map(lambda digits: "9" * digits),  # beyond any float
)
#: Sentences made of the words and amounts the budget parser looks for, in any order ...
_ANY_ORDER = st.lists(st.one_of(st.sampled_from(_WORDS), _AMOUNTS), max_size=10).map(" ".join)
#: ... and ranges as they are said: "between 2 and 3 hundred", "from 5k to 1k", "200-300 bucks".
_RANGES = st.tuples(st.sampled_from(["between", "from", ""]), _AMOUNTS, st.sampled_from(["and", "to", "-", "–"]),
                    _AMOUNTS, st.sampled_from(["", "hundred", "thousand", "grand", "k", "bucks"])).map(" ".join)
money_talk = st.one_of(_ANY_ORDER, _RANGES)


def _check_budget(budget: Budget | None) -> None:
    if budget is None:
        return
    assert isinstance(budget, Budget)
    for bound in (budget.minimum, budget.maximum):
        assert bound is None or (math.isfinite(bound) and bound >= 0), budget
    if budget.minimum is not None and budget.maximum is not None:
        assert budget.minimum <= budget.maximum, budget
    assert budget.relative in (None, "cheap", "mid", "premium")
    if budget.no_limit:
        assert budget == Budget(no_limit=True)


@given(st.one_of(money_talk, messy_text))
@example("under " + "9" * 400)
@example("between 5 and 3 hundred")
@example("between 2 and 1k")
def test_any_words_give_a_sound_budget_or_none(text: str) -> None:
    _check_budget(parse_budget(text))


@given(st.floats(min_value=1, max_value=10**6, allow_nan=False), st.sampled_from(["under", "max", "up to", "below"]))
def test_a_stated_ceiling_is_read_back(amount: float, words: str) -> None:
    amount = round(amount, 2)
    assert parse_budget(f"{words} ${amount:,.2f}") == Budget(maximum=amount)


@given(st.integers(min_value=1, max_value=10**5), st.integers(min_value=1, max_value=10**5))
def test_a_range_is_ordered_whatever_order_it_was_said_in(first: int, second: int) -> None:
    budget = parse_budget(f"between {first} and {second}")
    assert budget == Budget(minimum=min(first, second), maximum=max(first, second))


@given(st.one_of(money_talk, messy_text))
def test_taking_money_or_measures_out_leaves_tidy_text(text: str) -> None:
    for cleaned in (without_budget(text), without_measures(text)):
        assert isinstance(cleaned, str)
        assert cleaned == " ".join(cleaned.split())
        assert len(cleaned) <= len(text)


@given(st.one_of(messy_text, st.lists(st.sampled_from(["first", "2nd", "the", "last", "one", "3", "10", "and",
                                                       "third", "middle", "left", "right", "five"])).map(" ".join)))
def test_ordinals_are_small_positions(text: str) -> None:
    positions = parse_ordinals(text)
    assert all(-1 <= p <= 8 for p in positions)
    assert parse_ordinal(text) == (positions[0] if positions else None)


_TITLES = st.lists(st.text(alphabet=string.ascii_letters + string.digits + " -'", max_size=30), min_size=0,
                   max_size=6)


@given(messy_text, _TITLES)
def test_an_item_reference_names_a_shown_item_or_none(reference: str, titles: list[str]) -> None:
    shown = [(f"SKU-{n}", title) for n, title in enumerate(titles)]
    found = resolve_item_reference(reference, shown)
    assert found is None or found in {item_id for item_id, _ in shown}


@given(st.lists(st.text(alphabet=string.ascii_lowercase, min_size=3, max_size=8)
                .filter(lambda word: word not in ("the", "one", "and", "for", "with", "like", "that", "this", "chair")),
                min_size=2, max_size=5, unique=True))
def test_a_word_of_one_title_only_names_that_item(words: list[str]) -> None:
    shown = [(f"SKU-{n}", f"{word} chair") for n, word in enumerate(words)]
    for item_id, title in shown:
        assert resolve_item_reference(f"the {title.split()[0]} one", shown) == item_id


# ------------------------------------------------------------------------------------------- prices

_MARKERS = sorted(CURRENCY_MARKERS)


#: Cells as exports write them: a marker before or after an amount, with untidy text around it.
_CELLS = st.tuples(messy_text, st.sampled_from(["", *_MARKERS]), _AMOUNTS, st.sampled_from(["", *_MARKERS]),
                   messy_text).map(lambda parts: " ".join(parts))


@given(st.one_of(messy_text, _CELLS, st.integers(), st.integers(min_value=10**300, max_value=10**400), st.floats(),
                 st.booleans()))
@example(10**400)
@example("$" + "9" * 400)
def test_a_cell_is_a_price_or_a_price_error(value: str | int | float) -> None:
    try:
        price = parse_price(value)
    except PriceError as error:
        assert str(error)
        return
    assert isinstance(price, Price)
    assert math.isfinite(price.amount) and price.amount >= 0
    assert price.currency is None or price.currency in CURRENCY_MARKERS.values()


@given(st.one_of(messy_text, _CELLS))
@example("$" + "9" * 400)
@example("$ 9" + "9" * 400 + " 99")
def test_salvage_finds_a_finite_price_or_says_there_is_none(value: str) -> None:
    try:
        price = salvage_price(value)
    except PriceError as error:
        assert str(error)
        return
    assert math.isfinite(price.amount) and price.amount >= 0
    assert price.currency is None or price.currency in CURRENCY_MARKERS.values()


@given(st.decimals(min_value=0, max_value=10**9, places=2), st.sampled_from(_MARKERS), st.booleans())
def test_a_marked_price_is_read_back_exactly(amount: object, marker: str, after: bool) -> None:
    number = f"{amount:,.2f}"
    cell = f"{number} {marker}" if after else f"{marker} {number}"
    assert parse_price(cell) == Price(float(str(amount)), CURRENCY_MARKERS[marker])

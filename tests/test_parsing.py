"""Budget and item-reference parsers."""

from __future__ import annotations

import pytest

from actions.parsing import Budget, parse_budget, parse_ordinal, parse_ordinals, resolve_item_reference


@pytest.mark.parametrize(
    ("text", "minimum", "maximum"),
    [
        ("under 500", None, 500),
        ("under $800", None, 800),
        ("less than 50 quid", None, 50),
        ("no more than €250", None, 250),
        ("max 1k", None, 1000),
        ("up to 1,200", None, 1200),
        ("500 bucks", None, 500),
        ("1.5k", None, 1500),
        ("2 grand", None, 2000),
        ("under five hundred", None, 500),
        ("two hundred and fifty", None, 250),
        ("between 2 and 3 hundred", 200, 300),
        ("between 200 and 300", 200, 300),
        ("200-300", 200, 300),
        ("$200 to $300", 200, 300),
        ("from 500 to 900", 500, 900),
        ("at least 300", 300, None),
        ("more than 200", 200, None),
        ("over 200", 200, None),
        ("around 100 dollars", 75, 115),
    ],
)
def test_budgets_with_numbers(text: str, minimum: float | None, maximum: float | None) -> None:
    assert parse_budget(text) == Budget(minimum=minimum, maximum=maximum)


@pytest.mark.parametrize(
    ("text", "relative"),
    [("cheap", "cheap"), ("something not too expensive", "cheap"), ("affordable please", "cheap"),
     ("mid-range", "mid"), ("premium please", "premium"), ("high-end", "premium")],
)
def test_budgets_in_words(text: str, relative: str) -> None:
    assert parse_budget(text) == Budget(relative=relative)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["no budget", "money is no object", "i don't mind", "doesn't matter",
                                  "no budget, even over 500"])
def test_no_budget(text: str) -> None:
    assert parse_budget(text) == Budget(no_limit=True)


@pytest.mark.parametrize(("text", "expected"), [
    ("show me hobby up to 24 whatever colour", Budget(maximum=24.0)),  # "whatever" is about the colour
    ("under 300 i dont care about colour", Budget(maximum=300.0)),  # and "about" is not "around"
    ("about 100", Budget(minimum=75.0, maximum=115.0)),
    ("100ish", Budget(minimum=75.0, maximum=115.0)),
])
def test_an_amount_wins_over_words_about_something_else(text: str, expected: Budget) -> None:
    assert parse_budget(text) == expected


@pytest.mark.parametrize("text", ["do you have alfajr wq18 qibla, watches?", "100% rayon", "kawasaki z800",
                                  'a 15" screen', "i need fluid dmf-002-gr01, watches", "a 3-seater sofa"])
def test_model_numbers_and_measures_are_no_budget(text: str) -> None:
    assert parse_budget(text) is None


@pytest.mark.parametrize(("text", "maximum"), [("500rs", 500.0), ("20usd max", 20.0), ("samsung s8 under 300", 300.0)])
def test_money_glued_to_its_currency_is_still_money(text: str, maximum: float) -> None:
    assert parse_budget(text) == Budget(maximum=maximum)


@pytest.mark.parametrize("text", ["a lot", "under", "something for my home office", "", "0", "soon",
                                  "the second one", "2nd one needs suction cups to stick?"])
def test_unusable_budgets_are_none(text: str) -> None:
    assert parse_budget(text) is None


@pytest.mark.parametrize(
    ("text", "positions"),
    [("the 2nd one", [1]), ("the second one", [1]), ("compare 1 and 3", [0, 2]), ("1st and 3rd", [0, 2]),
     ("the last one", [-1]), ("#2", [1]), ("number three", [2]), ("the middle one", [1]),
     ("i like that one", []), ("under 500", [])],
)
def test_ordinals(text: str, positions: list[int]) -> None:
    assert parse_ordinals(text) == positions
    assert parse_ordinal(text) == (positions[0] if positions else None)


SHOWN = [("a", "Halden 2-Seater Sofa Bed in Grey Linen"), ("b", "Juno Sofa in Blue Velvet"), ("c", "Oak Desk")]


@pytest.mark.parametrize(
    ("reference", "expected"),
    [("the halden", "a"), ("the blue one", "b"), ("the velvet juno", "b"), ("the desk", "c"),
     ("the second", "b"), ("the last one", "c"), ("the sofa", None), ("the fourth", None), ("blah", None)],
)
def test_item_references_by_title_word_or_position(reference: str, expected: str | None) -> None:
    assert resolve_item_reference(reference, SHOWN) == expected


def test_no_cards_no_reference() -> None:
    assert resolve_item_reference("the first", []) is None


def test_a_word_ending_in_k_is_not_a_thousand() -> None:
    assert parse_budget("a cheap desk") == Budget(relative="cheap")
    assert parse_budget("need a desk for my kiosk") is None

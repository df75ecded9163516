from __future__ import annotations

from retrieval.catalog import Product
from retrieval.explain import format_price, reason_for


def sofa(**changes: object) -> Product:
    values: dict[str, object] = {"id": "a", "title": "Halden Sofa", "price": 699.0, "currency": "USD",
                                 "category": "Sofas", "colour": "Grey", "material": "Linen", "rating": 4.6}
    values.update(changes)
    return Product(**values)  # type: ignore[arg-type]


def test_reason_names_the_features_that_match() -> None:
    assert reason_for(sofa(), "grey linen sofas please", max_price=800) == (
        "grey, linen, a sofa, under your $800 budget, rated 4.6/5"
    )


def test_reason_invents_nothing_when_nothing_matches() -> None:
    assert reason_for(sofa(rating=3.9), "something nice") == "close to what you described"


def test_reason_skips_a_budget_the_item_does_not_fit() -> None:
    assert "budget" not in reason_for(sofa(), "sofa", max_price=500)


def test_prices_are_formatted_per_currency() -> None:
    assert format_price(699.0, "USD") == "$699"
    assert format_price(1299.5, "INR") == "₹1,299.50"
    assert format_price(10, "AED") == "10 AED"

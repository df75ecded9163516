from __future__ import annotations

from retrieval.explain import format_price


def test_prices_are_formatted_per_currency() -> None:
    assert format_price(699.0, "USD") == "$699"
    assert format_price(1299.5, "INR") == "₹1,299.50"
    assert format_price(10, "AED") == "10 AED"

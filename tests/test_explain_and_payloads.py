from __future__ import annotations

from actions.payloads import recommendation_payload
from retrieval.catalog import Product
from retrieval.explain import compare_lines, format_price, product_price
from retrieval.recommender import Scored


def test_prices_are_formatted_per_currency() -> None:
    assert format_price(699.0, "USD") == "$699"
    assert format_price(1299.5, "INR") == "₹1,299.50"
    assert format_price(10, "AED") == "10 AED"


def test_a_range_price_reads_from_its_lower_end_in_words_and_on_the_card() -> None:
    ranged = Product("R", "Kite", 74.99, "USD", "Toys", price_from=True)
    plain = Product("P", "Ball", 5.0, "USD", "Toys")
    assert (product_price(ranged), product_price(plain)) == ("from $74.99", "$5")
    assert compare_lines(ranged, plain)[0].startswith("• price: from $74.99 vs $5")
    payload = recommendation_payload([Scored(ranged, 1.0, 1, "why", 0.9), Scored(plain, 0.5, 2, "why", 0.8)], "r-1")
    assert [item["price_from"] for item in payload["items"]] == [True, False]

from __future__ import annotations

import pytest

from retrieval.prices import Price, PriceError, parse_price


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rs. 1,299", Price(1299.0, "INR")),
        ("Dhs 1,050", Price(1050.0, "AED")),
        ("$19.99", Price(19.99, "USD")),
        ("1,299.50 INR", Price(1299.5, "INR")),
        ("€5", Price(5.0, "EUR")),
        ("₹ 12,00,000", Price(1_200_000.0, "INR")),
        ("  42 ", Price(42.0, None)),
        ("1\u00a0050", Price(1050.0, None)),
        (7, Price(7.0, None)),
        (0.5, Price(0.5, None)),
    ],
)
def test_parses_prices_as_shops_write_them(text: str | float, expected: Price) -> None:
    assert parse_price(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "1.2.3", "Rs. Dhs 5", "nan", "inf", "12 apples", True])
def test_rejects_what_is_not_a_price(text: str) -> None:
    with pytest.raises(PriceError, match="price"):
        parse_price(text)


@pytest.mark.parametrize("text", ["-5", "-Rs. 3", -1.0])
def test_rejects_negative_prices_by_name(text: str | float) -> None:
    with pytest.raises(PriceError, match="negative"):
        parse_price(text)


def test_rejects_non_finite_numbers() -> None:
    with pytest.raises(PriceError, match="finite"):
        parse_price(float("nan"))

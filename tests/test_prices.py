from __future__ import annotations

import pytest

from retrieval.prices import Price, PriceError, parse_price, salvage_price


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$74.99 - $249.99", Price(74.99, "USD", lower_bound=True)),
        ("$895.00 - $2,497.50", Price(895.0, "USD", lower_bound=True)),
        ("10–20 EUR", Price(10.0, "EUR", lower_bound=True)),
        ("$5 - $5", Price(5.0, "USD")),
    ],
)
def test_a_range_is_its_lower_end(text: str, expected: Price) -> None:
    assert parse_price(text) == expected


@pytest.mark.parametrize("text", ["$20 - $10", "$5 - Rs. 9", "$5 - $6 - $7", "- $5"])
def test_a_range_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(PriceError):
        parse_price(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$6.94 $ 6 . 94", Price(6.94, "USD")),
        ("$ 19 99 $39.95 #listPriceLegalMessageText { margin-left: 4px !important; }", Price(19.99, "USD")),
        ("Price: $1,179.99 (incl. tax)", Price(1179.99, "USD")),
        ("$12.50", Price(12.5, "USD")),
    ],
)
def test_salvage_reads_the_first_marked_price_in_untidy_text(text: str, expected: Price) -> None:
    assert salvage_price(text) == expected


@pytest.mark.parametrize("text", ["Total price:", "call us", "12 apples"])
def test_salvage_refuses_text_without_a_marked_price(text: str) -> None:
    with pytest.raises(PriceError, match="no price"):
        salvage_price(text)

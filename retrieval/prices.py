"""Parsing prices as shops write them.

>>> parse_price("Rs. 1,299")
Price(amount=1299.0, currency='INR')
>>> parse_price("Dhs 1,050")
Price(amount=1050.0, currency='AED')
>>> parse_price("$ 19.99").amount
19.99
"""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["CURRENCY_MARKERS", "Price", "PriceError", "parse_price"]


class Price(NamedTuple):
    """A parsed price: amount and ISO currency code (``None`` when unmarked)."""

    amount: float
    currency: str | None


class PriceError(ValueError):
    """The text is not a price this parser understands."""


#: Currency markers seen in catalogs, lower-cased, mapped to ISO 4217 codes.
CURRENCY_MARKERS: dict[str, str] = {
    "rs.": "INR", "rs": "INR", "inr": "INR", "₹": "INR",
    "dhs": "AED", "dh": "AED", "aed": "AED",
    "$": "USD", "usd": "USD", "us$": "USD",
    "€": "EUR", "eur": "EUR",
    "£": "GBP", "gbp": "GBP",
    "¥": "JPY", "jpy": "JPY",
}

_MARKER = "|".join(re.escape(m) for m in sorted(CURRENCY_MARKERS, key=len, reverse=True))
_PRICE_RE = re.compile(
    rf"^\s*(?P<pre>{_MARKER})?\s*(?P<num>[0-9][0-9,\u00a0 ]*(?:\.[0-9]+)?|\.[0-9]+)\s*(?P<post>{_MARKER})?\s*$",
    re.IGNORECASE,
)


def parse_price(value: str | float | int) -> Price:
    """Parse a price such as ``"Rs. 1,299"``, ``"Dhs 1,050"`` or ``"$19.99"``.

    Thousands separators (comma, space, no-break space) are accepted; a
    currency marker may stand before or after the number.

    Args:
        value: the raw cell; numbers pass through unchanged.

    Returns:
        The amount and the currency code the marker names (or ``None``).

    Raises:
        PriceError: for empty, negative, non-numeric or non-finite input.
    """
    if isinstance(value, bool):
        raise PriceError(f"not a price: {value!r}")
    if isinstance(value, int | float):
        amount = float(value)
        currency = None
    else:
        if value.strip().startswith("-"):
            raise PriceError(f"negative price: {value!r}")
        match = _PRICE_RE.match(value)
        if not match:
            raise PriceError(f"not a price: {value!r}")
        pre, post = match.group("pre"), match.group("post")
        if pre and post:
            raise PriceError(f"two currency markers in {value!r}")
        marker = (pre or post or "").lower()
        currency = CURRENCY_MARKERS.get(marker) if marker else None
        digits = re.sub(r"[,\u00a0 ]", "", match.group("num"))
        amount = float(digits)
    if amount != amount or amount in (float("inf"), float("-inf")):
        raise PriceError(f"not a finite price: {value!r}")
    if amount < 0:
        raise PriceError(f"negative price: {value!r}")
    return Price(amount, currency)

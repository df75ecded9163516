"""Parsing prices as shops write them.

>>> parse_price("Rs. 1,299")
Price(amount=1299.0, currency='INR', lower_bound=False)
>>> parse_price("Dhs 1,050").currency
'AED'
>>> parse_price("$ 19.99").amount
19.99
>>> parse_price("$74.99 - $249.99")
Price(amount=74.99, currency='USD', lower_bound=True)
>>> salvage_price("$6.94 $ 6 . 94")
Price(amount=6.94, currency='USD', lower_bound=False)
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from retrieval.errors import PriceError

__all__ = ["CURRENCY_MARKERS", "Price", "PriceError", "parse_price", "salvage_price"]


class Price(NamedTuple):
    """A parsed price: amount and ISO currency code (``None`` when unmarked).

    ``lower_bound`` is true for a range ("$74.99 - $249.99": the item comes in
    variants); the amount is then the lowest, shown to customers as "from $74.99".
    """

    amount: float
    currency: str | None
    lower_bound: bool = False


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
_ONE = rf"(?P<pre>{_MARKER})?\s*(?P<num>[0-9][0-9,\u00a0 ]*(?:\.[0-9]+)?|\.[0-9]+)\s*(?P<post>{_MARKER})?"
_PRICE_RE = re.compile(rf"^\s*{_ONE}\s*$", re.IGNORECASE)
#: A range between two prices: "$74.99 - $249.99", "10–20 EUR".
_RANGE_RE = re.compile(r"^(?P<low>[^-–—]+?)\s*(?:-|–|—|to)\s*(?P<high>[^-–—]+)$", re.IGNORECASE)
#: A marked price inside untidy text: "$6.94", "$ 19 99" (the cents split off), "$ 6 . 94".
_EMBEDDED_RE = re.compile(
    rf"(?P<pre>{_MARKER})\s*(?P<whole>[0-9][0-9,]*)(?:\s*\.\s*|\s+)(?P<cents>[0-9]{{2}})(?![0-9])"
    rf"|(?P<pre2>{_MARKER})\s*(?P<plain>[0-9][0-9,]*(?:\.[0-9]+)?)",
    re.IGNORECASE,
)


def parse_price(value: str | float | int) -> Price:
    """Parse a price such as ``"Rs. 1,299"``, ``"Dhs 1,050"`` or ``"$19.99"``.

    Thousands separators (comma, space, no-break space) are accepted; a
    currency marker may stand before or after the number. A range of two
    prices gives its lower end, marked ``lower_bound``.

    Args:
        value: the raw cell; numbers pass through unchanged.

    Returns:
        The amount and the currency code the marker names (or ``None``).

    Raises:
        PriceError: for empty, negative, non-numeric or non-finite input.
    """
    if isinstance(value, bool):
        raise PriceError(f"not a price: {value!r}")
    if not isinstance(value, str | int | float):  # a JSON catalog's list or object
        raise PriceError(f"not a price: a {type(value).__name__}")
    if isinstance(value, int | float):
        try:
            amount = float(value)
        except OverflowError:  # an integer beyond any float: a JSON catalog may hold one
            raise PriceError("not a finite price: a number beyond any price") from None
        currency = None
    else:
        if value.strip().startswith("-"):
            raise PriceError(f"negative price: {value!r}")
        match = _PRICE_RE.match(value)
        if not match:
            return _parse_range(value)
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


def _parse_range(value: str) -> Price:
    match = _RANGE_RE.match(value.strip())
    if not match:
        raise PriceError(f"not a price: {value!r}")
    try:
        low, high = parse_price(match.group("low")), parse_price(match.group("high"))
    except PriceError:
        raise PriceError(f"not a price: {value!r}") from None
    if low.lower_bound or high.lower_bound or high.amount < low.amount:
        raise PriceError(f"not a price range: {value!r}")
    if low.currency and high.currency and low.currency != high.currency:
        raise PriceError(f"two currencies in {value!r}")
    return Price(low.amount, low.currency or high.currency, lower_bound=high.amount > low.amount)


def salvage_price(value: str) -> Price:
    """The first marked price inside untidy text, for a lenient import.

    Scraped exports paste prices twice ("$6.94 $ 6 . 94"), split the cents
    off ("$ 19 99 $39.95 #listPriceLegalMessageText { … }") or add page
    styling; the first marked amount is the price shown to the shopper.

    Args:
        value: the raw cell.

    Returns:
        The price, as :func:`parse_price` would give for a clean cell.

    Raises:
        PriceError: when the text holds no marked price ("Total price:").
    """
    try:
        return parse_price(value)
    except PriceError:
        pass
    match = _EMBEDDED_RE.search(value)
    if not match:
        raise PriceError(f"no price in {value[:60]!r}")
    marker = (match.group("pre") or match.group("pre2")).lower()
    if match.group("whole") is not None:
        number = f"{match.group('whole').replace(',', '')}.{match.group('cents')}"
    else:
        number = match.group("plain").replace(",", "")
    amount = float(number)
    if not math.isfinite(amount):
        raise PriceError(f"not a finite price in {value[:60]!r}")
    return Price(amount, CURRENCY_MARKERS[marker])

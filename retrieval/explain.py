"""Formatting for explanations shown to customers.

The reasons themselves are built by :class:`retrieval.recommender.Recommender`
from the signals that raised each item's score.

>>> format_price(699.0, "USD")
'$699'
"""

from __future__ import annotations

__all__ = ["format_price"]

_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "INR": "₹", "JPY": "¥"}


def format_price(amount: float, currency: str) -> str:
    """``699.0, "USD"`` → ``"$699"``; cents are shown only when there are any."""
    symbol = _CURRENCY_SYMBOLS.get(currency)
    number = f"{amount:,.0f}" if float(amount).is_integer() else f"{amount:,.2f}"
    return f"{symbol}{number}" if symbol else f"{number} {currency}"

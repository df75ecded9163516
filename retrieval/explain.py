"""Short, honest reasons for a recommendation.

A reason names only features that really connect the item to the request:
the attributes the customer asked for that the item has, the budget it fits
and a strong rating. Nothing is invented when nothing matched.

>>> from retrieval.catalog import Product
>>> sofa = Product("a", "Halden Sofa", 699.0, "USD", "Sofas", colour="Grey", material="Linen", rating=4.6)
>>> reason_for(sofa, "a grey sofa for a small flat", max_price=800)
'grey, a sofa, under your $800 budget, rated 4.6/5'
"""

from __future__ import annotations

import re

from retrieval.catalog import Product

__all__ = ["format_price", "reason_for"]

_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "INR": "₹", "JPY": "¥"}
_WORD = re.compile(r"[a-z0-9]+")
#: A rating at least this high is worth mentioning.
GOOD_RATING = 4.3


def format_price(amount: float, currency: str) -> str:
    """``699.0, "USD"`` → ``"$699"``; cents are shown only when there are any."""
    symbol = _CURRENCY_SYMBOLS.get(currency)
    number = f"{amount:,.0f}" if float(amount).is_integer() else f"{amount:,.2f}"
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def reason_for(product: Product, query: str, *, max_price: float | None = None) -> str:
    """Why this product fits the request, in a few words.

    Args:
        product: the recommended item.
        query: what the customer asked for.
        max_price: the budget, when one was stated.

    Returns:
        A comma-separated phrase, e.g. ``"grey, linen, under your $800 budget"``;
        ``"close to what you described"`` when no single feature stands out.
    """
    asked = {_singular(w) for w in _WORD.findall(query.lower())}
    parts: list[str] = []
    for value in (product.colour, product.material, product.style):
        if value and _singular(value.lower()) in asked:
            parts.append(value.lower())
    category_words = {_singular(w) for w in _WORD.findall(product.category.lower())}
    if category_words and category_words <= asked:
        parts.append(f"a {_singular(product.category.lower())}")
    if product.use and set(_WORD.findall(product.use.lower())) & asked - {"a", "for", "the"}:
        parts.append(f"made for {product.use.lower()}")
    if max_price is not None and product.price <= max_price:
        parts.append(f"under your {format_price(max_price, product.currency)} budget")
    if product.rating is not None and product.rating >= GOOD_RATING:
        parts.append(f"rated {product.rating:.1f}/5")
    return ", ".join(parts) if parts else "close to what you described"

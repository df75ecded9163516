"""Formatting for explanations shown to customers.

The reasons themselves are built by :class:`retrieval.recommender.Recommender`
from the signals that raised each item's score.

>>> format_price(699.0, "USD")
'$699'
"""

from __future__ import annotations

from retrieval.catalog import Product

__all__ = ["compare_lines", "format_price", "product_price"]

_CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "INR": "₹", "JPY": "¥"}


def format_price(amount: float, currency: str) -> str:
    """``699.0, "USD"`` → ``"$699"``; cents are shown only when there are any."""
    symbol = _CURRENCY_SYMBOLS.get(currency)
    number = f"{amount:,.0f}" if float(amount).is_integer() else f"{amount:,.2f}"
    return f"{symbol}{number}" if symbol else f"{number} {currency}"


def product_price(product: Product) -> str:
    """An item's price as a shopper reads it: "$699", or "from $74.99" for a range."""
    shown = format_price(product.price, product.currency)
    return f"from {shown}" if product.price_from else shown


def _value(product: Product, attribute: str) -> str | None:
    if attribute == "price":
        return product_price(product)
    if attribute == "rating":
        return f"{product.rating:.1f}/5 ({product.rating_count} ratings)" if product.rating is not None else None
    return product.attribute(attribute)


def compare_lines(first: Product, second: Product) -> list[str]:
    """The differences that matter between two items, one line each (price first)."""
    lines: list[str] = []
    if first.price != second.price:
        cheaper, dearer = (first, second) if first.price < second.price else (second, first)
        saving = format_price(round(dearer.price - cheaper.price, 2), cheaper.currency)
        lines.append(f"• price: {_value(first, 'price')} vs {_value(second, 'price')} — the {cheaper.title} "
                     f"is {saving} cheaper")
    else:
        lines.append(f"• price: both {_value(first, 'price')}")
    for attribute in ("rating", "material", "size", "colour", "style", "brand"):
        a, b = _value(first, attribute), _value(second, attribute)
        if a is None and b is None:
            continue
        if a == b:
            lines.append(f"• {attribute}: both {a}")
        else:
            lines.append(f"• {attribute}: {a or 'not given'} vs {b or 'not given'}")
    if first.in_stock != second.in_stock:
        out = first if not first.in_stock else second
        lines.append(f"• the {out.title} is out of stock")
    return lines

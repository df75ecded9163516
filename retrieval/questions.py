"""Which question to ask next: the one whose answer best splits the candidates.

The split is measured by the entropy of the answer over the items that still
fit: asking about an attribute every candidate shares tells nothing; asking
about one spread evenly over many values halves the field or better. Price is
split into quantile bands, since customers answer budgets as ranges.

Catalogs differ in what they describe: an attribute only some items carry
(colours on half of a marketplace export) is worth only that share of its
split, since the answer says nothing about the others; spellings of one value
("Women's", "Women") count as one answer.

>>> from retrieval.catalog import Product
>>> items = [Product(str(i), "x", 100.0 * i, "USD", "Sofas", colour=c, style="modern")
...          for i, c in enumerate(["grey", "blue", "green", "red"], start=1)]
>>> best_question(items, ["colour", "style"])
'colour'
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np

from retrieval.catalog import Product
from retrieval.vocabulary import value_key

__all__ = ["PRICE_BANDS", "answer_entropy", "best_question", "price_bands"]

#: Price quantile bands used to score the budget question.
PRICE_BANDS = 4


def price_bands(prices: Sequence[float], bands: int = PRICE_BANDS) -> list[float]:
    """Inner quantile edges that split prices into ``bands`` groups (fewer when prices repeat)."""
    if not prices:
        return []
    edges = np.quantile(np.asarray(prices, dtype=np.float64), [i / bands for i in range(1, bands)])
    return sorted({round(float(e), 2) for e in edges})


def _entropy(values: Iterable[str]) -> float:
    counts = Counter(values)
    total = sum(counts.values())
    if total == 0:
        return 0.0
    return -sum(c / total * math.log2(c / total) for c in counts.values())


def answer_entropy(candidates: Sequence[Product], question: str) -> float:
    """Bits of information the answer to ``question`` gives about the candidates.

    ``question`` is ``"category"``, ``"budget"`` or an attribute name. For an
    attribute, the entropy of its values among the items that have one, times
    the share of items that have one (an answer cannot tell apart the items
    the catalog says nothing about); values are compared by
    :func:`~retrieval.vocabulary.value_key`.

    >>> from retrieval.catalog import Product
    >>> sparse = [Product(str(i), "x", 1.0, "USD", "Mugs", colour="red" if i % 2 else "blue") for i in range(4)]
    >>> sparse += [Product(str(i), "x", 1.0, "USD", "Mugs") for i in range(4, 8)]
    >>> answer_entropy(sparse, "colour")
    0.5
    """
    if question == "budget":
        edges = price_bands([p.price for p in candidates])
        return _entropy(str(sum(p.price > e for e in edges)) for p in candidates)
    if question == "category":
        return _entropy(p.category for p in candidates)
    known = [value_key(v) for p in candidates if (v := p.attribute(question)) and value_key(v)]
    if not candidates or not known:
        return 0.0
    return len(known) / len(candidates) * _entropy(known)


def best_question(candidates: Sequence[Product], questions: Sequence[str], *, min_bits: float = 0.5) -> str | None:
    """The question that best splits the candidates, or ``None`` if none splits them enough.

    Ties keep the order of ``questions``.
    """
    best: tuple[float, str] | None = None
    for question in questions:
        bits = answer_entropy(candidates, question)
        if bits >= min_bits and (best is None or bits > best[0] + 1e-9):
            best = (bits, question)
    return best[1] if best else None

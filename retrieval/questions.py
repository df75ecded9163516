"""Which question to ask next: the one whose answer best splits the candidates.

The split is measured by the entropy of the answer over the items that still
fit: asking about an attribute every candidate shares tells nothing; asking
about one spread evenly over many values halves the field or better. Price is
split into quantile bands, since customers answer budgets as ranges.

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

    ``question`` is ``"category"``, ``"budget"`` or an attribute name; items
    without a value for it count as one "unknown" group.
    """
    if question == "budget":
        edges = price_bands([p.price for p in candidates])
        return _entropy(str(sum(p.price > e for e in edges)) for p in candidates)
    if question == "category":
        return _entropy(p.category for p in candidates)
    return _entropy((p.attribute(question) or "").casefold() or "?" for p in candidates)


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

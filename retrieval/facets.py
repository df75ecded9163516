"""Questions about the catalog as a whole: how many of a kind, which brands, colours or materials, what prices.

"How many sofas under 500 do you have?" and "which brands do you have for headphones?" are answered
from the items that meet the need the question states, counted or grouped by one field — the
question's *facet*. The facet is found as an item question's field is (retrieval/answers.py): the
question is embedded with the catalog's MiniLM and the closest of the examples shoppers ask for each
facet names it (:data:`FACET_QUESTIONS`, a nearest-neighbour classifier). The kind, budget and colour
the question names are read as any request's are; this module says only what is asked about them.

>>> from retrieval.encoder import HashingEncoder
>>> facets = CatalogFacets(HashingEncoder(256))
>>> facets.facet("which brands do you have")
'brand'
>>> facets.facet("how many do you have")
'count'
"""

from __future__ import annotations

import functools
import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from retrieval.catalog import Product
from retrieval.encoder import Encoder

__all__ = ["FACETS", "FACET_QUESTIONS", "CatalogFacets", "Facet", "facet_of"]

#: How shoppers ask about the catalog, per facet: the examples a question is matched against.
FACET_QUESTIONS: Mapping[str, tuple[str, ...]] = {
    "count": ("how many do you have", "how many are there", "how many have you got in stock", "what's the count",
              "how many can I choose from", "how much choice is there", "how big is your range",
              "do you have lots of them", "number of options available", "kitne hai", "kitne milenge",
              "kitna stock hai", "how many in total"),
    "brand": ("which brands do you have", "what brands do you carry", "who makes them", "which makers do you stock",
              "what labels do you sell", "which companies are they from", "brands available", "kaunse brands hai"),
    "colour": ("what colours do they come in", "which colours are there", "what colours do you have",
               "what shades are available", "which colors can I get"),
    "material": ("what materials are they made of", "which materials do you have", "what fabrics are there",
                 "what are they made from"),
    "price": ("what's the price range", "how much do they cost", "what do they go for", "what are the prices like",
              "how expensive are they", "starting from what price"),
    "size": ("what sizes do they come in", "which sizes do you have", "what sizes are available"),
}
#: The facets, in the order of :data:`FACET_QUESTIONS`.
FACETS = tuple(FACET_QUESTIONS)
#: Values named in an answer before the rest are counted ("and 4 more").
MAX_NAMED = 8


@dataclass(frozen=True)
class Facet:
    """What the items meeting a need hold, for one facet.

    Attributes:
        name: the facet asked about (one of :data:`FACETS`).
        count: how many items meet the need.
        values: for a field facet, its values with their counts, commonest first (spellings of one value
            together); empty for ``count`` and ``price``.
        low, high: the cheapest and dearest price among the items (``None`` when there are none).
        unknown: items that do not give the facet's field.
        out_of_stock: items that would meet the need but are out of stock (not counted above).
    """

    name: str
    count: int
    values: tuple[tuple[str, int], ...] = ()
    low: float | None = None
    high: float | None = None
    unknown: int = 0
    out_of_stock: int = 0


def facet_of(name: str, products: Iterable[Product]) -> Facet:
    """The facet ``name`` of the items ``products`` (those meeting the need)."""
    items = list(products)
    prices = [p.price for p in items if p.price is not None]
    low, high = (min(prices), max(prices)) if prices else (None, None)
    if name in ("count", "price"):
        return Facet(name, len(items), low=low, high=high)
    spellings: dict[str, Counter[str]] = {}
    unknown = 0
    for product in items:
        value = (product.attribute(name) or "").strip()
        if not value:
            unknown += 1
            continue
        spellings.setdefault(value.casefold(), Counter())[value] += 1
    ranked = sorted(spellings.values(), key=lambda c: (-sum(c.values()), c.most_common(1)[0][0].casefold()))
    values = tuple((c.most_common(1)[0][0], sum(c.values())) for c in ranked)
    return Facet(name, len(items), values, low, high, unknown)


class CatalogFacets:
    """Finds what a question about the catalog asks for, with the catalog's sentence encoder."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Embed the examples now (a serving process does it at start, not in a customer's question)."""
        _ = self._examples

    @functools.cached_property
    def _examples(self) -> tuple[list[str], np.ndarray]:
        names = [name for name, examples in FACET_QUESTIONS.items() for _ in examples]
        vectors = self.encoder.encode([e for examples in FACET_QUESTIONS.values() for e in examples])
        return names, np.asarray(vectors, dtype=np.float32)

    def facet(self, question: str) -> str:
        """The facet ``question`` asks about: its closest example's."""
        with self._lock:
            names, vectors = self._examples
        asked = np.asarray(self.encoder.encode([question]), dtype=np.float32)[0]
        return names[int(np.argmax(vectors @ asked))]

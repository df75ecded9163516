"""Hard filters: which catalog items may be shown at all.

:class:`Filters` is plain data (what the customer ruled in or out);
:class:`FilterTable` holds the catalog's filterable columns as arrays so a
filter becomes one boolean mask over the whole catalog in a few vector ops.

>>> from retrieval.catalog import Catalog, Product
>>> table = FilterTable(Catalog([
...     Product("a", "Oak desk", 300.0, "USD", "Desks", material="oak"),
...     Product("b", "Leather sofa", 900.0, "USD", "Sofas", material="leather"),
... ]))
>>> table.mask(Filters(exclude_terms=("leather",))).tolist()
[True, False]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from retrieval.catalog import ATTRIBUTE_FIELDS, Catalog, Product

__all__ = ["FilterTable", "Filters"]

Mask = npt.NDArray[np.bool_]
_NON_WORD = re.compile(r"[^\w]+")


def _words(text: str) -> str:
    """Text reduced to ``" word word "`` so a term is matched on word boundaries."""
    return " " + _NON_WORD.sub(" ", text.casefold()).strip() + " "


@dataclass(frozen=True)
class Filters:
    """Constraints every shown item must satisfy.

    Attributes:
        categories: allowed categories (any case); empty allows all.
        min_price, max_price: inclusive price bounds, or ``None``.
        exclude_terms: words or phrases that must not appear in an item's
            title, attributes or tags ("leather", "glass top").
        require_attributes: attribute name → allowed values ({"colour": {"grey"}}).
        exclude_attributes: attribute name → forbidden values.
        in_stock_only: hide items with zero stock.
        exclude_ids: items already rejected or shown.
    """

    categories: frozenset[str] = frozenset()
    min_price: float | None = None
    max_price: float | None = None
    exclude_terms: tuple[str, ...] = ()
    require_attributes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    exclude_attributes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    in_stock_only: bool = True
    exclude_ids: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.min_price is not None and self.max_price is not None and self.min_price > self.max_price:
            raise ValueError(f"min_price {self.min_price} is above max_price {self.max_price}")
        unknown = (set(self.require_attributes) | set(self.exclude_attributes)) - set(ATTRIBUTE_FIELDS)
        if unknown:
            raise ValueError(f"unknown attribute(s) {sorted(unknown)}; known: {ATTRIBUTE_FIELDS}")


class FilterTable:
    """The catalog's filterable columns as arrays, for fast masks.

    Args:
        catalog: the products, in index order.
    """

    def __init__(self, catalog: Catalog) -> None:
        self.size = len(catalog)
        self._ids = np.array(catalog.ids, dtype=object)
        self._prices = np.array([p.price for p in catalog], dtype=np.float64)
        self._in_stock = np.array([p.in_stock for p in catalog], dtype=bool)
        self._categories = np.array([p.category.casefold() for p in catalog], dtype=object)
        self._attributes = {
            name: np.array([(p.attribute(name) or "").casefold() for p in catalog], dtype=object)
            for name in ATTRIBUTE_FIELDS
        }
        self._text = np.array([_words(self._searchable(p)) for p in catalog], dtype=np.str_)

    @staticmethod
    def _searchable(product: Product) -> str:
        parts = [product.title, *(product.attribute(n) or "" for n in ATTRIBUTE_FIELDS), *product.tags]
        return " ".join(parts)

    def known_share(self, attribute: str, mask: Mask) -> float:
        """The share of the items in ``mask`` whose ``attribute`` the catalog gives (0 when the mask is empty).

        >>> table = FilterTable(Catalog([Product("a", "A", 1.0, "USD", "Mugs", colour="red"),
        ...                              Product("b", "B", 1.0, "USD", "Mugs")]))
        >>> table.known_share("colour", np.ones(2, dtype=bool))
        0.5
        """
        if not mask.any():
            return 0.0
        return float((self._attributes[attribute][mask] != "").mean())

    def mask(self, filters: Filters) -> Mask:
        """Boolean array, true where the item passes every filter."""
        keep = np.ones(self.size, dtype=bool)
        if filters.categories:
            wanted = {c.casefold() for c in filters.categories}
            keep &= np.isin(self._categories, list(wanted))
        if filters.min_price is not None:
            keep &= self._prices >= filters.min_price
        if filters.max_price is not None:
            keep &= self._prices <= filters.max_price
        if filters.in_stock_only:
            keep &= self._in_stock
        for term in filters.exclude_terms:
            needle = _words(term)
            if needle.strip():
                keep &= np.char.find(self._text, needle) < 0
        for name, values in filters.require_attributes.items():
            if values:
                keep &= np.isin(self._attributes[name], [v.casefold() for v in values])
        for name, values in filters.exclude_attributes.items():
            if values:
                keep &= ~np.isin(self._attributes[name], [v.casefold() for v in values])
        if filters.exclude_ids:
            keep &= ~np.isin(self._ids, list(filters.exclude_ids))
        return keep

"""The product model and the in-memory catalog.

A :class:`Product` is what every other part of Shopkeeper talks about: the
loaders produce them, the index embeds :meth:`Product.embedding_text`, filters
read their attributes and the dialogue shows them as cards.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from retrieval.contract import PRODUCT_ATTRIBUTES
from retrieval.errors import CatalogError

__all__ = ["ATTRIBUTE_FIELDS", "Catalog", "Product"]

#: Descriptive attributes a customer may ask for or exclude, in the order the
#: dialogue and the embedding text use them.
ATTRIBUTE_FIELDS: tuple[str, ...] = PRODUCT_ATTRIBUTES


@dataclass(frozen=True)
class Product:
    """One item of the catalog.

    Attributes:
        id: stable identifier (the shop's SKU), unique in a catalog.
        title: what the shop calls it.
        price: price in ``currency``, non-negative.
        currency: ISO 4217 code, e.g. ``"USD"`` or ``"INR"``.
        category: the category a customer would name ("Sofas").
        description: free text; may be empty.
        brand, colour, material, style, size, use: descriptive attributes, or
            ``None`` where the catalog does not say.
        audience: whom the item is for, in the catalog's words ("Women", "Men, Boys",
            "Unisex Kids"; :mod:`retrieval.audience` reads them), or ``None``.
        rating: average rating on a 0–5 scale, or ``None`` when unrated.
        rating_count: how many ratings ``rating`` averages.
        stock: units in stock, or ``None`` when the catalog does not track it
            (treated as available).
        image_url, url: where the picture and the product page are.
        tags: short keywords.
        price_from: ``price`` is the lowest of a range (variants at different
            prices); shown as "from $X".
        extra: any further attributes the catalog carries (from a mapping).
    """

    id: str
    title: str
    price: float
    currency: str
    category: str
    description: str = ""
    brand: str | None = None
    colour: str | None = None
    material: str | None = None
    style: str | None = None
    size: str | None = None
    use: str | None = None
    audience: str | None = None
    rating: float | None = None
    rating_count: int = 0
    stock: int | None = None
    image_url: str | None = None
    url: str | None = None
    tags: tuple[str, ...] = ()
    price_from: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def in_stock(self) -> bool:
        """Whether the item can be bought now (untracked stock counts as yes)."""
        return self.stock is None or self.stock > 0

    def attribute(self, name: str) -> str | None:
        """Return a descriptive attribute by name, looking in ``extra`` too."""
        if name in ATTRIBUTE_FIELDS:
            value: str | None = getattr(self, name)
            return value
        return self.extra.get(name)

    def embedding_text(self) -> str:
        """The text the encoder embeds: what the item is, then how it is described.

        Price, stock and rating are deliberately left out: they change often and
        are handled by filters and ranking, so changing them needs no re-embedding.
        """
        parts = [self.title, self.category]
        parts += [v for v in (self.brand, self.colour, self.material, self.style, self.use) if v]
        if self.audience and self.audience != self.use:  # a catalog's "Ideal For" is often both
            parts.append(self.audience)
        parts += list(self.tags)
        text = ". ".join(parts)
        if self.description:
            text += ". " + self.description
        return text

    def content_hash(self) -> str:
        """SHA-256 of :meth:`embedding_text`, the key of the embedding cache."""
        return hashlib.sha256(self.embedding_text().encode("utf-8")).hexdigest()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the JSONL catalog format), ``None`` fields dropped."""
        data = asdict(self)
        data["tags"] = list(self.tags)
        data["extra"] = dict(self.extra)
        if not self.price_from:
            del data["price_from"]
        return {k: v for k, v in data.items() if v not in (None, {}, [])}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Product:
        """Build a product from :meth:`to_dict` output (the native JSONL format)."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise CatalogError(f"unknown product field(s): {sorted(unknown)}")
        values = dict(data)
        values["tags"] = tuple(values.get("tags", ()))
        values["extra"] = dict(values.get("extra", {}))
        return cls(**values)


class Catalog:
    """An ordered, id-indexed collection of products.

    Args:
        products: the items; ids must be unique.

    Raises:
        CatalogError: on a duplicate id.
    """

    def __init__(self, products: Iterable[Product]) -> None:
        self._products: list[Product] = list(products)
        self._by_id: dict[str, int] = {}
        for position, product in enumerate(self._products):
            if product.id in self._by_id:
                raise CatalogError(f"duplicate product id {product.id!r}")
            self._by_id[product.id] = position

    def __len__(self) -> int:
        return len(self._products)

    def __iter__(self) -> Iterator[Product]:
        return iter(self._products)

    def __getitem__(self, position: int) -> Product:
        return self._products[position]

    def __contains__(self, product_id: object) -> bool:
        return product_id in self._by_id

    def get(self, product_id: str) -> Product | None:
        """Return the product with this id, or ``None``."""
        position = self._by_id.get(product_id)
        return None if position is None else self._products[position]

    def position(self, product_id: str) -> int:
        """Return the 0-based position of a product id (KeyError if unknown)."""
        return self._by_id[product_id]

    @property
    def currency(self) -> str:
        """The catalog's currency (of its first product; ``"USD"`` when empty)."""
        return self._products[0].currency if self._products else "USD"

    @property
    def ids(self) -> list[str]:
        """Product ids in catalog order."""
        return [p.id for p in self._products]

    def categories(self) -> list[str]:
        """Distinct categories, sorted."""
        return sorted({p.category for p in self._products})

    def attribute_values(self, name: str) -> list[str]:
        """Distinct non-empty values of one attribute, sorted case-insensitively."""
        values = {v for p in self._products if (v := p.attribute(name))}
        return sorted(values, key=str.casefold)

    def fingerprint(self) -> str:
        """A hash of what the index depends on: ids, order and embedded content.

        Two catalogs with the same fingerprint produce the same index, so a
        saved index is reused only when this matches its manifest.
        """
        digest = hashlib.sha256()
        for product in self._products:
            digest.update(product.id.encode("utf-8"))
            digest.update(b"\0")
            digest.update(product.content_hash().encode("ascii"))
            digest.update(b"\n")
        return digest.hexdigest()

    def write_jsonl(self, path: Path) -> None:
        """Write the catalog in the native JSONL format (one product per line)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as out:
            for product in self._products:
                out.write(json.dumps(product.to_dict(), ensure_ascii=False, sort_keys=True))
                out.write("\n")

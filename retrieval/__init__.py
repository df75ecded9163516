"""Catalog retrieval for Shopkeeper: products, loaders, embeddings, FAISS index, search.

Nothing here imports Rasa or the web layer; the action server and the web app
use this package, never the other way round.

The names below are loaded on first use (``retrieval.Catalog`` imports
:mod:`retrieval.catalog` then), so that importing one light module of the
package — :mod:`retrieval.contract`, which the data layer and the web app use
too — does not load NumPy, FAISS and BM25.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retrieval.cache import EmbeddingCache
    from retrieval.catalog import Catalog, Product
    from retrieval.encoder import Encoder, HashingEncoder, SentenceTransformerEncoder
    from retrieval.errors import (
        CatalogError,
        CatalogValidationError,
        EncoderError,
        IndexMismatchError,
        IndexNotBuiltError,
        MappingError,
        PriceError,
        RetrievalError,
        RowError,
        VectorIndexError,
    )
    from retrieval.filters import Filters, FilterTable
    from retrieval.index import SearchHit, VectorIndex
    from retrieval.loaders import LoadReport, load_catalog
    from retrieval.mapping import CatalogMapping, load_mapping
    from retrieval.prices import parse_price
    from retrieval.ranking import mmr
    from retrieval.search import Match, Retriever, build_catalog_index
    from retrieval.settings import RetrievalSettings

__all__ = [
    "Catalog",
    "CatalogError",
    "CatalogMapping",
    "CatalogValidationError",
    "EmbeddingCache",
    "Encoder",
    "EncoderError",
    "FilterTable",
    "Filters",
    "HashingEncoder",
    "IndexMismatchError",
    "IndexNotBuiltError",
    "LoadReport",
    "MappingError",
    "Match",
    "PriceError",
    "Product",
    "RetrievalError",
    "RetrievalSettings",
    "Retriever",
    "RowError",
    "SearchHit",
    "SentenceTransformerEncoder",
    "VectorIndex",
    "VectorIndexError",
    "build_catalog_index",
    "load_catalog",
    "load_mapping",
    "mmr",
    "parse_price",
]

#: Where each name of :data:`__all__` lives.
_LAZY: dict[str, str] = {
    "Catalog": "retrieval.catalog",
    "CatalogError": "retrieval.errors",
    "CatalogMapping": "retrieval.mapping",
    "CatalogValidationError": "retrieval.errors",
    "EmbeddingCache": "retrieval.cache",
    "Encoder": "retrieval.encoder",
    "EncoderError": "retrieval.errors",
    "FilterTable": "retrieval.filters",
    "Filters": "retrieval.filters",
    "HashingEncoder": "retrieval.encoder",
    "IndexMismatchError": "retrieval.errors",
    "IndexNotBuiltError": "retrieval.errors",
    "LoadReport": "retrieval.loaders",
    "MappingError": "retrieval.errors",
    "Match": "retrieval.search",
    "PriceError": "retrieval.errors",
    "Product": "retrieval.catalog",
    "RetrievalError": "retrieval.errors",
    "RetrievalSettings": "retrieval.settings",
    "Retriever": "retrieval.search",
    "RowError": "retrieval.errors",
    "SearchHit": "retrieval.index",
    "SentenceTransformerEncoder": "retrieval.encoder",
    "VectorIndex": "retrieval.index",
    "VectorIndexError": "retrieval.errors",
    "build_catalog_index": "retrieval.search",
    "load_catalog": "retrieval.loaders",
    "load_mapping": "retrieval.mapping",
    "mmr": "retrieval.ranking",
    "parse_price": "retrieval.prices",
}


def __getattr__(name: str) -> Any:
    """Import the module that defines ``name`` on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    """The names of the package, loaded or not."""
    return sorted([*globals(), *_LAZY])

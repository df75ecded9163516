"""Catalog retrieval for Shopkeeper: products, loaders, embeddings, FAISS index, search.

Nothing here imports Rasa or the web layer; the action server and the web app
use this package, never the other way round.
"""

from __future__ import annotations

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

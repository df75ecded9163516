"""Catalog search: build the index for a catalog and query it with filters.

:func:`build_catalog_index` embeds a catalog (through the embedding cache) and
saves its index, skipping the work when the saved index already matches.
:class:`Retriever` answers text queries: embed (cached) → filtered FAISS
search with over-fetch → MMR → top k.

>>> from retrieval.encoder import HashingEncoder
>>> from retrieval.catalog import Catalog, Product
>>> catalog = Catalog([Product("a", "Grey linen sofa", 700.0, "USD", "Sofas"),
...                    Product("b", "Oak desk", 300.0, "USD", "Desks")])
>>> encoder = HashingEncoder(64)
>>> retriever = Retriever.build(catalog, encoder)
>>> [r.product.id for r in retriever.search("sofa", k=1)]
['a']
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.cache import EmbeddingCache
from retrieval.catalog import Catalog, Product
from retrieval.encoder import Encoder, Vectors
from retrieval.errors import IndexMismatchError, IndexNotBuiltError
from retrieval.filters import Filters, FilterTable
from retrieval.index import VectorIndex
from retrieval.ranking import mmr

__all__ = ["BuildResult", "Match", "Retriever", "build_catalog_index"]


@dataclass(frozen=True)
class BuildResult:
    """What :func:`build_catalog_index` did."""

    index: VectorIndex
    skipped: bool
    reused: int
    computed: int
    seconds: float


def build_catalog_index(
    catalog: Catalog,
    encoder: Encoder,
    index_dir: str | Path,
    *,
    cache: EmbeddingCache | None = None,
    kind: str = "auto",
    force: bool = False,
    show_progress: bool = False,
) -> BuildResult:
    """Embed a catalog and save its index, unless a matching one is saved.

    Args:
        catalog: the products, in the order the index will use.
        encoder: embeds :meth:`Product.embedding_text`.
        index_dir: where the index is saved.
        cache: reuses vectors of unchanged items; ``None`` embeds everything.
        kind: index kind (see :class:`VectorIndex`).
        force: rebuild even when the saved index matches.
        show_progress: progress bar while embedding.

    Returns:
        The index and whether the build was skipped, with embedding counts.
    """
    started = time.perf_counter()
    fingerprint = catalog.fingerprint()
    if not force:
        try:
            index = VectorIndex.load(
                index_dir, expected_model=encoder.name, expected_fingerprint=fingerprint
            )
            return BuildResult(index, True, 0, 0, time.perf_counter() - started)
        except (IndexNotBuiltError, IndexMismatchError):
            pass  # nothing saved yet, or saved for another catalog/model: build below
    texts = [p.embedding_text() for p in catalog]
    if cache is not None:
        vectors, stats = cache.embed(encoder, texts, show_progress=show_progress)
        reused, computed = stats.reused, stats.computed
    else:
        vectors = encoder.encode(texts, show_progress=show_progress)
        reused, computed = 0, len(texts)
    index = VectorIndex.build(
        vectors, catalog.ids, model=encoder.name, catalog_fingerprint=fingerprint, kind=kind
    )
    index.save(index_dir)
    return BuildResult(index, False, reused, computed, time.perf_counter() - started)


@dataclass(frozen=True)
class Match:
    """One search result: the product, its similarity to the query and its rank."""

    product: Product
    score: float
    rank: int


class Retriever:
    """Text search over one catalog and its index.

    Args:
        catalog: the products, in index order.
        index: a :class:`VectorIndex` built from this catalog.
        encoder: embeds queries; must be the encoder the index was built with.
        query_cache_size: how many query vectors to keep (repeated queries
            skip the model).
    """

    def __init__(
        self,
        catalog: Catalog,
        index: VectorIndex,
        encoder: Encoder,
        *,
        query_cache_size: int = 1024,
    ) -> None:
        if index.ids != catalog.ids:
            raise ValueError("the index was built from another catalog (ids differ)")
        if index.dimension != encoder.dimension:
            raise ValueError(f"index dimension {index.dimension} ≠ encoder dimension {encoder.dimension}")
        self.catalog = catalog
        self.index = index
        self.encoder = encoder
        self.filter_table = FilterTable(catalog)
        self._query_cache: OrderedDict[str, Vectors] = OrderedDict()
        self._query_cache_size = query_cache_size

    @classmethod
    def build(cls, catalog: Catalog, encoder: Encoder, *, kind: str = "auto") -> Retriever:
        """Embed a catalog in memory and index it (no files; for tests and small catalogs)."""
        vectors = encoder.encode([p.embedding_text() for p in catalog])
        index = VectorIndex.build(
            vectors, catalog.ids, model=encoder.name, catalog_fingerprint=catalog.fingerprint(), kind=kind
        )
        return cls(catalog, index, encoder)

    def embed_query(self, text: str) -> Vectors:
        """The query's vector ``(d,)``, from the cache when it was asked before."""
        key = " ".join(text.split()).casefold()
        vector = self._query_cache.get(key)
        if vector is None:
            vector = self.encoder.encode([key])[0]
            self._query_cache[key] = vector
            if len(self._query_cache) > self._query_cache_size:
                self._query_cache.popitem(last=False)
        else:
            self._query_cache.move_to_end(key)
        return vector

    def search(
        self,
        query: str | Vectors,
        filters: Filters | None = None,
        *,
        k: int = 3,
        fetch: int | None = None,
        diversity: float = 0.0,
    ) -> list[Match]:
        """The ``k`` best items for a query that pass the filters.

        Args:
            query: text, or an already embedded ``(d,)`` vector.
            filters: hard constraints; ``None`` allows everything in stock.
            k: results wanted; fewer come back only when fewer items pass.
            fetch: candidates fetched before MMR (default ``4 * k`` when
                ``diversity > 0``, else ``k``).
            diversity: MMR trade-off, 0 = pure relevance.

        Returns:
            Matches, best first, ranks from 1.
        """
        vector = self.embed_query(query) if isinstance(query, str) else np.asarray(query, dtype=np.float32)
        allowed = self.filter_table.mask(filters or Filters())
        fetch = max(k, fetch or (4 * k if diversity > 0 else k))
        hits = self.index.search(vector, fetch, allowed=allowed)[0]
        if not hits:
            return []
        order = list(range(len(hits)))
        if diversity > 0 and len(hits) > k:
            vectors = self.index.reconstruct([h.position for h in hits])
            order = mmr([h.score for h in hits], vectors, k, diversity=diversity)
        return [
            Match(self.catalog[hits[i].position], hits[i].score, rank)
            for rank, i in enumerate(order[:k], start=1)
        ]

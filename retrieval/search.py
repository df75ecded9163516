"""Catalog search: build the index for a catalog and query it with filters.

:func:`build_catalog_index` embeds a catalog (through the embedding cache) and
saves its index, skipping the work when the saved index already matches.
:class:`Retriever` answers text queries: embed (cached) → filtered FAISS
search with over-fetch, joined by the best BM25 matches (:mod:`retrieval.lexical`)
and fused → MMR → top k.

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

import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.cache import EmbeddingCache
from retrieval.catalog import Catalog, Product
from retrieval.encoder import Encoder, Vectors
from retrieval.errors import IndexMismatchError, IndexNotBuiltError
from retrieval.filters import Filters, FilterTable
from retrieval.index import VectorIndex
from retrieval.lexical import LexicalIndex, fuse
from retrieval.ranking import mmr
from retrieval.sentences import SENTENCES_DIR, SentenceIndex, ensure_sentence_index

__all__ = ["LEXICAL_DIR", "LEXICAL_WEIGHT", "BuildResult", "Candidates", "Match", "Retriever",
           "build_catalog_index"]

#: Where the lexical index is saved inside an index directory.
LEXICAL_DIR = "lexical"
#: How much a full-strength BM25 match adds to the dense similarity (see :func:`retrieval.lexical.fuse`).
LEXICAL_WEIGHT = 0.2
#: Search modes: both fused, or one of them alone (for benchmarks and comparisons).
MODES = ("hybrid", "dense", "lexical")


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
            _ensure_lexical(catalog, Path(index_dir) / LEXICAL_DIR)
            ensure_sentence_index(catalog, encoder, Path(index_dir) / SENTENCES_DIR, cache=cache,
                                  show_progress=show_progress)
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
    LexicalIndex.build(catalog).save(Path(index_dir) / LEXICAL_DIR)
    # the descriptions' sentences, for questions about an item (retrieval/answers.py)
    ensure_sentence_index(catalog, encoder, Path(index_dir) / SENTENCES_DIR, cache=cache, show_progress=show_progress)
    return BuildResult(index, False, reused, computed, time.perf_counter() - started)


def _ensure_lexical(catalog: Catalog, directory: Path) -> None:
    """Build the lexical index beside a vector index that is up to date, when it is missing or stale."""
    try:
        LexicalIndex.load(directory, expected_fingerprint=catalog.fingerprint())
    except (IndexNotBuiltError, IndexMismatchError):
        LexicalIndex.build(catalog).save(directory)


@dataclass(frozen=True)
class Candidates:
    """Items worth ranking for one query: catalog positions with their dense and fused scores."""

    positions: list[int]
    semantic: np.ndarray
    fused: np.ndarray
    vectors: np.ndarray


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
        lexical: LexicalIndex | None = None,
        lexical_weight: float = LEXICAL_WEIGHT,
        query_cache_size: int = 1024,
    ) -> None:
        if index.ids != catalog.ids:
            raise ValueError("the index was built from another catalog (ids differ)")
        if index.dimension != encoder.dimension:
            raise ValueError(f"index dimension {index.dimension} ≠ encoder dimension {encoder.dimension}")
        if lexical is not None and lexical.manifest.catalog_fingerprint != index.manifest.catalog_fingerprint:
            raise ValueError("the lexical index was built from another catalog")
        self.catalog = catalog
        self.index = index
        self.encoder = encoder
        #: BM25 beside the vectors; built in memory when not loaded (a second for 10,000 items).
        self.lexical = lexical if lexical is not None else LexicalIndex.build(catalog)
        self.lexical_weight = lexical_weight
        self.filter_table = FilterTable(catalog)
        self._query_cache: OrderedDict[str, Vectors] = OrderedDict()
        self._query_cache_size = query_cache_size
        self._query_cache_lock = threading.Lock()  # actions search from worker threads
        #: the descriptions' sentences embedded at build time (:mod:`retrieval.sentences`), when saved
        self.sentences: SentenceIndex | None = None

    @classmethod
    def load(cls, catalog: Catalog, encoder: Encoder, index_dir: str | Path) -> Retriever:
        """The saved vector and lexical indexes of a catalog, each refused when it does not match.

        Raises:
            IndexNotBuiltError, IndexMismatchError: ``shopkeeper index build`` (``make index``) fixes both.
        """
        fingerprint = catalog.fingerprint()
        index = VectorIndex.load(index_dir, expected_model=encoder.name, expected_fingerprint=fingerprint)
        lexical = LexicalIndex.load(Path(index_dir) / LEXICAL_DIR, expected_fingerprint=fingerprint)
        loaded = cls(catalog, index, encoder, lexical=lexical)
        try:  # optional: without it, an item's sentences are embedded at its first question
            loaded.sentences = SentenceIndex.load(Path(index_dir) / SENTENCES_DIR, expected_model=encoder.name,
                                                  expected_fingerprint=fingerprint)
        except (IndexNotBuiltError, IndexMismatchError):
            loaded.sentences = None
        return loaded

    @classmethod
    def build(cls, catalog: Catalog, encoder: Encoder, *, kind: str = "auto") -> Retriever:
        """Embed a catalog in memory and index it (no files; for tests and small catalogs)."""
        vectors = encoder.encode([p.embedding_text() for p in catalog])
        index = VectorIndex.build(
            vectors, catalog.ids, model=encoder.name, catalog_fingerprint=catalog.fingerprint(), kind=kind
        )
        return cls(catalog, index, encoder)

    @property
    def dimension(self) -> int:
        """The length of the item and query vectors."""
        return self.index.dimension

    def fused_scores(self, text: str, positions: Sequence[int], semantic: np.ndarray, *,
                     lexical: np.ndarray | None = None) -> np.ndarray:
        """Fused scores of the items at ``positions`` (dense similarities ``semantic``) on one scale.

        The BM25 part of a fused score is relative to the best of the items scored together, so
        candidates gathered by separate :meth:`candidates` calls (with different filters) compare
        only when they are scored again together, as here. ``lexical``: every item's BM25 score for
        ``text`` when the caller already has it (else it is computed).
        """
        every = self.lexical.scores(text) if lexical is None else lexical
        return fuse(semantic, every[np.asarray(positions, dtype=np.int64)], self.lexical_weight)

    def embed_query(self, text: str) -> Vectors:
        """The query's vector ``(d,)``, from the cache when it was asked before."""
        key = " ".join(text.split()).casefold()
        with self._query_cache_lock:
            vector = self._query_cache.get(key)
            if vector is not None:
                self._query_cache.move_to_end(key)
                return vector
        embedded: Vectors = self.encoder.encode([key])[0]  # outside the lock: two customers embed at once
        with self._query_cache_lock:
            self._query_cache[key] = embedded
            if len(self._query_cache) > self._query_cache_size:
                self._query_cache.popitem(last=False)
        return embedded

    def search(
        self,
        query: str | Vectors,
        filters: Filters | None = None,
        *,
        k: int = 3,
        fetch: int | None = None,
        diversity: float = 0.0,
        mode: str = "hybrid",
    ) -> list[Match]:
        """The ``k`` best items for a query that pass the filters.

        Args:
            query: text, or an already embedded ``(d,)`` vector.
            filters: hard constraints; ``None`` allows everything in stock.
            k: results wanted; fewer come back only when fewer items pass.
            fetch: candidates fetched before MMR (default ``4 * k`` when
                ``diversity > 0``, else ``k``).
            diversity: MMR trade-off, 0 = pure relevance.
            mode: ``"hybrid"`` (dense and BM25 fused), ``"dense"`` or ``"lexical"``.

        Returns:
            Matches, best first, ranks from 1.
        """
        text = query if isinstance(query, str) else ""
        vector = self.embed_query(query) if isinstance(query, str) else np.asarray(query, dtype=np.float32)
        allowed = self.filter_table.mask(filters or Filters())
        fetch = max(k, fetch or (4 * k if diversity > 0 else k))
        found = self.candidates(vector, text, allowed, fetch, mode=mode)
        if not found.positions:
            return []
        if diversity > 0 and len(found.positions) > k:
            order = mmr(found.fused, found.vectors, k, diversity=diversity)
        else:
            order = [int(i) for i in np.argsort(-found.fused, kind="stable")[:k]]
        return [
            Match(self.catalog[found.positions[i]], float(found.fused[i]), rank)
            for rank, i in enumerate(order[:k], start=1)
        ]

    def candidates(self, vector: Vectors, text: str, allowed: np.ndarray, fetch: int, *,
                   mode: str = "hybrid") -> Candidates:
        """The ``fetch`` nearest allowed items by vector, joined by the ``fetch`` best BM25 matches of ``text``.

        Args:
            vector: the query's embedding.
            text: the query's words (empty: dense only).
            allowed: boolean mask over catalog positions (the hard filters).
            fetch: candidates wanted from each side.
            mode: ``"hybrid"`` (fused), ``"dense"`` or ``"lexical"`` (BM25 order, dense breaking ties).

        Returns:
            The candidates with their dense similarity and the fused score to rank by.
        """
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        positions: list[int] = []
        if mode != "lexical":
            positions = [h.position for h in self.index.search(vector, fetch, allowed=allowed)[0]]
        lexical = self.lexical.scores(text) if text and mode != "dense" else None
        if lexical is not None:
            matching = np.flatnonzero(allowed & (lexical > 0))
            best = matching[np.argsort(-lexical[matching], kind="stable")[:fetch]]
            seen = set(positions)
            positions += [int(p) for p in best if int(p) not in seen]
        if not positions:
            return Candidates([], np.zeros(0), np.zeros(0), np.zeros((0, self.index.dimension), dtype=np.float32))
        vectors = self.index.reconstruct(positions)
        semantic = (vectors @ np.asarray(vector, dtype=np.float32)).astype(np.float64)
        if lexical is None:
            fused = semantic
        elif mode == "lexical":
            fused = lexical[positions].astype(np.float64) + 1e-3 * semantic
        else:
            fused = fuse(semantic, lexical[positions], self.lexical_weight)
        return Candidates(positions, semantic, fused, vectors)

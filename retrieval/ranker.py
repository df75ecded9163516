"""The open ranker's parts: candidate sources and scoring signals, each a small object.

One request (:class:`Request`: the needs, the profile's preferences, the query's vector and words, the mask
of the hard filters) is ranked in three steps:

1. every :class:`Source` proposes catalog positions, all inside the mask (dense neighbours, BM25 matches,
   what other customers took with this customer's likes, the most popular items within the need); their
   union, in the order proposed, is the :class:`Pool`;
2. every :class:`Signal` returns, for each item of the pool, its weighted contribution under one or more
   reason codes (``similarity``, ``stated:colour``, ``profile:vector``, ``affinity:material``, ``rating``,
   ``together``, ``popular``, ``scope``, ``kind``); an item's score is the sum of its contributions;
3. :class:`~retrieval.recommender.Recommender` picks the cards by MMR and words each card's reason from the
   codes that raised it.

A source or a signal is added by writing one more small class and passing it to ``Recommender``; the
weights stay in :class:`~retrieval.recommender.RankingWeights`.

>>> import numpy as np
>>> from retrieval.catalog import Catalog, Product
>>> from retrieval.encoder import HashingEncoder
>>> from retrieval.search import Retriever
>>> retriever = Retriever.build(Catalog([Product("a", "Grey sofa", 700.0, "USD", "Sofas"),
...                                       Product("b", "Oak desk", 300.0, "USD", "Desks")]), HashingEncoder(64))
>>> request = Request(vector=retriever.embed_query("sofa"), text="sofa", allowed=np.ones(2, dtype=bool))
>>> Lexical(retriever).propose(request, fetch=5)
[0]
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import numpy as np
import numpy.typing as npt
import Stemmer

from retrieval.catalog import Product
from retrieval.contract import ATTRIBUTES, affinity_key
from retrieval.kinds import MIN_KIND_NAMES, kinds_from_names
from retrieval.search import Retriever
from retrieval.vocabulary import value_matches

if TYPE_CHECKING:
    from retrieval.recommender import Needs, Preferences, RankingWeights

__all__ = ["Affinity", "Dense", "Lexical", "NamedKind", "Pool", "Popular", "Popularity", "ProfileVector", "Rating",
           "Request", "ScopePrior", "Signal", "Similarity", "Source", "Stated", "Together", "TogetherSource",
           "rating_prior"]

Vector = npt.NDArray[np.float32]
Scores = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Request:
    """One ranking request, as every source and signal sees it.

    Attributes:
        vector: the query's embedding (the words, or steered towards an item "more like").
        text: the query's words (BM25 and the kinds named).
        allowed: the hard filters' mask over the catalog: no source proposes outside it.
        needs: what was asked (``None``: nothing but the words).
        preferences: the profile's contribution (``None``: not personalised).
        prior: categories favoured without filtering, likeliest first.
        lexical: every item's BM25 score for ``text``, when already computed (it is, once, by the recommender).
        described: whether the request states anything to match (words, a kind, wishes, an item to be like).
            When not, the query is a placeholder: closeness to it is no evidence, and what others took leads.
    """

    vector: Vector
    text: str
    allowed: npt.NDArray[np.bool_]
    needs: Needs | None = None
    preferences: Preferences | None = None
    prior: Sequence[str] = ()
    lexical: npt.NDArray[np.float32] | None = None
    described: bool = True

    def bm25(self, retriever: Retriever) -> npt.NDArray[np.float32]:
        """Every item's BM25 score for the words (the one computed with the request, else computed now)."""
        return self.lexical if self.lexical is not None else retriever.lexical.scores(self.text)


@dataclass(frozen=True)
class Pool:
    """The candidates of one request: catalog positions, their products, vectors and dense similarity."""

    positions: list[int]
    products: list[Product]
    vectors: npt.NDArray[np.float32]
    semantic: Scores
    #: which source first proposed each candidate
    sources: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.positions)


class Source(Protocol):
    """Proposes catalog positions for a request, all inside ``request.allowed``."""

    name: str

    def propose(self, request: Request, fetch: int) -> list[int]:
        """Catalog positions for ``request``, best first, each inside ``request.allowed``."""
        ...


class Signal(Protocol):
    """Scores every item of a pool: reason code → weighted contribution per item (zeros where it is silent)."""

    def score(self, request: Request, pool: Pool) -> dict[str, Scores]:
        """Reason code → this signal's weighted contribution to each item of ``pool``."""
        ...


def rating_prior(product: Product) -> float:
    """Rating centred on 3.5 and shrunk towards 0 for few ratings, in about −1..1."""
    if product.rating is None:
        return 0.0
    confidence = 1.0 - math.exp(-max(product.rating_count, 1) / 20.0)
    return (product.rating - 3.5) / 1.5 * confidence


# -- sources ---------------------------------------------------------------------------------------------------


class Dense:
    """The ``fetch`` nearest allowed items to the query's vector (FAISS)."""

    name = "dense"

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    def propose(self, request: Request, fetch: int) -> list[int]:
        """The nearest allowed positions (see the class)."""
        hits = self.retriever.index.search(request.vector, fetch, allowed=request.allowed)[0]
        return [h.position for h in hits]


class Lexical:
    """The ``fetch`` best allowed BM25 matches of the query's words (none without words)."""

    name = "lexical"

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    def propose(self, request: Request, fetch: int) -> list[int]:
        """The best allowed BM25 matches (see the class)."""
        if not request.text:
            return []
        lexical = request.bm25(self.retriever)
        matching = np.flatnonzero(request.allowed & (lexical > 0))
        return [int(p) for p in matching[np.argsort(-lexical[matching], kind="stable")[:fetch]]]


class TogetherSource:
    """What other customers took with this customer's likes and choices (``Preferences.together``), if allowed."""

    name = "together"

    def __init__(self, retriever: Retriever) -> None:
        self.catalog = retriever.catalog

    def propose(self, request: Request, fetch: int) -> list[int]:
        """Every allowed item taken with the likes (see the class)."""
        together = request.preferences.together if request.preferences is not None else {}
        positions = [self.catalog.position(item) for item in together if item in self.catalog]
        return [p for p in positions if request.allowed[p]]


class Popular:
    """The most popular items within the need: those most customers took (five or more), if allowed."""

    name = "popular"

    def __init__(self, retriever: Retriever, popularity: Mapping[str, int], *, top: int = 10) -> None:
        catalog = retriever.catalog
        ranked = sorted((n, catalog.position(i)) for i, n in popularity.items() if i in catalog)
        self._positions = np.array([p for _, p in reversed(ranked)], dtype=np.int64)
        self.top = top

    def propose(self, request: Request, fetch: int) -> list[int]:
        """The ``top`` most taken allowed items (see the class)."""
        if not self._positions.size:
            return []
        return [int(p) for p in self._positions[request.allowed[self._positions]][:self.top]]


# -- signals ---------------------------------------------------------------------------------------------------


class Similarity:
    """How well each item matches the query: dense similarity fused with BM25 (``Retriever.fused_scores``).

    Silent when the request describes nothing (``Request.described``): a placeholder query ranks nothing.
    """

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever

    def score(self, request: Request, pool: Pool) -> dict[str, Scores]:
        """This signal's contributions (see the class)."""
        if not request.described:
            return {}
        if not request.text:
            return {"similarity": pool.semantic}
        return {"similarity": self.retriever.fused_scores(request.text, pool.positions, pool.semantic,
                                                          lexical=request.bm25(self.retriever))}


class Stated:
    """An item whose attribute matches a stated wish ("grey"): ``stated`` per wish, under ``stated:<attribute>``."""

    def __init__(self, weight: float) -> None:
        self.weight = weight

    def score(self, request: Request, pool: Pool) -> dict[str, Scores]:
        """This signal's contributions (see the class)."""
        wishes = request.needs.preferences if request.needs is not None else {}
        return {f"stated:{name}": self.weight * np.array(
            [bool((value := p.attribute(name)) and value_matches(wanted, value)) for p in pool.products], dtype=float)
            for name, wanted in wishes.items() if wanted}


class ProfileVector:
    """Closeness to what the customer liked (the profile's vector), under ``profile:vector``."""

    def __init__(self, weight: float) -> None:
        self.weight = weight

    def score(self, request: Request, pool: Pool) -> dict[str, Scores]:
        """This signal's contributions (see the class)."""
        vector = request.preferences.vector if request.preferences is not None else None
        if vector is None or vector.shape != pool.vectors.shape[1:]:
            return {}
        return {"profile:vector": self.weight * (pool.vectors @ vector).astype(np.float64)}


class Affinity:
    """The profile's learned liking for an item's category and attribute values, under ``affinity:<attribute>``."""

    def __init__(self, weight: float) -> None:
        self.weight = weight

    def score(self, request: Request, pool: Pool) -> dict[str, Scores]:
        """This signal's contributions (see the class)."""
        affinities = request.preferences.affinities if request.preferences is not None else {}
        if not affinities:
            return {}
        scored: dict[str, Scores] = {}
        for name in ("category", *ATTRIBUTES):
            values = [p.category if name == "category" else p.attribute(name) for p in pool.products]
            found = np.array([affinities.get(affinity_key(name, v), 0.0) if v else 0.0 for v in values])
            if found.any():
                scored[f"affinity:{name}"] = self.weight * found
        return scored


class Rating:
    """The item's rating, shrunk for few ratings (:func:`rating_prior`), under ``rating``."""

    def __init__(self, weight: float) -> None:
        self.weight = weight

    def score(self, request: Request, pool: Pool) -> dict[str, Scores]:
        """This signal's contributions (see the class)."""
        return {"rating": self.weight * np.array([rating_prior(p) for p in pool.products])}


class Together:
    """What other customers took with this customer's likes, by strength (0–1), under ``together``.

    ``alone`` is its weight when the request describes nothing (``Request.described``: no words, no kind, no
    wishes, no item to be like): then what others took is the best evidence there is, and it leads.
    """

    def __init__(self, weight: float, alone: float) -> None:
        self.weight, self.alone = weight, alone

    def score(self, request: Request, pool: Pool) -> dict[str, Scores]:
        """This signal's contributions (see the class)."""
        together = request.preferences.together if request.preferences is not None else {}
        if not together:
            return {}
        strength = np.array([together.get(p.id, (0.0, ""))[0] for p in pool.products])
        return {"together": (self.weight if request.described else self.alone) * strength}


class Popularity:
    """How many customers took the item (five or more), on a log scale to 1 for the most taken, under ``popular``."""

    def __init__(self, weight: float, popularity: Mapping[str, int]) -> None:
        self.weight = weight
        self.popularity = popularity
        self._scale = math.log1p(max(popularity.values(), default=0))

    def score(self, request: Request, pool: Pool) -> dict[str, Scores]:
        """This signal's contributions (see the class)."""
        if not self.weight or self._scale <= 0:
            return {}
        counts = np.array([self.popularity.get(p.id, 0) for p in pool.products], dtype=float)
        return {"popular": self.weight * np.log1p(counts) / self._scale}


class ScopePrior:
    """An item of a scope guessed from the words (a prior, not a filter): ``weight / sqrt(n)`` for the n-th kind."""

    def __init__(self, weight: float) -> None:
        self.weight = weight

    def score(self, request: Request, pool: Pool) -> dict[str, Scores]:
        """This signal's contributions (see the class)."""
        if not request.prior or not self.weight:
            return {}
        rank = {c: i for i, c in reversed(list(enumerate(request.prior)))}
        return {"scope": self.weight * np.array(
            [(rank[p.category] + 1) ** -0.5 if p.category in rank else 0.0 for p in pool.products])}


class NamedKind:
    """An item whose own kind (the last noun of its name's head) the customer's words name, under ``kind``.

    "rings" among all the jewellery: only kinds that end at least ``MIN_KIND_NAMES`` names of the catalog count.
    """

    def __init__(self, weight: float, retriever: Retriever) -> None:
        self.weight = weight
        self.catalog = retriever.catalog
        self._kinds: tuple[list[str], frozenset[str]] | None = None

    @functools.cached_property
    def stem(self) -> Callable[[str], str]:
        """The Snowball English stemmer of the lexical index."""
        return Stemmer.Stemmer("english").stemWord  # type: ignore[no-any-return]

    def kinds(self) -> tuple[list[str], frozenset[str]]:
        """Each item's kind from its name, stemmed, and the stems that are kinds of this catalog (made once)."""
        if self._kinds is None:
            stem = self.stem
            kinds = [stem(k.lower()) for k in kinds_from_names([p.title for p in self.catalog])]
            self._kinds = kinds, frozenset(k for k, n in Counter(kinds).items() if n >= MIN_KIND_NAMES)
        return self._kinds

    def score(self, request: Request, pool: Pool) -> dict[str, Scores]:
        """This signal's contributions (see the class)."""
        words = request.needs.text if request.needs is not None else ""
        if not words or not self.weight:
            return {}
        kinds, known = self.kinds()
        stem = self.stem
        wanted = {stem(w) for w in re.findall(r"[^\W\d_][\w'-]*", words.lower())} & known
        if not wanted:
            return {}
        return {"kind": self.weight * np.array([kinds[p] in wanted for p in pool.positions], dtype=float)}


def default_signals(retriever: Retriever, weights: RankingWeights,
                    popularity: Mapping[str, int]) -> list[Signal]:
    """The signals every recommendation is scored by, weighted by ``weights``."""
    return [Similarity(retriever), Stated(weights.stated), ProfileVector(weights.profile_vector),
            Affinity(weights.affinity), Rating(weights.rating), Together(weights.together, weights.together_alone),
            Popularity(weights.popularity, popularity), ScopePrior(weights.scope_prior),
            NamedKind(weights.named_kind, retriever)]


def default_sources(retriever: Retriever, popularity: Mapping[str, int]) -> list[Source]:
    """The sources every recommendation draws its candidates from."""
    return [Dense(retriever), Lexical(retriever), TogetherSource(retriever), Popular(retriever, popularity)]

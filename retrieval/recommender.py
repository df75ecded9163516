"""Recommendations from stated needs and a profile: retrieve, filter, rerank, explain.

The pipeline (DESIGN.md, "Recommendation pipeline"):

1. needs → query text → embedding (cached) — or the vector of an item the
   customer wants "more like";
2. hard filters (category, budget, exclusions, stock, already rejected) →
   FAISS search with over-fetch;
3. rerank: semantic score + stated soft preferences (colour, material, …) +
   profile affinity + rating prior → MMR for variety → top k;
4. a reason per item from the features that actually raised its score.

When nothing passes the hard filters, the most restrictive constraint is relaxed
and the result says which.

>>> from retrieval.catalog import Catalog, Product
>>> from retrieval.encoder import HashingEncoder
>>> from retrieval.search import Retriever
>>> catalog = Catalog([Product("a", "Grey linen sofa", 700.0, "USD", "Sofas", colour="grey"),
...                    Product("b", "Oak desk", 300.0, "USD", "Desks")])
>>> recommender = Recommender(Retriever.build(catalog, HashingEncoder(64)))
>>> [s.product.id for s in recommender.recommend(Needs(category="Sofas"), k=1).items]
['a']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from retrieval.catalog import Catalog, Product
from retrieval.collaborative import MIN_CUSTOMERS
from retrieval.contract import ATTRIBUTES, affinity_key
from retrieval.explain import format_price
from retrieval.filters import Filters
from retrieval.ranker import Pool, Request, Signal, Source, default_signals, default_sources, rating_prior
from retrieval.ranking import mmr
from retrieval.search import Retriever

__all__ = ["SOFT_ATTRIBUTES", "Needs", "Preferences", "RankingWeights", "Recommendation", "Recommender", "Scored"]

#: Attributes a customer may prefer without making them a hard filter (the contract's attribute list).
SOFT_ATTRIBUTES: tuple[str, ...] = ATTRIBUTES
Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Needs:
    """What the customer asked for, as the dialogue understood it.

    Attributes:
        category: a catalog category (hard filter), or ``None``.
        min_price, max_price: budget bounds (hard filter).
        preferences: soft wishes by attribute (``{"colour": "grey"}``): they
            raise an item's score and go into the query text.
        exclusions: words the items must not have ("leather") — hard filter.
        text: the customer's own words, added to the query.
    """

    category: str | None = None
    min_price: float | None = None
    max_price: float | None = None
    preferences: Mapping[str, str] = field(default_factory=dict)
    exclusions: tuple[str, ...] = ()
    text: str = ""

    def query_text(self) -> str:
        """The text embedded for search: preferences, category, then free words."""
        parts = [v for k in SOFT_ATTRIBUTES if (v := self.preferences.get(k))]
        if self.category:
            parts.append(self.category)
        if self.text:
            parts.append(self.text)
        return " ".join(parts) or "popular items"

    def filters(self, exclude_ids: Sequence[str] = ()) -> Filters:
        """The hard constraints as :class:`Filters`."""
        low, high = self.min_price, self.max_price
        if low is not None and high is not None and low > high:
            low, high = high, low
        return Filters(
            categories=frozenset({self.category}) if self.category else frozenset(),
            min_price=low,
            max_price=high,
            exclude_terms=self.exclusions,
            exclude_ids=frozenset(exclude_ids),
        )


@dataclass(frozen=True)
class Preferences:
    """What a profile contributes to ranking (empty when personalisation is off)."""

    vector: Vector | None = None
    affinities: Mapping[str, float] = field(default_factory=dict)
    #: Items other customers took with what this one liked or chose: item id → (strength 0–1, the reason to say,
    #: empty when too few customers are behind it to say so). They join the candidates and rank higher.
    together: Mapping[str, tuple[float, str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """Whether there is nothing to personalise with."""
        return self.vector is None and not self.affinities and not self.together


@dataclass(frozen=True)
class RankingWeights:
    """How much each signal counts in the final score (semantic similarity counts 1)."""

    stated: float = 0.12
    profile_vector: float = 0.25
    affinity: float = 0.04
    rating: float = 0.05
    #: An item other customers took with what this customer liked or chose, at full strength (the likeliest).
    together: float = 0.15
    #: The same when nothing is asked for but the likes (no words, no kind): then what others took is the best
    #: evidence there is, and it leads (``make bench-collaborative``: the own ranker's weight on the dev customers).
    together_alone: float = 10.0
    #: MMR's weight on variety among the cards: 0.25 put a watch beside the wall clock the words asked for;
    #: 0.1 keeps near-duplicates apart (dev query suites, P@3: Flipkart 0.876 → 0.885, DummyJSON 0.770 → 0.789).
    diversity: float = 0.1
    #: An item of a scope the search only guessed from the customer's words (a soft prior, not a filter): so
    #: the kinds the words most likely mean lead, and an item of another kind that matches the words clearly
    #: better still shows. Dev query suites, P@3 at 0.05 / 0.15 / 0.3: Flipkart 0.878 / 0.885 / 0.888, DummyJSON
    #: 0.753 / 0.789 / 0.804; Amazon 0.902 / 0.905 at 0.15 / 0.3 and 0.904 at 0.6. The guessed kinds come
    #: likeliest first, and the n-th counts ``scope_prior / sqrt(n)``: a kind voted in by a few weak matches ("a
    #: bed" with phones and groceries) lifts its items less than the kind the words most likely mean. Dev query
    #: suites, hit@3 / P@3, the same for all, 1/n, 1/sqrt(n): Flipkart 0.967 / 0.891, 0.955 / 0.899,
    #: 0.963 / 0.896; DummyJSON 0.924 / 0.733, 0.924 / 0.749, 0.924 / 0.742.
    scope_prior: float = 0.3
    #: An item whose own kind (the last noun of its name's head, :mod:`retrieval.kinds`) is one the customer's
    #: words name: "rings" among all the jewellery, "kurta" among all the clothing, where a category is broader
    #: than the kind asked for. Only kinds that end at least ``MIN_KIND_NAMES`` names of the catalog count.
    named_kind: float = 0.3
    #: How many customers took an item (five or more; log scale, 1 for the most taken). 0: on the dev customers
    #: of ``make bench-collaborative`` 0.1 and 0.5 moved NDCG@10 by at most 0.001 in either protocol.
    popularity: float = 0.0


@dataclass(frozen=True)
class Scored:
    """One recommended item with its score, rank and reason."""

    product: Product
    score: float
    rank: int
    reason: str
    semantic: float


@dataclass(frozen=True)
class Recommendation:
    """The answer to one request.

    Attributes:
        items: best first.
        relaxed: human-readable notes on constraints that were relaxed ("budget
            raised to $950"), empty when everything held.
        candidates: how many items passed the hard filters.
    """

    items: list[Scored]
    relaxed: list[str] = field(default_factory=list)
    candidates: int = 0


class Recommender:
    """Turns needs and preferences into a few explained items.

    The candidates come from :mod:`retrieval.ranker`'s sources and are scored by its signals: both lists may be
    passed in to compose another ranker; by default every source and signal, weighted by ``weights``.

    Args:
        retriever: the catalog's retriever (catalog, index, encoder).
        weights: ranking weights.
        fetch: candidates fetched from each search source before reranking.
        popularity: how many customers took each item (five or more), for the popular source and signal.
        sources: where candidates come from (default: :func:`~retrieval.ranker.default_sources`).
        signals: what scores them (default: :func:`~retrieval.ranker.default_signals`).
    """

    def __init__(self, retriever: Retriever, weights: RankingWeights | None = None, *, fetch: int = 60,
                 popularity: Mapping[str, int] | None = None, sources: Sequence[Source] | None = None,
                 signals: Sequence[Signal] | None = None) -> None:
        self.retriever = retriever
        self.weights = weights or RankingWeights()
        self.fetch = fetch
        #: how many customers took each item, five or more (``CollaborativeModel.popular``); empty without one
        self.popularity: Mapping[str, int] = popularity or {}
        self.sources = list(sources) if sources is not None else default_sources(retriever, self.popularity)
        self.signals = list(signals) if signals is not None else default_signals(retriever, self.weights,
                                                                                 self.popularity)

    @property
    def catalog(self) -> Catalog:
        """The catalog being recommended from."""
        return self.retriever.catalog

    def item_vector(self, product_id: str) -> Vector:
        """The indexed vector of a product."""
        position = self.retriever.catalog.position(product_id)
        vector: Vector = self.retriever.index.reconstruct([position])[0]
        return vector

    def recommend(
        self,
        needs: Needs,
        preferences: Preferences | None = None,
        *,
        k: int = 3,
        exclude_ids: Sequence[str] = (),
        like_item: str | None = None,
        filters: Filters | None = None,
        relax: bool = True,
        prior: Sequence[str] = (),
    ) -> Recommendation:
        """Recommend ``k`` items.

        Args:
            needs: the stated needs.
            preferences: the profile's contribution (``None`` = not personalised).
            k: items wanted.
            exclude_ids: items not to show (already shown, rejected).
            like_item: an item the customer wants "more like"; its vector
                steers the search.
            filters: the hard constraints, when the caller built them itself (the
                conversation model does); ``needs`` then only ranks and explains.
            relax: relax the most restrictive constraint when fewer than ``k`` items
                pass; ``False`` returns what passes, however few.
            prior: categories favoured by ``RankingWeights.scope_prior`` without filtering, likeliest first: a
                scope guessed from the words, where the filters leave every kind in.

        Returns:
            The items with reasons, and any relaxed constraints.
        """
        preferences = preferences or Preferences()
        relaxed: list[str] = []
        filters = filters if filters is not None else needs.filters(exclude_ids)
        mask = self.retriever.filter_table.mask(filters)
        if relax and int(mask.sum()) < k:
            filters, relaxed = self._relax(filters, k)
            mask = self.retriever.filter_table.mask(filters)
        text = needs.query_text()
        query = self.retriever.embed_query(text)
        if like_item is not None and like_item in self.retriever.catalog:
            query = 0.35 * query + 0.65 * self.item_vector(like_item)
            query = (query / max(float(np.linalg.norm(query)), 1e-9)).astype(np.float32)
        described = bool(needs.category or needs.text or needs.preferences) or like_item in self.retriever.catalog
        request = Request(query, text, mask, needs, preferences, tuple(prior), self.retriever.lexical.scores(text),
                          described)
        pool = self.pool(request, max(self.fetch, 4 * k))
        if not len(pool):
            return Recommendation([], relaxed, int(mask.sum()))
        contributions = self.score(request, pool)
        scores = np.sum(list(contributions.values()), axis=0) if contributions else np.zeros(len(pool))
        order = mmr(scores, pool.vectors, k, diversity=self.weights.diversity)
        items = []
        for rank, i in enumerate(order, start=1):
            product = pool.products[i]
            said = {code: float(values[i]) for code, values in contributions.items() if values[i]}
            reason = self._reason(product, needs, said, preferences.together.get(product.id, (0.0, ""))[1],
                                  self.popularity.get(product.id, 0))
            items.append(Scored(product, float(scores[i]), rank, reason, float(pool.semantic[i])))
        return Recommendation(items, relaxed, int(mask.sum()))

    def pool(self, request: Request, fetch: int) -> Pool:
        """The union of what every source proposes for ``request``, in the order proposed."""
        positions: list[int] = []
        sources: list[str] = []
        seen: set[int] = set()
        for source in self.sources:
            for position in source.propose(request, fetch):
                if position not in seen:
                    seen.add(position)
                    positions.append(position)
                    sources.append(source.name)
        if not positions:
            return Pool([], [], np.zeros((0, self.retriever.dimension), dtype=np.float32), np.zeros(0))
        vectors = self.retriever.index.reconstruct(positions)
        semantic = (vectors @ np.asarray(request.vector, dtype=np.float32)).astype(np.float64)
        return Pool(positions, [self.catalog[p] for p in positions], vectors, semantic, sources)

    def score(self, request: Request, pool: Pool) -> dict[str, npt.NDArray[np.float64]]:
        """Every signal's weighted contribution to every item of ``pool``, by reason code."""
        contributions: dict[str, npt.NDArray[np.float64]] = {}
        for signal in self.signals:
            contributions.update(signal.score(request, pool))
        return contributions

    def surprise(
        self,
        needs: Needs,
        preferences: Preferences | None = None,
        *,
        k: int = 3,
        exclude_ids: Sequence[str] = (),
        seed: int = 0,
        pool: int = 4000,
        relax: bool = True,
        filters: Filters | None = None,
    ) -> Recommendation:
        """Deliberately explore: well-rated items unlike what the profile already knows.

        The customer's hard limits stay (category when given, budget, exclusions); within them,
        items far from the profile vector, outside the liked attribute values and not seen
        before score highest, and MMR keeps the three unlike each other too. Without a profile,
        items unlike those already shown take its place. ``seed`` varies the pick between calls.

        Args:
            needs: the hard constraints to keep (stated wishes and text are ignored).
            preferences: the profile to move away from (``None``: only what was shown).
            k: items wanted.
            exclude_ids: items not to show (already shown, rejected).
            seed: for the small random jitter that keeps repeated surprises different.
            pool: at most this many candidates are scored (a random sample of larger sets).
            relax: relax a constraint when fewer than ``k`` items pass; ``False`` returns what passes.
            filters: the hard constraints, when the caller built them itself (the conversation model does:
                every kind of the scope, the families an exclusion names); ``needs`` then only explains.
        """
        preferences = preferences or Preferences()
        limits = dataclasses.replace(needs, preferences={}, text="")
        table = self.retriever.filter_table
        relaxed: list[str] = []
        filters = filters if filters is not None else limits.filters(exclude_ids)
        mask = table.mask(filters)
        if relax and int(mask.sum()) < k:
            filters, relaxed = self._relax(filters, k)
            mask = table.mask(filters)
        positions = np.flatnonzero(mask)
        rng = np.random.default_rng(seed)
        if positions.size > pool:
            positions = np.sort(rng.choice(positions, size=pool, replace=False))
        if positions.size == 0:
            return Recommendation([], relaxed, 0)
        vectors = self.retriever.index.reconstruct(positions)
        products = [self.retriever.catalog[int(i)] for i in positions]
        scores, distance = self._surprise_scores(products, vectors, preferences, exclude_ids, rng)
        order = mmr(scores, vectors, k, diversity=0.4)
        items = [
            Scored(products[i], float(scores[i]), rank, self._surprise_reason(products[i], limits, distance[i]),
                   0.0)
            for rank, i in enumerate(order, start=1)
        ]
        return Recommendation(items, relaxed, int(mask.sum()))

    def _surprise_scores(self, products: Sequence[Product], vectors: npt.NDArray[np.float32],
                         preferences: Preferences, exclude_ids: Sequence[str],
                         rng: np.random.Generator) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """How surprising each candidate is, and its distance from the profile (or from what was shown).

        Far from the profile vector scores high, a good rating a little, liked attribute values
        count against; a small jitter from ``rng`` keeps repeated surprises different.
        """
        away_from = preferences.vector
        if away_from is None or not np.any(away_from):
            seen = [self.catalog.position(i) for i in exclude_ids if i in self.catalog]
            away_from = self.retriever.index.reconstruct(seen).mean(axis=0) if seen else None
        distance = np.zeros(len(products))
        if away_from is not None and np.any(away_from):
            unit = away_from / max(float(np.linalg.norm(away_from)), 1e-9)
            distance = 1.0 - vectors @ unit
        familiar = np.array([
            sum(max(preferences.affinities.get(affinity_key(name, value), 0.0), 0.0)
                for name in SOFT_ATTRIBUTES if (value := p.attribute(name)))
            for p in products
        ])
        quality = np.array([rating_prior(p) for p in products])
        scores = distance + 0.3 * quality - 0.1 * np.minimum(familiar, 3.0) + rng.uniform(0, 0.05, len(products))
        return scores, distance

    @staticmethod
    def _surprise_reason(product: Product, needs: Needs, distance: float) -> str:
        parts = ["off your usual path" if distance > 0.8 else "something different"]
        described = [v.lower() for name in SOFT_ATTRIBUTES if (v := product.attribute(name))][:2]
        if described:
            parts.append(" and ".join(described))
        if needs.max_price is not None and product.price <= needs.max_price:
            parts.append(f"still under your {format_price(needs.max_price, product.currency)} budget")
        if product.rating is not None and product.rating >= 4.0:
            parts.append(f"rated {product.rating:.1f}/5")
        return ", ".join(parts)

    # -- scoring -------------------------------------------------------------------

    @staticmethod
    def _reason(product: Product, needs: Needs, signals: Mapping[str, float], together: str = "",
                customers: int = 0) -> str:
        """The card's reason, from the codes that raised its score.

        Nothing is said that the item's facts, the customer's words or real counts do not bear out.
        """
        parts: list[str] = [together] if together and signals.get("together", 0.0) > 0 else []
        for name in SOFT_ATTRIBUTES:
            if f"stated:{name}" in signals:
                value = product.attribute(name) or ""
                parts.append(f"made for {value.lower()}" if name == "use" else value.lower())
        if needs.max_price is not None and product.price <= needs.max_price:
            parts.append(f"under your {format_price(needs.max_price, product.currency)} budget")
        liked = [n.split(":", 1)[1] for n, v in signals.items() if n.startswith("affinity:") and v > 0]
        if liked:
            liked_value = product.category if liked[0] == "category" else product.attribute(liked[0])
            parts.append(f"you liked {str(liked_value).lower()} before")
        elif signals.get("profile:vector", 0.0) > 0.05:
            parts.append("like items you liked")
        if customers >= MIN_CUSTOMERS and signals.get("popular", 0.0) > 0 and not (together and "together" in signals):
            parts.append(f"popular: {customers} customers bought it")
        if product.rating is not None and signals.get("rating", 0.0) > 0.02:
            parts.append(f"rated {product.rating:.1f}/5")
        if not parts:
            parts.append("a close match for what you described")
        return ", ".join(parts)

    # -- relaxing ------------------------------------------------------------------

    def _relax(self, filters: Filters, k: int) -> tuple[Filters, list[str]]:
        """Loosen the one constraint of ``filters`` that frees the most items, so that at least ``k`` pass.

        The same filters every path applies, loosened field by field (budget, exclusions, then the category),
        so what the caller ruled in or out otherwise still holds. The note says why: nothing fits at all, or
        everything that fits has been shown or turned down already (then the constraint is not what ran the
        list dry).
        """
        table = self.retriever.filter_table

        def count(f: Filters) -> int:
            return int(table.mask(f).sum())

        seen_all = bool(filters.exclude_ids) and count(dataclasses.replace(filters, exclude_ids=frozenset())) > 0
        options = [o for o in (self._widened_budget(filters, k, seen_all), self._widened_exclusions(filters, seen_all))
                   if o is not None]
        workable = [(count(f), f, note) for f, note in options if count(f) >= k]
        if not workable and filters.categories:
            # The category is what they came for: leave it only when nothing else helps.
            category = " or ".join(sorted(c.lower() for c in filters.categories))
            widened = dataclasses.replace(filters, categories=frozenset())
            workable.append((count(widened), widened,
                             f"you've seen all the {category} that fit, so I looked beyond that category"
                             if seen_all else f"I found too few {category}, so I looked beyond that category"))
        if not workable:
            return filters, []
        # The most restrictive constraint is the one whose relaxing frees the most items; max() keeps
        # the first of equals, so ties go to the budget.
        _, chosen, note = max(workable, key=lambda o: o[0])
        return chosen, [note]

    def _widened_budget(self, filters: Filters, k: int, seen_all: bool) -> tuple[Filters, str] | None:
        """The budget raised to the ``k``-th cheapest item that fits otherwise (or the minimum dropped)."""
        if filters.max_price is None and filters.min_price is None:
            return None
        currency = self.retriever.catalog.currency
        unbounded = self.retriever.filter_table.mask(dataclasses.replace(filters, min_price=None, max_price=None))
        prices = sorted(p.price for p, keep in zip(self.retriever.catalog, unbounded, strict=True) if keep)
        if len(prices) < k:
            return None
        if filters.max_price is None:
            return dataclasses.replace(filters, min_price=None), "nothing is above your minimum price, so I dropped it"
        above = [p for p in prices if p >= (filters.min_price or 0.0)]
        keep_floor = len(above) >= k
        new_max = above[k - 1] if keep_floor else prices[k - 1]
        widened = dataclasses.replace(filters, max_price=new_max, min_price=filters.min_price if keep_floor else None)
        budget, raised = format_price(filters.max_price, currency), format_price(new_max, currency)
        return widened, (f"you've seen everything I have within {budget}, so I raised the budget to {raised}"
                         if seen_all else f"nothing fits {budget}, so I raised the budget to {raised}")

    @staticmethod
    def _widened_exclusions(filters: Filters, seen_all: bool) -> tuple[Filters, str] | None:
        """The words ruled out let back in."""
        if not filters.exclude_terms:
            return None
        avoided = ", ".join(filters.exclude_terms)
        return dataclasses.replace(filters, exclude_terms=()), (
            f"you've seen everything without {avoided}, so these include it" if seen_all
            else f"I couldn't avoid {avoided} entirely")

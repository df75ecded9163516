"""The open ranker: candidate sources and signals as small objects, one set of hard filters on every path."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.catalog import Catalog
from retrieval.encoder import HashingEncoder
from retrieval.filters import Filters
from retrieval.loaders import load_catalog
from retrieval.ranker import (
    Dense,
    Lexical,
    Pool,
    Popular,
    Popularity,
    Request,
    Similarity,
    TogetherSource,
    default_signals,
)
from retrieval.recommender import Needs, Preferences, RankingWeights, Recommender
from retrieval.search import Retriever
from tests.conftest import DEMO_CATALOG

CATALOG: Catalog = load_catalog(DEMO_CATALOG).catalog
RETRIEVER = Retriever.build(CATALOG, HashingEncoder(256))
SOFAS = [p for p in CATALOG if p.category == "Sofas" and p.in_stock]
#: the demo's sofas, the first taken by 40 customers, the second by 12, the third by 3 (too few to say)
COUNTS = {SOFAS[0].id: 40, SOFAS[1].id: 12}


class Cheapness:
    """A signal written outside the module: cheaper items score higher, under its own code."""

    def score(self, request: Request, pool: Pool) -> dict[str, np.ndarray]:
        prices = np.array([p.price for p in pool.products])
        return {"cheap": 10.0 * (1.0 - prices / prices.max())}


@settings(max_examples=40, deadline=None)
@given(st.lists(st.booleans(), min_size=len(CATALOG), max_size=len(CATALOG)), st.sampled_from(
    ["sofa", "a grey sofa", "lamp for reading", "", "zzz"]))
def test_no_source_proposes_outside_the_hard_filters(allowed: list[bool], words: str) -> None:
    mask = np.array(allowed)
    liked = {p.id: (1.0, "") for p in CATALOG[:20]} if len(CATALOG) > 20 else {}
    request = Request(RETRIEVER.embed_query(words or "popular items"), words, mask,
                      preferences=Preferences(together=liked))
    popular = {p.id: 10 + n for n, p in enumerate(CATALOG)}
    for source in (Dense(RETRIEVER), Lexical(RETRIEVER), TogetherSource(RETRIEVER), Popular(RETRIEVER, popular)):
        proposed = source.propose(request, 30)
        assert all(mask[p] for p in proposed), source.name
        assert len(proposed) == len(set(proposed))


def test_a_signal_passed_in_changes_the_order_and_its_code_is_kept() -> None:
    needs = Needs(category="Sofas")
    plain = Recommender(RETRIEVER).recommend(needs, k=3, relax=False).items
    cheap = Recommender(RETRIEVER, signals=[Similarity(RETRIEVER), Cheapness()]).recommend(
        needs, k=3, relax=False).items
    assert [s.product.id for s in cheap] != [s.product.id for s in plain]
    assert cheap[0].product.price == min(p.price for p in SOFAS)
    recommender = Recommender(RETRIEVER, signals=[Similarity(RETRIEVER), Cheapness()])
    request = Request(RETRIEVER.embed_query("sofa"), "sofa", np.ones(len(CATALOG), dtype=bool), needs)
    assert set(recommender.score(request, recommender.pool(request, 10))) == {"similarity", "cheap"}


def test_the_default_signals_take_their_weights_from_one_place() -> None:
    weights = RankingWeights(rating=0.5, popularity=0.2)
    signals = default_signals(RETRIEVER, weights, COUNTS)
    assert [s.weight for s in signals if hasattr(s, "weight") and type(s).__name__ in ("Rating", "Popularity")] \
        == [0.5, 0.2]


def test_popular_items_join_and_rise_and_the_reason_says_so_only_from_five_customers() -> None:
    weights = RankingWeights(popularity=1.0)
    recommender = Recommender(RETRIEVER, weights, popularity=COUNTS)
    items = recommender.recommend(Needs(category="Sofas"), k=len(SOFAS), relax=False).items
    assert [s.product.id for s in items[:2]] == [SOFAS[0].id, SOFAS[1].id]
    assert "popular: 40 customers bought it" in items[0].reason
    assert "popular: 12 customers bought it" in items[1].reason
    assert all("popular" not in s.reason for s in items[2:])
    silent = Recommender(RETRIEVER, popularity=COUNTS).recommend(Needs(category="Sofas"), k=3, relax=False).items
    assert all("popular" not in s.reason for s in silent)  # weight 0 (the default): it raised nothing, says nothing


def test_popularity_scores_on_a_log_scale_up_to_its_weight() -> None:
    pool_products = SOFAS[:3]
    positions = [CATALOG.position(p.id) for p in pool_products]
    pool = Pool(positions, pool_products, RETRIEVER.index.reconstruct(positions), np.zeros(3))
    scored = Popularity(0.5, COUNTS).score(Request(pool.vectors[0], "", np.ones(len(CATALOG), dtype=bool)), pool)
    assert scored["popular"][0] == pytest.approx(0.5)
    assert 0 < scored["popular"][1] < 0.5 and scored["popular"][2] == 0.0
    assert Popularity(0.5, {}).score(Request(pool.vectors[0], "", np.ones(len(CATALOG), dtype=bool)), pool) == {}


def test_relaxing_loosens_the_callers_own_filters_and_keeps_the_rest() -> None:
    grey = frozenset({"grey"})
    filters = Filters(categories=frozenset({"Sofas"}), max_price=1.0, require_attributes={"colour": grey})
    result = Recommender(RETRIEVER).recommend(Needs(category="Sofas", max_price=1.0), k=2, filters=filters)
    assert result.relaxed and "raised the budget" in result.relaxed[0]
    assert result.items and all(s.product.colour == "grey" and s.product.category == "Sofas" for s in result.items)
    # the reason quotes the budget the customer said, never the raised one the recommender chose
    assert all("budget" not in s.reason for s in result.items)


def test_surprise_relaxes_the_same_filters() -> None:
    filters = Filters(categories=frozenset({"Sofas"}), max_price=1.0, exclude_terms=("leather",))
    result = Recommender(RETRIEVER).surprise(Needs(category="Sofas", max_price=1.0), k=2, filters=filters)
    assert result.relaxed and all(s.product.category == "Sofas" for s in result.items)
    assert all("leather" not in s.product.title.lower() for s in result.items)


def test_the_category_goes_last_and_the_note_names_it() -> None:
    few = dataclasses.replace(Filters(categories=frozenset({"Sofas"})),
                              exclude_ids=frozenset(p.id for p in CATALOG if p.category == "Sofas"))
    result = Recommender(RETRIEVER).recommend(Needs(category="Sofas"), k=3, filters=few)
    assert result.relaxed == ["you've seen all the sofas that fit, so I looked beyond that category"]
    assert len(result.items) == 3 and all(s.product.category != "Sofas" for s in result.items)


def test_a_request_that_describes_nothing_is_ranked_by_what_is_known_not_by_a_placeholder_query() -> None:
    mask = np.ones(len(CATALOG), dtype=bool)
    pool_products = SOFAS[:2]
    positions = [CATALOG.position(p.id) for p in pool_products]
    pool = Pool(positions, pool_products, RETRIEVER.index.reconstruct(positions), np.ones(2))
    vector = RETRIEVER.embed_query("popular items")
    assert Similarity(RETRIEVER).score(Request(vector, "popular items", mask, described=False), pool) == {}
    assert "similarity" in Similarity(RETRIEVER).score(Request(vector, "popular items", mask), pool)
    # nothing asked but the likes: what others took with them leads, whatever the placeholder's words match
    lamp = next(p for p in CATALOG if p.category == "Lamps")
    taken = Preferences(together={lamp.id: (1.0, "")})
    items = Recommender(RETRIEVER).recommend(Needs(), taken, k=1, relax=False).items
    assert [s.product.id for s in items] == [lamp.id]
    asked = Recommender(RETRIEVER).recommend(Needs(category="Sofas"), taken, k=1, relax=False).items
    assert asked[0].product.category == "Sofas"  # asked for sofas: the filters hold, what others took only ranks


def test_signals_that_all_stay_silent_leave_the_pool_in_the_sources_order() -> None:
    silent = Recommender(RETRIEVER, signals=[Similarity(RETRIEVER)])
    items = silent.recommend(Needs(), k=3, relax=False).items  # describes nothing: similarity says nothing
    assert len(items) == 3 and all(s.score == 0.0 for s in items)

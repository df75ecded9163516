"""The scale benchmark's catalog builder (benchmarks/scale.py): exact size, unique ids, sane variants."""

from __future__ import annotations

import pytest

from benchmarks.scale import VARIANT_WORDS, expand_catalog, shopper_queries
from retrieval.catalog import Product
from retrieval.encoder import HashingEncoder
from retrieval.recommender import Recommender
from retrieval.search import Retriever

PRODUCTS = [
    Product("a", "Grey linen sofa", 700.0, "USD", "Sofas", colour="grey"),
    Product("b", "Oak desk", 300.0, "USD", "Desks", material="oak"),
    Product("c", "Free sample swatch", 0.0, "USD", "Samples"),
]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 10, 97, 24 * 3 + 5])
def test_expansion_has_exactly_count_items_with_unique_ids_and_positive_prices(count: int) -> None:
    catalog = expand_catalog(PRODUCTS, count, seed=7)
    assert len(catalog) == count
    assert len(set(catalog.ids)) == count
    if count > len(PRODUCTS):
        assert all(p.price > 0 for p in catalog if "~" in p.id)
    assert all(p.price >= 0 for p in catalog)


def test_real_products_come_first_and_variants_differ_in_text_but_keep_the_kind() -> None:
    catalog = expand_catalog(PRODUCTS, 30, seed=1)
    assert [p.id for p in catalog][:3] == ["a", "b", "c"]
    texts = [p.embedding_text() for p in catalog]
    assert len(set(texts)) == len(texts)
    for variant in list(catalog)[3:]:
        source = next(p for p in PRODUCTS if variant.id.startswith(p.id + "~"))
        assert variant.category == source.category
        assert variant.title.endswith(source.title)
        assert any(variant.title.startswith(word + " ") for word in VARIANT_WORDS)
        assert variant.price > 0
        if source.price:
            assert 0.79 * source.price <= variant.price <= 1.26 * source.price


def test_copies_are_spread_evenly_and_the_seed_fixes_the_result() -> None:
    catalog = expand_catalog(PRODUCTS, 3 + 3 * 5 + 2, seed=3)
    per_source = {p.id: sum(1 for q in catalog if q.id.split("~")[0] == p.id) for p in PRODUCTS}
    assert sorted(per_source.values()) == [6, 7, 7]
    again = expand_catalog(PRODUCTS, 20, seed=3)
    assert [(p.id, p.title, p.price) for p in again] == [(p.id, p.title, p.price) for p in catalog]
    other = expand_catalog(PRODUCTS, 20, seed=4)
    assert [(p.title, p.price) for p in other] != [(p.title, p.price) for p in catalog]


def test_fewer_items_than_products_is_a_sample_and_bad_sizes_are_refused() -> None:
    sample = expand_catalog(PRODUCTS, 2, seed=0)
    assert set(sample.ids) <= {"a", "b", "c"}
    with pytest.raises(ValueError):
        expand_catalog(PRODUCTS, 0)
    with pytest.raises(ValueError):
        expand_catalog([], 5)


def test_the_expanded_catalog_serves_filtered_needs() -> None:
    catalog = expand_catalog(PRODUCTS, 40, seed=0)
    suites = [("demo", "a sofa for the flat", ("Sofas",)), ("demo", "desk", ("Desks",)),
              ("demo", "something", ("Nowhere",))]
    queries = shopper_queries(suites, catalog, filtered=2 / 3, seed=0)
    assert [q.scope for q in queries] == ["category", "max price", "none"]
    assert queries[0].needs.category == "Sofas" and queries[0].needs.max_price is None
    assert queries[1].needs.category is None and queries[1].needs.max_price is not None
    recommender = Recommender(Retriever.build(catalog, HashingEncoder(64)))
    items = recommender.recommend(queries[0].needs, k=3).items
    assert len(items) == 3 and all(s.product.category == "Sofas" for s in items)


def test_only_queries_with_a_category_here_are_filtered_however_large_the_share() -> None:
    """On the demo variants alone most foreign queries have no accepted category to scope by."""
    catalog = expand_catalog(PRODUCTS, 40, seed=0)
    suites = [("demo", "a sofa for the flat", ("Sofas",)), ("x", "kurta", ("Clothing",)),
              ("x", "lipstick", ("Beauty",))]
    queries = shopper_queries(suites, catalog, filtered=2 / 3, seed=0)
    assert [q.scope for q in queries] == ["category", "none", "none"]


def test_the_timed_queries_are_the_shopper_suites_not_the_off_topic_messages() -> None:
    from benchmarks.queries import QUERIES
    from benchmarks.scale import read_suites

    suites = read_suites(QUERIES)
    assert {name for name, _, _ in suites} == {"amazon-2020-sample", "dummyjson-products", "flipkart-sample",
                                               "myntra-products"}
    assert all(accept for _, _, accept in suites) and len(suites) >= 450

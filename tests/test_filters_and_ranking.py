from __future__ import annotations

import numpy as np
import pytest

from retrieval.catalog import Catalog
from retrieval.filters import Filters, FilterTable
from retrieval.ranking import mmr


def ids(catalog: Catalog, mask: np.ndarray) -> list[str]:
    return [p.id for p, keep in zip(catalog, mask, strict=True) if keep]


def test_no_filters_hide_only_what_is_out_of_stock(small_catalog: Catalog) -> None:
    table = FilterTable(small_catalog)
    assert ids(small_catalog, table.mask(Filters())) == [p.id for p in small_catalog if p.id != "s3"]
    assert ids(small_catalog, table.mask(Filters(in_stock_only=False))) == small_catalog.ids


def test_category_and_price_range(small_catalog: Catalog) -> None:
    table = FilterTable(small_catalog)
    mask = table.mask(Filters(categories=frozenset({"sofas"}), min_price=600, max_price=1300))
    assert ids(small_catalog, mask) == ["s1", "s2"]
    assert ids(small_catalog, table.mask(Filters(max_price=60))) == ["l2"]


def test_excluded_terms_match_whole_words_in_title_and_attributes(small_catalog: Catalog) -> None:
    table = FilterTable(small_catalog)
    mask = table.mask(Filters(exclude_terms=("leather",)))
    assert "s2" not in ids(small_catalog, mask) and "b2" not in ids(small_catalog, mask)
    # "bed" must not knock out "Standing desk …" by substring, only the sofa bed.
    assert ids(small_catalog, table.mask(Filters(exclude_terms=("bed",)))).count("s4") == 0
    assert "d2" not in ids(small_catalog, table.mask(Filters(exclude_terms=("bed", "STEEL FRAME"))))
    assert "d2" in ids(small_catalog, table.mask(Filters(exclude_terms=("bed",))))


def test_attribute_requirements_and_exclusions_ignore_case(small_catalog: Catalog) -> None:
    table = FilterTable(small_catalog)
    grey = table.mask(Filters(require_attributes={"colour": frozenset({"Grey"})}))
    assert ids(small_catalog, grey) == ["s1", "s4"]
    no_leather = table.mask(Filters(categories=frozenset({"Backpacks"}),
                                    exclude_attributes={"material": frozenset({"LEATHER"})}))
    assert ids(small_catalog, no_leather) == ["b1"]


def test_excluded_ids(small_catalog: Catalog) -> None:
    mask = FilterTable(small_catalog).mask(Filters(categories=frozenset({"Lamps"}), exclude_ids=frozenset({"l1"})))
    assert ids(small_catalog, mask) == ["l2"]


def test_filters_reject_contradictions() -> None:
    with pytest.raises(ValueError, match="min_price 10 is above max_price 5"):
        Filters(min_price=10, max_price=5)
    with pytest.raises(ValueError, match="unknown attribute"):
        Filters(require_attributes={"flavour": frozenset({"x"})})


def test_mmr_without_diversity_keeps_relevance_order() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(6, 8))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    relevance = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    assert mmr(relevance, vectors, 4, diversity=0.0) == [0, 1, 2, 3]


def test_mmr_skips_near_duplicates() -> None:
    base = np.array([1.0, 0.0, 0.0])
    vectors = np.array([base, base * 0.999 + [0, 0.04, 0], [0, 1.0, 0], [0, 0, 1.0]])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    picked = mmr([0.95, 0.94, 0.6, 0.5], vectors, 3, diversity=0.5)
    assert picked[0] == 0 and 1 not in picked


def test_mmr_validates_its_input() -> None:
    with pytest.raises(ValueError, match="diversity"):
        mmr([1.0], np.ones((1, 2)), 1, diversity=2)
    with pytest.raises(ValueError, match="disagree"):
        mmr([1.0, 2.0], np.ones((1, 2)), 1)
    assert mmr([1.0], np.ones((1, 2)), 0) == []

"""The FAISS index against a numpy brute-force oracle, filters, save/load and manifests."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from retrieval.errors import IndexMismatchError, IndexNotBuiltError
from retrieval.index import APPROXIMATE_THRESHOLD, VectorIndex
from tests.conftest import structured_vectors


def oracle(vectors: np.ndarray, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[list[int]]:
    scores = queries @ vectors.T
    if allowed is not None:
        scores[:, ~allowed] = -np.inf
    result = []
    for row in scores:
        order = np.lexsort((np.arange(row.size), -row))
        result.append([int(i) for i in order[:k] if np.isfinite(row[i])])
    return result


def ids_for(count: int) -> list[str]:
    return [f"p{i}" for i in range(count)]


def recall(found: list[list[int]], truth: list[list[int]]) -> float:
    hits = sum(len(set(f) & set(t)) for f, t in zip(found, truth, strict=True))
    return hits / sum(len(t) for t in truth)


def test_flat_search_equals_brute_force() -> None:
    vectors = structured_vectors(3000, seed=1)
    queries = structured_vectors(50, seed=2)
    index = VectorIndex.build(vectors, ids_for(3000), model="m", kind="flat")
    results = index.search(queries, k=10)
    truth = oracle(vectors, queries, 10)
    for hits, expected, query in zip(results, truth, queries, strict=True):
        assert [h.position for h in hits][:5] == expected[:5]  # ties further down may swap
        assert [h.score for h in hits] == pytest.approx(sorted((vectors @ query)[expected], reverse=True), abs=1e-5)
        assert [h.id for h in hits] == [f"p{p}" for p in (h.position for h in hits)]


def test_a_1d_query_is_a_batch_of_one() -> None:
    vectors = structured_vectors(200)
    index = VectorIndex.build(vectors, ids_for(200), model="m")
    assert index.search(vectors[7], k=1)[0][0].position == 7
    with pytest.raises(ValueError, match="shape"):
        index.search(np.zeros(5, dtype=np.float32), k=1)


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_approximate_kinds_recall_against_the_oracle(kind: str) -> None:
    vectors = structured_vectors(20_000, seed=3)
    queries = structured_vectors(100, seed=4)
    index = VectorIndex.build(vectors, ids_for(20_000), model="m", kind=kind)
    found = [[h.position for h in hits] for hits in index.search(queries, k=10)]
    assert recall(found, oracle(vectors, queries, 10)) >= 0.9


def test_auto_picks_exact_below_and_approximate_above_the_threshold() -> None:
    small = VectorIndex.build(structured_vectors(500), ids_for(500), model="m")
    large = VectorIndex.build(structured_vectors(3000), ids_for(3000), model="m", approximate_threshold=1000)
    assert small.manifest.kind == "flat"
    assert large.manifest.kind == "ivf" and large.manifest.params["nprobe"] >= 1
    assert APPROXIMATE_THRESHOLD >= 10_000


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
@pytest.mark.parametrize("selectivity", [0.002, 0.05, 0.5])
@pytest.mark.parametrize("exact_scan_limit", [0, 4096])
def test_filtered_search_returns_k_when_k_items_are_allowed(
    kind: str, selectivity: float, exact_scan_limit: int
) -> None:
    count = 12_000
    vectors = structured_vectors(count, seed=5)
    queries = structured_vectors(5, seed=6)
    rng = np.random.default_rng(7)
    allowed = rng.random(count) < selectivity
    index = VectorIndex.build(vectors, ids_for(count), model="m", kind=kind, nlist=256)
    index.exact_scan_limit = exact_scan_limit  # 0 forces the selector + widening path
    for hits, truth in zip(index.search(queries, k=10, allowed=allowed), oracle(vectors, queries, 10, allowed),
                           strict=True):
        positions = [h.position for h in hits]
        assert len(positions) == 10
        assert all(allowed[p] for p in positions)
        if kind == "flat":
            assert positions[:5] == truth[:5]
        else:
            assert len(set(positions) & set(truth)) >= 7


def test_ivf_widens_the_search_until_k_allowed_items_are_found() -> None:
    vectors = structured_vectors(12_000, seed=8)
    allowed = np.zeros(12_000, dtype=bool)
    allowed[::1000] = True  # 12 items spread over many lists
    index = VectorIndex.build(vectors, ids_for(12_000), model="m", kind="ivf", nlist=256, nprobe=1)
    index.exact_scan_limit = 0
    hits = index.search(vectors[5], k=10, allowed=allowed)[0]
    assert len(hits) == 10 and all(h.position % 1000 == 0 for h in hits)


def test_filtered_search_with_fewer_allowed_than_k_returns_all_of_them() -> None:
    vectors = structured_vectors(1000)
    allowed = np.zeros(1000, dtype=bool)
    allowed[[3, 500, 999]] = True
    index = VectorIndex.build(vectors, ids_for(1000), model="m")
    hits = index.search(vectors[0], k=10, allowed=allowed)[0]
    assert sorted(h.position for h in hits) == [3, 500, 999]
    assert index.search(vectors[0], k=10, allowed=np.zeros(1000, dtype=bool)) == [[]]
    with pytest.raises(ValueError, match="allowed"):
        index.search(vectors[0], k=3, allowed=np.ones(5, dtype=bool))


@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_save_and_load_round_trip(tmp_path: Path, kind: str) -> None:
    vectors = structured_vectors(3000)
    built = VectorIndex.build(vectors, ids_for(3000), model="m", catalog_fingerprint="abc", kind=kind, nlist=64)
    built.save(tmp_path / "idx")
    loaded = VectorIndex.load(tmp_path / "idx", expected_model="m", expected_dimension=64, expected_fingerprint="abc")
    assert loaded.manifest == built.manifest
    assert loaded.ids == built.ids
    assert [h.id for h in loaded.search(vectors[:3], k=5)[0]] == [h.id for h in built.search(vectors[:3], k=5)[0]]
    manifest = json.loads((tmp_path / "idx" / "manifest.json").read_text())
    assert {"model", "dimension", "catalog_fingerprint", "built_at", "count", "kind"} <= set(manifest)


def test_loading_refuses_a_mismatched_index(tmp_path: Path) -> None:
    VectorIndex.build(structured_vectors(100), ids_for(100), model="m", catalog_fingerprint="abc").save(tmp_path)
    with pytest.raises(IndexMismatchError, match="model 'm' \\(expected 'other'\\)"):
        VectorIndex.load(tmp_path, expected_model="other")
    with pytest.raises(IndexMismatchError, match="dimension 64 \\(expected 384\\)"):
        VectorIndex.load(tmp_path, expected_dimension=384)
    with pytest.raises(IndexMismatchError, match="catalog fingerprint"):
        VectorIndex.load(tmp_path, expected_fingerprint="def")


def test_loading_refuses_files_that_disagree_with_the_manifest(tmp_path: Path) -> None:
    VectorIndex.build(structured_vectors(100), ids_for(100), model="m").save(tmp_path)
    (tmp_path / "ids.json").write_text(json.dumps(ids_for(99)))
    with pytest.raises(IndexMismatchError, match="disagree"):
        VectorIndex.load(tmp_path)


def test_loading_nothing_says_how_to_build(tmp_path: Path) -> None:
    with pytest.raises(IndexNotBuiltError, match="shopkeeper index build"):
        VectorIndex.load(tmp_path / "missing")


def test_build_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        VectorIndex.build(np.zeros((0, 4), dtype=np.float32), [], model="m")
    with pytest.raises(ValueError, match="ids"):
        VectorIndex.build(structured_vectors(3), ["a"], model="m")
    with pytest.raises(ValueError, match="kind"):
        VectorIndex.build(structured_vectors(3), ids_for(3), model="m", kind="lsh")

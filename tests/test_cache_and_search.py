"""Embedding cache reuse, index build skipping/rebuilding, and the Retriever."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from retrieval.cache import EmbeddingCache
from retrieval.catalog import Catalog
from retrieval.encoder import HashingEncoder, Vectors
from retrieval.filters import Filters
from retrieval.search import Retriever, build_catalog_index


class CountingEncoder(HashingEncoder):
    """The hashing encoder, counting how many texts went through it."""

    def __init__(self) -> None:
        super().__init__(dimension=64)
        self.encoded = 0

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        self.encoded += len(texts)
        return super().encode(texts)


def test_cache_embeds_each_text_once_and_returns_input_order(tmp_path: Path) -> None:
    encoder = CountingEncoder()
    with EmbeddingCache(tmp_path / "c.sqlite") as cache:
        first, stats = cache.embed(encoder, ["a sofa", "a lamp", "a sofa"])
        assert (stats.reused, stats.computed, encoder.encoded) == (1, 2, 2)
        again, stats = cache.embed(encoder, ["a lamp", "a sofa", "a rug"])
        assert (stats.reused, stats.computed, encoder.encoded) == (2, 1, 3)
    np.testing.assert_array_equal(again[:2], first[[1, 0]])
    np.testing.assert_array_equal(first, encoder.encode(["a sofa", "a lamp", "a sofa"]))
    with EmbeddingCache(tmp_path / "c.sqlite") as reopened:  # persisted
        _, stats = reopened.embed(encoder, ["a rug"])
        assert stats.reused == 1 and len(reopened) == 3


def test_cache_keeps_models_apart() -> None:
    cache = EmbeddingCache(":memory:")
    cache.embed(HashingEncoder(32), ["x"])
    _, stats = cache.embed(HashingEncoder(64), ["x"])
    assert stats.computed == 1


def test_build_is_skipped_when_up_to_date_and_redone_when_the_catalog_changes(
    tmp_path: Path, small_catalog: Catalog
) -> None:
    encoder = CountingEncoder()
    cache = EmbeddingCache(tmp_path / "c.sqlite")
    first = build_catalog_index(small_catalog, encoder, tmp_path / "idx", cache=cache)
    assert not first.skipped and first.computed == len(small_catalog)
    second = build_catalog_index(small_catalog, encoder, tmp_path / "idx", cache=cache)
    assert second.skipped and encoder.encoded == len(small_catalog)

    changed = list(small_catalog)
    changed[0] = dataclasses.replace(changed[0], description="Now with deeper seats.")
    changed[1] = dataclasses.replace(changed[1], price=1.0)  # price is not embedded
    third = build_catalog_index(Catalog(changed), encoder, tmp_path / "idx", cache=cache)
    assert not third.skipped
    assert (third.computed, third.reused) == (1, len(small_catalog) - 1)
    assert third.index.manifest.catalog_fingerprint == Catalog(changed).fingerprint()


def test_model_change_forces_a_rebuild(tmp_path: Path, small_catalog: Catalog) -> None:
    build_catalog_index(small_catalog, HashingEncoder(32), tmp_path / "idx")
    rebuilt = build_catalog_index(small_catalog, HashingEncoder(64), tmp_path / "idx")
    assert not rebuilt.skipped and rebuilt.index.dimension == 64


def test_retriever_ranks_by_meaning_and_obeys_filters(small_catalog: Catalog, encoder: HashingEncoder) -> None:
    retriever = Retriever.build(small_catalog, encoder)
    top = retriever.search("grey linen sofa", k=2)
    assert top[0].product.id == "s1" and [m.rank for m in top] == [1, 2]
    cheap = retriever.search("sofa", Filters(categories=frozenset({"Sofas"}), max_price=600), k=3)
    assert [m.product.id for m in cheap] == ["s4"]  # only one sofa is under 600 and in stock
    no_leather = retriever.search("leather backpack", Filters(exclude_terms=("leather",)), k=3)
    assert all("leather" not in (m.product.material or "") for m in no_leather)
    assert len(no_leather) == 3


def test_retriever_returns_k_even_when_the_best_matches_are_filtered_out(
    small_catalog: Catalog, encoder: HashingEncoder
) -> None:
    retriever = Retriever.build(small_catalog, encoder)
    matches = retriever.search("sofa", Filters(categories=frozenset({"Lamps", "Desks"})), k=4, diversity=0.3)
    assert sorted(m.product.id for m in matches) == ["d1", "d2", "l1", "l2"]


def test_candidates_of_separate_searches_compare_once_scored_together(
    small_catalog: Catalog, encoder: HashingEncoder
) -> None:
    """BM25's share of a fused score is relative to the best candidate: two lists meet on one scale."""
    retriever = Retriever.build(small_catalog, encoder)
    text = "grey sofa"
    vector = retriever.embed_query(text)
    table = retriever.filter_table
    everything = retriever.candidates(vector, text, table.mask(Filters()), 10)
    lamps = retriever.candidates(vector, text, table.mask(Filters(categories=frozenset({"Lamps"}))), 10)
    assert np.allclose(retriever.fused_scores(text, everything.positions, everything.semantic), everything.fused)
    together = retriever.fused_scores(text, [*everything.positions, *lamps.positions],
                                      np.concatenate([everything.semantic, lamps.semantic]))
    lamp_scores = together[len(everything.positions):]
    assert lamp_scores.max() < together[: len(everything.positions)].max()  # no lamp beats the grey sofas
    assert retriever.dimension == encoder.dimension


def test_the_actions_use_the_retrievers_api_not_its_indexes() -> None:
    """The action server asks the retriever; FAISS and BM25 stay behind it (retrieval/search.py)."""
    import re

    from tests.conftest import ROOT

    reaching = [f"{path.name}:{n}" for path in sorted((ROOT / "actions").glob("*.py"))
                for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
                if re.search(r"retriever\.(index|lexical)\b", line)]
    assert not reaching, f"actions reach into the retriever's indexes: {reaching}"


def test_retriever_caches_query_vectors(small_catalog: Catalog) -> None:
    encoder = CountingEncoder()
    retriever = Retriever.build(small_catalog, encoder)
    before = encoder.encoded
    retriever.search("Grey  sofa")
    retriever.search("grey sofa")
    assert encoder.encoded == before + 1


def test_retriever_refuses_an_index_from_another_catalog(small_catalog: Catalog, encoder: HashingEncoder) -> None:
    other = Retriever.build(Catalog(list(small_catalog)[:3]), encoder)
    with pytest.raises(ValueError, match="another catalog"):
        Retriever(small_catalog, other.index, encoder)


def test_serving_processes_limit_the_query_encoder_and_faiss_threads() -> None:
    import faiss
    import torch

    from retrieval.encoder import OnnxEncoder
    from retrieval.settings import RetrievalSettings

    before = (faiss.omp_get_max_threads(), torch.get_num_threads())
    try:
        torch.set_num_threads(2)
        onnx = RetrievalSettings.from_env({"SHOPKEEPER_QUERY_THREADS": "1"})
        onnx.limit_serving_threads()
        # ONNX Runtime embeds the queries with its own thread count; torch is not theirs to limit.
        assert (faiss.omp_get_max_threads(), torch.get_num_threads()) == (1, 2)
        encoder = onnx.make_query_encoder()
        assert isinstance(encoder, OnnxEncoder) and encoder.threads == 2  # its own count: SHOPKEEPER_ENCODER_THREADS
        one = RetrievalSettings.from_env({"SHOPKEEPER_ENCODER_THREADS": "1"}).make_query_encoder()
        assert isinstance(one, OnnxEncoder) and one.threads == 1
        faiss.omp_set_num_threads(2)
        RetrievalSettings.from_env({"SHOPKEEPER_QUERY_ENCODER": "sentence-transformers"}).limit_serving_threads()
        assert (faiss.omp_get_max_threads(), torch.get_num_threads()) == (1, 1)
        assert RetrievalSettings.from_env({}).query_threads == 1
    finally:
        faiss.omp_set_num_threads(before[0])
        torch.set_num_threads(before[1])

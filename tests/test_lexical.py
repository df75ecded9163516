"""BM25 beside the vectors: scores, persistence with its catalog check, and fusion under the filters."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from retrieval.catalog import Catalog
from retrieval.encoder import HashingEncoder, Vectors
from retrieval.errors import IndexMismatchError, IndexNotBuiltError
from retrieval.filters import Filters
from retrieval.lexical import LexicalIndex, fuse
from retrieval.search import LEXICAL_DIR, Retriever, build_catalog_index
from tests.conftest import make_product


class BlindEncoder(HashingEncoder):
    """Embeds every text to nearly the same vector: a dense model that cannot tell names apart."""

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        base = np.ones((len(texts), self.dimension), dtype=np.float32)
        base[:, 0] += np.arange(len(texts), dtype=np.float32) * 1e-3
        return (base / np.linalg.norm(base, axis=1, keepdims=True)).astype(np.float32)


def ids(matches: Sequence[object]) -> list[str]:
    return [m.product.id for m in matches]  # type: ignore[attr-defined]


def test_words_are_stemmed_and_stop_words_score_nothing(small_catalog: Catalog) -> None:
    lexical = LexicalIndex.build(small_catalog)
    scores = lexical.scores("Sofas")
    sofas = [small_catalog.position(i) for i in ("s1", "s2", "s3", "s4")]
    assert all(scores[p] > 0 for p in sofas)
    assert scores[small_catalog.position("d1")] == 0
    assert not lexical.scores("the and of").any() and not lexical.scores("").any()
    assert not lexical.scores("zeppelin").any()
    assert lexical.scores("brixton").argmax() == small_catalog.position("s2")


def test_saved_index_scores_the_same_and_is_refused_for_another_catalog(tmp_path: Path,
                                                                         small_catalog: Catalog) -> None:
    built = LexicalIndex.build(small_catalog)
    built.save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex", expected_fingerprint=small_catalog.fingerprint())
    np.testing.assert_allclose(loaded.scores("grey linen sofa"), built.scores("grey linen sofa"))
    other = Catalog([make_product("x", "Walnut desk", "Desks", 100)])
    with pytest.raises(IndexMismatchError, match="catalog fingerprint"):
        LexicalIndex.load(tmp_path / "lex", expected_fingerprint=other.fingerprint())
    with pytest.raises(IndexNotBuiltError):
        LexicalIndex.load(tmp_path / "nothing-here")


def test_the_index_build_saves_both_and_restores_a_missing_lexical_index(tmp_path: Path,
                                                                          small_catalog: Catalog) -> None:
    encoder = HashingEncoder(64)
    build_catalog_index(small_catalog, encoder, tmp_path / "idx")
    retriever = Retriever.load(small_catalog, encoder, tmp_path / "idx")
    assert len(retriever.lexical) == len(small_catalog)
    shutil.rmtree(tmp_path / "idx" / LEXICAL_DIR)
    with pytest.raises(IndexNotBuiltError):
        Retriever.load(small_catalog, encoder, tmp_path / "idx")
    again = build_catalog_index(small_catalog, encoder, tmp_path / "idx")
    assert again.skipped  # the vectors were up to date: only the lexical index was rebuilt
    assert len(Retriever.load(small_catalog, encoder, tmp_path / "idx").lexical) == len(small_catalog)


def test_a_name_the_dense_model_cannot_see_is_found_by_the_fused_search(small_catalog: Catalog) -> None:
    retriever = Retriever.build(small_catalog, BlindEncoder(64))
    assert ids(retriever.search("brixton", k=1))[0] == "s2"
    assert ids(retriever.search("brixton", k=1, mode="lexical")) == ["s2"]
    assert ids(retriever.search("brixton", k=1, mode="dense"))[0] != "s2"
    # the hard filters hold for the lexical side too: no sofa when only desks are allowed
    desks = retriever.search("brixton leather sofa", Filters(categories=frozenset({"Desks"})), k=3)
    assert ids(desks) and all(m.product.category == "Desks" for m in desks)
    assert retriever.search("brixton", Filters(categories=frozenset({"Desks"})), k=3, mode="lexical") == []


def test_dense_mode_ranks_as_the_vectors_alone(small_catalog: Catalog) -> None:
    encoder = HashingEncoder(64)
    retriever = Retriever.build(small_catalog, encoder)
    query = "grey sofa for a small flat"
    vector = retriever.embed_query(query)
    hits = retriever.index.search(vector, 3)[0]  # distinct scores (the hashing encoder ties at 0 further down)
    assert ids(retriever.search(query, k=3, mode="dense")) == [small_catalog[h.position].id for h in hits]
    with pytest.raises(ValueError, match="mode"):
        retriever.search(query, mode="fuzzy")


def test_fusion_adds_a_scaled_lexical_score_and_nothing_without_one() -> None:
    dense = np.array([0.5, 0.45, 0.1])
    np.testing.assert_allclose(fuse(dense, np.array([0.0, 4.0, 2.0]), 0.2), [0.5, 0.65, 0.2])
    np.testing.assert_array_equal(fuse(dense, np.zeros(3), 0.2), dense)
    np.testing.assert_array_equal(fuse(dense, np.array([1.0, 2.0, 3.0]), 0.0), dense)

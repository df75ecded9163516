"""Shared fixtures: tiny catalogs, the hashing encoder, the foreign catalogs in ../shared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from retrieval.catalog import Catalog, Product
from retrieval.encoder import HashingEncoder
from retrieval.paths import PROJECT_ROOT

#: The repository (retrieval/paths.py computes it), as the tests name it.
ROOT = PROJECT_ROOT
SHARED_CATALOGS = ROOT.parent / "shared" / "catalogs"
DEMO_CATALOG = ROOT / "data" / "catalog" / "products.jsonl"
MAPPINGS = ROOT / "data" / "catalog" / "mappings"


@pytest.fixture
def shared_catalogs() -> Path:
    """The foreign catalogs beside the repository (CI has them)."""
    if not (SHARED_CATALOGS / "flipkart-sample.csv").is_file():
        pytest.skip(f"foreign catalogs not found at {SHARED_CATALOGS} (clone with ../shared beside the repo)")
    return SHARED_CATALOGS


@pytest.fixture
def encoder() -> HashingEncoder:
    return HashingEncoder(dimension=128)


def make_product(pid: str, title: str, category: str, price: float = 100.0, **attrs: object) -> Product:
    return Product(id=pid, title=title, price=price, currency="USD", category=category, **attrs)  # type: ignore[arg-type]


@pytest.fixture
def small_catalog() -> Catalog:
    return Catalog([
        make_product("s1", "Halden grey linen sofa", "Sofas", 699, colour="grey", material="linen", rating=4.6),
        make_product("s2", "Brixton brown leather sofa", "Sofas", 1299, colour="brown", material="leather"),
        make_product("s3", "Nook blue velvet sofa", "Sofas", 850, colour="blue", material="velvet", stock=0),
        make_product("s4", "Compact grey fabric sofa bed", "Sofas", 540, colour="grey", material="fabric"),
        make_product("d1", "Oak writing desk", "Desks", 320, colour="natural", material="oak"),
        make_product("d2", "Standing desk with steel frame", "Desks", 499, colour="black", material="steel"),
        make_product("l1", "Brass reading lamp", "Lamps", 89, colour="gold", material="brass"),
        make_product("l2", "Paper floor lamp", "Lamps", 59, colour="white", material="paper"),
        make_product("b1", "Trail hiking backpack 28 L", "Backpacks", 120, colour="olive", material="nylon"),
        make_product("b2", "Leather commuter backpack", "Backpacks", 210, colour="black", material="leather"),
    ])


def structured_vectors(count: int, dimension: int = 64, *, seed: int = 0, centres: int = 50) -> np.ndarray:
    """Unit vectors clustered around a few centres, like real embeddings (not uniform noise)."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(centres, dimension)).astype(np.float32)
    picks = rng.integers(0, centres, size=count)
    vectors = base[picks] + 0.35 * rng.normal(size=(count, dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors.astype(np.float32)

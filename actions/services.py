"""Heavy objects the actions share, built once on first use from the settings.

Nothing is loaded at import time: the action server starts fast and the
first recommendation loads the catalog, the index and the model.
"""

from __future__ import annotations

import functools
import logging

from retrieval.catalog import Catalog
from retrieval.index import VectorIndex
from retrieval.loaders import load_catalog
from retrieval.mapping import load_mapping
from retrieval.search import Retriever
from retrieval.settings import RetrievalSettings

__all__ = ["retriever", "settings"]

logger = logging.getLogger(__name__)


@functools.cache
def settings() -> RetrievalSettings:
    """The retrieval settings, read from the environment once."""
    return RetrievalSettings.from_env()


def _catalog(config: RetrievalSettings) -> Catalog:
    mapping = load_mapping(config.mapping_path) if config.mapping_path else None
    report = load_catalog(config.catalog_path, mapping, strict=False)
    if report.errors:
        logger.warning("catalog %s: %s", config.catalog_path, report.summary())
    return report.catalog


@functools.cache
def retriever() -> Retriever:
    """The catalog retriever (catalog + saved index + encoder), loaded once.

    Raises:
        CatalogError, IndexNotBuiltError, IndexMismatchError: when the catalog
            or its index is missing or out of date (``make index`` fixes it).
    """
    config = settings()
    catalog = _catalog(config)
    encoder = config.make_encoder()
    index = VectorIndex.load(
        config.index_dir, expected_model=encoder.name, expected_fingerprint=catalog.fingerprint()
    )
    logger.info("loaded %d products and a %s index from %s", len(catalog), index.manifest.kind, config.index_dir)
    return Retriever(catalog, index, encoder)

"""Retrieval settings, read once from the environment.

| variable | default | meaning |
|---|---|---|
| ``SHOPKEEPER_CATALOG`` | ``data/catalog/products.jsonl`` | the catalog in use |
| ``SHOPKEEPER_CATALOG_MAPPING`` | (none) | mapping file when the catalog is foreign |
| ``SHOPKEEPER_INDEX_DIR`` | ``build/index`` | where the index is saved |
| ``SHOPKEEPER_CACHE`` | ``build/embeddings.sqlite`` | the embedding cache |
| ``SHOPKEEPER_MODEL_PATH`` | (bundled all-MiniLM-L6-v2) | a sentence-transformers model directory |
| ``SHOPKEEPER_ENCODER`` | ``sentence-transformers`` | or ``hashing`` (tests, no model) |
| ``SHOPKEEPER_QUERY_ENCODER`` | ``onnx`` | serving processes embed queries on ``onnx`` or ``sentence-transformers`` |
| ``SHOPKEEPER_ONNX_MODEL`` | ``build/minilm-onnx/model.onnx`` | the exported model (``make setup`` writes it) |
| ``SHOPKEEPER_INDEX_KIND`` | ``auto`` | ``auto``, ``flat``, ``ivf`` or ``hnsw`` |
| ``SHOPKEEPER_QUERY_THREADS`` | ``1`` | FAISS, BLAS (and torch, when it embeds queries) threads in a serving process |
| ``SHOPKEEPER_ENCODER_THREADS`` | ``2`` | ONNX Runtime's threads for one query embedding in a serving process |

Relative paths are resolved against the project root (the folder holding
``pyproject.toml``), so commands work from any directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from retrieval.encoder import Encoder, HashingEncoder, OnnxEncoder, SentenceTransformerEncoder
from retrieval.paths import PROJECT_ROOT

__all__ = ["PROJECT_ROOT", "RetrievalSettings"]

_ENCODERS = ("sentence-transformers", "hashing")
_QUERY_ENCODERS = ("onnx", "sentence-transformers")


def _path(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path


@dataclass(frozen=True)
class RetrievalSettings:
    """Where the catalog, index and model are, and which encoder to use."""

    catalog_path: Path
    mapping_path: Path | None
    index_dir: Path
    cache_path: Path
    model_path: Path | None
    encoder: str = "sentence-transformers"
    index_kind: str = "auto"
    query_threads: int = 1
    encoder_threads: int = 2
    query_encoder: str = "onnx"
    onnx_path: Path = PROJECT_ROOT / "build" / "minilm-onnx" / "model.onnx"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> RetrievalSettings:
        """Read the settings from environment variables (see the module docstring).

        Raises:
            ValueError: for an unknown encoder name.
        """
        env = os.environ if environ is None else environ
        encoder = env.get("SHOPKEEPER_ENCODER", "sentence-transformers")
        if encoder not in _ENCODERS:
            raise ValueError(f"SHOPKEEPER_ENCODER must be one of {_ENCODERS}, not {encoder!r}")
        query_encoder = env.get("SHOPKEEPER_QUERY_ENCODER", "onnx")
        if query_encoder not in _QUERY_ENCODERS:
            raise ValueError(f"SHOPKEEPER_QUERY_ENCODER must be one of {_QUERY_ENCODERS}, not {query_encoder!r}")
        mapping = env.get("SHOPKEEPER_CATALOG_MAPPING")
        model = env.get("SHOPKEEPER_MODEL_PATH")
        return cls(
            catalog_path=_path(env.get("SHOPKEEPER_CATALOG", "data/catalog/products.jsonl")),
            mapping_path=_path(mapping) if mapping else None,
            index_dir=_path(env.get("SHOPKEEPER_INDEX_DIR", "build/index")),
            cache_path=_path(env.get("SHOPKEEPER_CACHE", "build/embeddings.sqlite")),
            model_path=_path(model) if model else None,
            encoder=encoder,
            index_kind=env.get("SHOPKEEPER_INDEX_KIND", "auto"),
            query_threads=int(env.get("SHOPKEEPER_QUERY_THREADS", "1")),
            encoder_threads=int(env.get("SHOPKEEPER_ENCODER_THREADS", "2")),
            query_encoder=query_encoder,
            onnx_path=_path(env.get("SHOPKEEPER_ONNX_MODEL", "build/minilm-onnx/model.onnx")),
        )

    def limit_serving_threads(self) -> None:
        """Give the query encoder, FAISS and BLAS ``query_threads`` threads in a process that answers queries.

        One query at a time gains nothing from a second thread on a small machine and
        loses a lot when the cores are shared: the retrieval benchmark measured the
        single-query encode p95 at 24 ms with one thread and 417 ms with two, and flat
        search 2–3× slower (docs/BENCHMARKS.md). numpy's BLAS too: the exact scan of a filtered
        search multiplies the allowed vectors, and on two shared cores its second thread took the
        recommendation p95 at 10,000 items from 2.2 to 8.4 ms ("Search at 10,000 items").
        Index builds keep the defaults. The ONNX query encoder takes its own count
        (``encoder_threads``): ONNX Runtime's caller thread works through a parallel loop itself
        when the other thread is busy elsewhere, so a second thread halved a message's p95
        on a quiet machine and cost nothing with both cores loaded (docs/BENCHMARKS.md, "One
        MiniLM runtime"); torch is imported (and limited) only when it embeds the queries.
        """
        import faiss
        from threadpoolctl import threadpool_limits

        faiss.omp_set_num_threads(self.query_threads)
        if self.encoder != "hashing" and self.query_encoder == "sentence-transformers":
            import torch

            torch.set_num_threads(self.query_threads)
        threadpool_limits(self.query_threads, user_api="blas")  # stays in force for the process

    def make_encoder(self) -> Encoder:
        """Build the configured encoder (the model itself loads on first use)."""
        if self.encoder == "hashing":
            return HashingEncoder()
        return SentenceTransformerEncoder(self.model_path)

    def make_query_encoder(self) -> Encoder:
        """The encoder a serving process embeds customers' queries with.

        The same network as :meth:`make_encoder`'s, on ONNX Runtime unless
        ``SHOPKEEPER_QUERY_ENCODER`` says ``sentence-transformers``; vectors agree to a
        cosine of 0.999 or better (tests/test_onnx_encoder.py), so an index built by one
        answers the other.
        """
        if self.encoder == "hashing" or self.query_encoder == "sentence-transformers":
            return self.make_encoder()
        return OnnxEncoder(self.onnx_path, self.model_path, threads=self.encoder_threads)

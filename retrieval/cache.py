"""Embedding cache keyed by content hash.

Rebuilding the index after a small catalog change must not re-embed the whole
catalog. Vectors are stored in a SQLite file under the key
``(model name, sha256 of the embedded text)``, so only new or edited items go
through the model.

>>> from retrieval.encoder import HashingEncoder
>>> cache = EmbeddingCache(":memory:")
>>> vectors, stats = cache.embed(HashingEncoder(16), ["a sofa", "a lamp"])
>>> stats.computed, stats.reused
(2, 0)
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from retrieval.encoder import Encoder, Vectors

__all__ = ["CacheStats", "EmbeddingCache", "text_key"]


def text_key(text: str) -> str:
    """The cache key of a text: its SHA-256 hex digest."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CacheStats:
    """How an :meth:`EmbeddingCache.embed` call was served."""

    reused: int
    computed: int


class EmbeddingCache:
    """Vectors by ``(model, text hash)`` in one SQLite file.

    Args:
        path: the SQLite file, created if missing; ``":memory:"`` for tests.
    """

    def __init__(self, path: str | Path) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path))
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS embeddings ("
            " model TEXT NOT NULL, key TEXT NOT NULL, dim INTEGER NOT NULL, vector BLOB NOT NULL,"
            " PRIMARY KEY (model, key))"
        )
        self._db.commit()

    def close(self) -> None:
        """Close the database file."""
        self._db.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM embeddings").fetchone()
        return int(row[0])

    def embed(
        self, encoder: Encoder, texts: Sequence[str], *, show_progress: bool = False
    ) -> tuple[Vectors, CacheStats]:
        """Embed texts, reusing cached vectors and storing new ones.

        Args:
            encoder: computes vectors for texts not in the cache.
            texts: n texts; duplicates are embedded once.
            show_progress: passed to the encoder for the texts it embeds.

        Returns:
            ``float32`` array ``(n, encoder.dimension)`` in input order, and
            how many texts were reused and computed.
        """
        keys = [text_key(t) for t in texts]
        found = self._lookup(encoder.name, encoder.dimension, set(keys))
        todo: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found and key not in todo:
                todo[key] = text
        if todo:
            fresh = encoder.encode(list(todo.values()), show_progress=show_progress)
            rows = []
            for key, vector in zip(todo, fresh, strict=True):
                vector = np.ascontiguousarray(vector, dtype=np.float32)
                found[key] = vector
                rows.append((encoder.name, key, encoder.dimension, vector.tobytes()))
            with self._db:
                self._db.executemany(
                    "INSERT OR REPLACE INTO embeddings (model, key, dim, vector) VALUES (?, ?, ?, ?)",
                    rows,
                )
        out = np.zeros((len(texts), encoder.dimension), dtype=np.float32)
        for row, key in enumerate(keys):
            out[row] = found[key]
        return out, CacheStats(reused=len(texts) - len(todo), computed=len(todo))

    def _lookup(self, model: str, dim: int, keys: set[str]) -> dict[str, Vectors]:
        found: dict[str, Vectors] = {}
        key_list = sorted(keys)
        for start in range(0, len(key_list), 500):
            chunk = key_list[start : start + 500]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key, vector FROM embeddings WHERE model = ? AND dim = ? AND key IN ({marks})"
            for key, blob in self._db.execute(query, [model, dim, *chunk]):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

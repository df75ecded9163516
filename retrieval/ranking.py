"""Re-ranking: maximal marginal relevance (MMR) for diverse result lists.

>>> import numpy as np
>>> vectors = np.array([[1, 0], [0.99, 0.14], [0, 1]], dtype="float32")
>>> mmr(np.array([1.0, 0.98, 0.5]), vectors, k=2, diversity=0.5)
[0, 2]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["mmr"]


def mmr(
    relevance: npt.ArrayLike,
    vectors: npt.ArrayLike,
    k: int,
    *,
    diversity: float = 0.3,
) -> list[int]:
    """Pick ``k`` items that are relevant but not alike (Carbonell & Goldstein, 1998).

    Each step takes the item maximising
    ``(1 - diversity) * relevance - diversity * max similarity to those already taken``.

    Args:
        relevance: ``(n,)`` scores, higher is better.
        vectors: ``(n, d)`` unit vectors of the same items.
        k: how many to pick (at most n).
        diversity: 0 keeps the relevance order; 1 only avoids repeats.

    Returns:
        Indices into the inputs, in pick order (the first is the most relevant).
    """
    scores = np.asarray(relevance, dtype=np.float64)
    matrix = np.asarray(vectors, dtype=np.float64)
    if not 0.0 <= diversity <= 1.0:
        raise ValueError(f"diversity must be within 0..1, got {diversity}")
    if scores.ndim != 1 or matrix.ndim != 2 or matrix.shape[0] != scores.shape[0]:
        raise ValueError(f"relevance (n,) and vectors (n, d) disagree: {scores.shape} vs {matrix.shape}")
    count = min(k, scores.shape[0])
    if count <= 0:
        return []
    chosen: list[int] = []
    redundancy = np.full(scores.shape[0], -np.inf)
    available = np.ones(scores.shape[0], dtype=bool)
    for _ in range(count):
        penalty = np.where(np.isinf(redundancy), 0.0, redundancy)
        objective = (1.0 - diversity) * scores - diversity * penalty
        objective[~available] = -np.inf
        best = int(np.argmax(objective))
        chosen.append(best)
        available[best] = False
        # Only the picked items' similarity rows are needed: k matrix-vector products, not the n x n
        # matrix, whose multithreaded BLAS product took milliseconds on shared cores (docs/BENCHMARKS.md,
        # "Search at 10,000 items").
        redundancy = np.maximum(redundancy, matrix @ matrix[best])
    return chosen

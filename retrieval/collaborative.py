"""What customers do with items: item-to-item models learned from who bought (or liked) what.

Two models are built from a customers × items matrix of 0/1 (did this customer ever take this item):

* **co-occurrence**: the cosine between two items' customer columns — "customers who bought this also
  bought", as a shopkeeper would count it;
* **EASE** (Steck, "Embarrassingly Shallow Autoencoders", WWW 2019): the item-item weights ``B`` that
  best rebuild each customer's row from their other items, in closed form
  ``B = I − P · diag(1/diag(P))`` with ``P = (XᵀX + λI)⁻¹`` and ``diag(B) = 0``.

A customer's scores are their items' rows of the weights, summed; items they already have are left out
by the caller. ``benchmarks/collaborative.py`` measures both beside popularity, a content-only ranking
and a maintained matrix-factorisation library on a real shop's orders.

>>> import numpy as np
>>> X = matrix_of([(0, 0), (0, 1), (1, 0), (1, 1), (2, 1), (2, 2)], customers=3, items=3)
>>> weights = cooccurrence(X)
>>> int(np.argmax(weights[0]))  # bought with item 0 most: item 1
1
>>> ease(X, 1.0).diagonal().tolist()
[0.0, 0.0, 0.0]
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from scipy import sparse

__all__ = ["cooccurrence", "ease", "matrix_of", "popularity", "scores"]


def matrix_of(pairs: Iterable[tuple[int, int]], *, customers: int, items: int) -> sparse.csr_matrix:
    """The customers × items 0/1 matrix of ``(customer, item)`` positions (repeats count once)."""
    found = list(pairs)
    rows, cols = zip(*found, strict=True) if found else ((), ())
    data = np.ones(len(rows), dtype=np.float32)
    matrix = sparse.csr_matrix((data, (rows, cols)), shape=(customers, items), dtype=np.float32)
    matrix.data[:] = 1.0  # duplicates were summed
    return matrix


def popularity(matrix: sparse.csr_matrix) -> np.ndarray:
    """How many customers took each item."""
    return np.asarray(matrix.sum(axis=0), dtype=np.float32).ravel()


def cooccurrence(matrix: sparse.csr_matrix) -> np.ndarray:
    """Item-item cosine of the customer columns, its diagonal zero (dense: items × items)."""
    gram = np.asarray((matrix.T @ matrix).todense(), dtype=np.float32)
    norms = np.sqrt(np.clip(gram.diagonal(), 1e-9, None))
    weights = gram / norms[:, None] / norms[None, :]
    np.fill_diagonal(weights, 0.0)
    return weights


def ease(matrix: sparse.csr_matrix, l2: float) -> np.ndarray:
    """EASE's item-item weights with regularisation ``l2`` (dense: items × items, diagonal zero)."""
    gram = np.asarray((matrix.T @ matrix).todense(), dtype=np.float64)
    gram[np.diag_indices_from(gram)] += l2
    inverse = np.linalg.inv(gram)
    weights = -inverse / inverse.diagonal()[None, :]
    np.fill_diagonal(weights, 0.0)
    return weights.astype(np.float32)


def scores(weights: np.ndarray, history: Iterable[int]) -> np.ndarray:
    """A customer's score for every item: the rows of their items summed."""
    positions = list(history)
    if not positions:
        return np.zeros(weights.shape[1], dtype=np.float32)
    return np.asarray(weights[positions].sum(axis=0), dtype=np.float32).ravel()

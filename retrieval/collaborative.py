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

import dataclasses
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from retrieval.catalog import Catalog
from retrieval.errors import IndexMismatchError
from retrieval.lexical import read_manifest

__all__ = ["DEFAULT_L2", "MIN_CUSTOMERS", "CollaborativeManifest", "CollaborativeModel", "collaborative_dir",
           "cooccurrence", "ease", "matrix_of", "popularity", "scores"]


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


#: The model's file format; a saved model of another version is refused.
FORMAT_VERSION = 1
#: EASE's regularisation: chosen on the dev customers of the shared orders (docs/BENCHMARKS.md, Collaborative).
DEFAULT_L2 = 50.0
#: Neighbours kept per item (the rest weigh little and would cost memory at 100,000 items).
NEIGHBOURS = 50
#: The fewest customers behind a "customers who bought … also bought" or a "popular" said to a shopper.
MIN_CUSTOMERS = 5


def collaborative_dir(index_dir: str | Path) -> Path:
    """Where a catalog's collaborative model lives: beside its index."""
    return Path(index_dir) / "collaborative"


@dataclass(frozen=True)
class CollaborativeManifest:
    """What a saved collaborative model was built from."""

    format_version: int
    catalog_fingerprint: str
    l2: float
    customers: int
    interactions: int
    items_with_data: int


class CollaborativeModel:
    """Each item's nearest items by what customers took together (EASE weights), with the counts behind them.

    Args:
        ids: the catalog's item ids, in catalog order.
        neighbours: per item, its neighbours' positions, best first (``-1`` pads).
        weights: the EASE weight of each neighbour.
        together: how many customers took both the item and the neighbour.
        customers: how many customers took each item.
        manifest: what it was built from.
    """

    def __init__(self, ids: Sequence[str], neighbours: np.ndarray, weights: np.ndarray, together: np.ndarray,
                 customers: np.ndarray, manifest: CollaborativeManifest) -> None:
        self.ids = list(ids)
        self.positions = {item: n for n, item in enumerate(self.ids)}
        self.neighbours, self.weights, self.together, self.customers = neighbours, weights, together, customers
        self.manifest = manifest

    @classmethod
    def build(cls, catalog: Catalog, taken: Iterable[tuple[str, str]], *, l2: float = DEFAULT_L2,
              keep: int = NEIGHBOURS) -> CollaborativeModel:
        """The model of ``(customer, item id)`` pairs; items not in the catalog are left out."""
        ids = [p.id for p in catalog]
        positions = {item: n for n, item in enumerate(ids)}
        people: dict[str, int] = {}
        pairs = [(people.setdefault(c, len(people)), positions[i]) for c, i in taken if i in positions]
        matrix = matrix_of(pairs, customers=len(people), items=len(ids))
        counts = popularity(matrix)
        used = np.flatnonzero(counts > 0)  # EASE over the items someone took: the rest have no weights
        sub = matrix[:, used]
        weights = ease(sub, l2) if len(used) else np.zeros((0, 0), dtype=np.float32)
        gram = np.asarray((sub.T @ sub).todense(), dtype=np.float32) if len(used) else weights
        keep = min(keep, max(len(used) - 1, 0))
        neighbours = np.full((len(ids), keep), -1, dtype=np.int32)
        kept_weights = np.zeros((len(ids), keep), dtype=np.float32)
        together = np.zeros((len(ids), keep), dtype=np.int32)
        for row, position in enumerate(used):  # the strongest either way: a negative weight keeps apart
            order = np.argsort(-np.abs(weights[row]), kind="stable")[:keep]
            order = order[weights[row][order] != 0]
            neighbours[position, :len(order)] = used[order]
            kept_weights[position, :len(order)] = weights[row][order]
            together[position, :len(order)] = gram[row][order]
        manifest = CollaborativeManifest(FORMAT_VERSION, catalog.fingerprint(), l2, len(people), len(pairs),
                                         len(used))
        return cls(ids, neighbours, kept_weights, together, counts.astype(np.int32), manifest)

    def scores(self, items: Iterable[str]) -> np.ndarray:
        """Every catalog item's score for a customer who took ``items`` (0 where nothing is known)."""
        found = np.zeros(len(self.ids), dtype=np.float32)
        for item in items:
            position = self.positions.get(item)
            if position is None:
                continue
            mask = self.neighbours[position] >= 0
            np.add.at(found, self.neighbours[position][mask], self.weights[position][mask])
        return found

    def popular(self, *, least: int = MIN_CUSTOMERS) -> dict[str, int]:
        """How many customers took each item, for the items at least ``least`` took: real counts or none."""
        return {item: int(n) for item, n in zip(self.ids, self.customers, strict=True) if n >= least}

    def bought_with(self, item: str, *, least: int = MIN_CUSTOMERS) -> list[tuple[str, int]]:
        """Items taken by at least ``least`` of the customers who took ``item``, closest first, with that count."""
        position = self.positions.get(item)
        if position is None:
            return []
        found = [(self.ids[n], int(c), float(w)) for n, c, w in zip(
            self.neighbours[position], self.together[position], self.weights[position], strict=True)
            if n >= 0 and c >= least and w > 0]
        return [(item, count) for item, count, _ in sorted(found, key=lambda f: -f[2])]

    def save(self, directory: str | Path) -> None:
        """Write the model, the manifest last (it marks the model complete)."""
        folder = Path(directory)
        folder.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(folder / "model.npz", neighbours=self.neighbours, weights=self.weights,
                            together=self.together, customers=self.customers)
        (folder / "ids.json").write_text(json.dumps(self.ids), encoding="utf-8")
        (folder / "manifest.json").write_text(json.dumps(dataclasses.asdict(self.manifest), indent=2),
                                              encoding="utf-8")

    @classmethod
    def load(cls, directory: str | Path, *, expected_fingerprint: str) -> CollaborativeModel:
        """The saved model, refused (:class:`IndexMismatchError`) for another catalog or format."""
        folder = Path(directory)
        manifest = read_manifest(folder / "manifest.json", CollaborativeManifest)
        if manifest.format_version != FORMAT_VERSION:
            raise IndexMismatchError(f"{folder}: collaborative model format {manifest.format_version}, "
                                     f"expected {FORMAT_VERSION}: rebuild it")
        if manifest.catalog_fingerprint != expected_fingerprint:
            raise IndexMismatchError(f"{folder}: built for another catalog: rebuild it "
                                     "(shopkeeper interactions build)")
        arrays = np.load(folder / "model.npz")
        ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        return cls(ids, arrays["neighbours"], arrays["weights"], arrays["together"], arrays["customers"], manifest)

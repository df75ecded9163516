"""The FAISS vector index: build, search (with filters), save and load.

Kinds:

* ``flat`` — exact inner-product search (``IndexFlatIP``); the default for
  catalogs below :data:`APPROXIMATE_THRESHOLD` items.
* ``ivf`` — inverted lists over 8-bit scalar-quantised vectors
  (``IVF{nlist},SQ8``): ~4× less memory than ``flat`` and sub-linear search;
  chosen automatically above the threshold.
* ``hnsw`` — graph search over full vectors (``HNSW32,Flat``): fastest, but
  needs more memory than ``flat``; available on request.

Search takes an optional boolean ``allowed`` mask (one entry per indexed
vector) and still returns ``k`` hits whenever ``k`` allowed items exist: it
passes the mask to FAISS as an ID selector and widens the search (more IVF
lists, a larger HNSW beam) until enough hits come back, and falls back to an
exact scan of the allowed items when they are few.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> vectors = rng.normal(size=(100, 8)).astype("float32")
>>> vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
>>> index = VectorIndex.build(vectors, [f"p{i}" for i in range(100)], model="demo")
>>> hits = index.search(vectors[:1], k=3)[0]
>>> hits[0].id, round(hits[0].score, 3)
('p0', 1.0)
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import faiss as _faiss
import numpy as np
import numpy.typing as npt

from retrieval.errors import IndexMismatchError, IndexNotBuiltError, VectorIndexError

__all__ = [
    "APPROXIMATE_THRESHOLD",
    "FORMAT_VERSION",
    "IndexManifest",
    "SearchHit",
    "VectorIndex",
]

#: Above this many vectors ``kind="auto"`` builds an approximate (IVF) index.
APPROXIMATE_THRESHOLD = 20_000
#: Allowed sets this small are scanned exactly instead of searched.
EXACT_SCAN_LIMIT = 4_096
FORMAT_VERSION = 1
_KINDS = ("auto", "flat", "ivf", "hnsw")
_INDEX_FILE = "vectors.faiss"
_IDS_FILE = "ids.json"
_MANIFEST_FILE = "manifest.json"

# The stubs bundled with faiss-cpu lack the search-parameter classes and the
# HNSW attributes used here, so the module is used untyped.
faiss: Any = _faiss

Matrix = npt.NDArray[np.float32]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class SearchHit:
    """One search result.

    Attributes:
        position: the vector's 0-based position in the index (= catalog order).
        id: the product id stored for that position.
        score: inner product with the query (cosine for unit vectors).
    """

    position: int
    id: str
    score: float


@dataclass(frozen=True)
class IndexManifest:
    """What a saved index was built from; checked before an index is reused."""

    model: str
    dimension: int
    count: int
    kind: str
    catalog_fingerprint: str
    built_at: str
    params: dict[str, Any] = field(default_factory=dict)
    faiss_version: str = faiss.__version__
    format_version: int = FORMAT_VERSION


def _normalise_queries(queries: npt.ArrayLike, dimension: int) -> Matrix:
    array = np.asarray(queries, dtype=np.float32)
    if array.ndim == 1:
        array = array[None, :]
    if array.ndim != 2 or array.shape[1] != dimension:
        raise ValueError(f"queries must have shape (n, {dimension}), got {array.shape}")
    return np.ascontiguousarray(array)


def default_nlist(count: int) -> int:
    """Number of IVF lists for ``count`` vectors: ~4·√n, a power of two, ≥ 16."""
    target = 4 * math.sqrt(max(count, 1))
    return int(max(16, 2 ** round(math.log2(target))))


def default_nprobe(nlist: int) -> int:
    """IVF lists visited per query by default (tuned by ``benchmarks/retrieval_bench.py``)."""
    return int(min(nlist, max(16, nlist // 32)))


def _checked_matrix(vectors: npt.ArrayLike, ids: Sequence[str], kind: str) -> npt.NDArray[np.float32]:
    """The vectors as a contiguous float32 ``(n, d)`` matrix, after checking them against the ids and kind.

    Raises:
        ValueError: on mismatched shapes, no vectors or an unknown kind.
    """
    matrix = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if matrix.ndim != 2 or matrix.shape[0] == 0:
        raise ValueError(f"vectors must be a non-empty (n, d) array, got shape {matrix.shape}")
    if matrix.shape[0] != len(ids):
        raise ValueError(f"{matrix.shape[0]} vectors but {len(ids)} ids")
    if kind not in _KINDS:
        raise ValueError(f"kind must be one of {_KINDS}, not {kind!r}")
    return matrix


def _trained_ivf(matrix: npt.NDArray[np.float32], *, nlist: int | None, nprobe: int | None,
                 seed: int) -> tuple[faiss.Index, dict[str, Any]]:
    """An IVF + 8-bit SQ index trained on (a seeded sample of) ``matrix``, and its manifest parameters."""
    count, dimension = matrix.shape
    lists = nlist or default_nlist(count)
    lists = min(lists, max(1, count // 39))  # FAISS wants ≥ 39 training points per list
    index = faiss.index_factory(dimension, f"IVF{lists},SQ8", faiss.METRIC_INNER_PRODUCT)
    train = matrix
    if count > lists * 64:
        rng = np.random.default_rng(seed)
        train = matrix[rng.choice(count, lists * 64, replace=False)]
    faiss.extract_index_ivf(index).cp.seed = seed
    index.train(train)
    return index, {"nlist": lists, "nprobe": nprobe or default_nprobe(lists)}


class VectorIndex:
    """A FAISS index plus the product ids of its rows and its manifest.

    Build with :meth:`build` or :meth:`load`, not the constructor.
    """

    def __init__(self, index: faiss.Index, ids: Sequence[str], manifest: IndexManifest) -> None:
        if index.ntotal != len(ids):
            raise VectorIndexError(f"index holds {index.ntotal} vectors but {len(ids)} ids were given")
        self._index = index
        self._ids = list(ids)
        self.manifest = manifest
        #: Filtered searches allowing at most this many items scan them exactly.
        self.exact_scan_limit = EXACT_SCAN_LIMIT
        self._ivf = faiss.try_extract_index_ivf(index) if manifest.kind == "ivf" else None
        if self._ivf is not None:
            self._ivf.make_direct_map()  # lets reconstruct() serve MMR and exact fallbacks
            self._ivf.nprobe = int(manifest.params.get("nprobe", default_nprobe(self._ivf.nlist)))
        if manifest.kind == "hnsw":
            faiss.downcast_index(index).hnsw.efSearch = int(manifest.params.get("ef_search", 256))

    # -- building -----------------------------------------------------------------

    @classmethod
    def build(
        cls,
        vectors: npt.ArrayLike,
        ids: Sequence[str],
        *,
        model: str,
        catalog_fingerprint: str = "",
        kind: str = "auto",
        approximate_threshold: int = APPROXIMATE_THRESHOLD,
        nlist: int | None = None,
        nprobe: int | None = None,
        hnsw_m: int = 32,
        seed: int = 1234,
    ) -> VectorIndex:
        """Build an index over unit-length vectors.

        Args:
            vectors: ``(n, d)`` float array, rows L2-normalised.
            ids: n product ids, row order.
            model: the encoder name (recorded in the manifest).
            catalog_fingerprint: :meth:`Catalog.fingerprint` of the source.
            kind: ``"auto"``, ``"flat"``, ``"ivf"`` or ``"hnsw"``.
            approximate_threshold: with ``auto``, the size above which ``ivf`` is used.
            nlist: IVF lists (default :func:`default_nlist`).
            nprobe: IVF lists searched per query (default :func:`default_nprobe`).
            hnsw_m: HNSW graph degree.
            seed: k-means seed, so the same data gives the same index.

        Returns:
            The built index.

        Raises:
            ValueError: on mismatched shapes, no vectors or an unknown kind.
        """
        matrix = _checked_matrix(vectors, ids, kind)
        count, dimension = matrix.shape
        if kind == "auto":
            kind = "ivf" if count > approximate_threshold else "flat"
        params: dict[str, Any] = {}
        index: faiss.Index
        if kind == "flat":
            index = faiss.IndexFlatIP(dimension)
        elif kind == "hnsw":
            index = faiss.IndexHNSWFlat(dimension, hnsw_m, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            params = {"m": hnsw_m, "ef_search": 256}
        else:
            index, params = _trained_ivf(matrix, nlist=nlist, nprobe=nprobe, seed=seed)
        index.add(matrix)
        manifest = IndexManifest(
            model=model,
            dimension=dimension,
            count=count,
            kind=kind,
            catalog_fingerprint=catalog_fingerprint,
            built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            params=params,
        )
        return cls(index, ids, manifest)

    # -- properties ---------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def ids(self) -> list[str]:
        """Product ids in row order."""
        return list(self._ids)

    @property
    def dimension(self) -> int:
        """Vector length."""
        return int(self._index.d)

    @property
    def faiss_index(self) -> faiss.Index:
        """The underlying FAISS index (for benchmarks and diagnostics)."""
        return self._index

    def set_search_effort(self, *, nprobe: int | None = None, ef_search: int | None = None) -> None:
        """Trade speed for recall: IVF lists per query, or the HNSW beam width."""
        if nprobe is not None and self._ivf is not None:
            self._ivf.nprobe = int(min(nprobe, self._ivf.nlist))
        if ef_search is not None and self.manifest.kind == "hnsw":
            faiss.downcast_index(self._index).hnsw.efSearch = int(ef_search)

    def reconstruct(self, positions: Sequence[int] | npt.NDArray[np.int64]) -> Matrix:
        """The stored vectors at these positions, ``(len(positions), d)``.

        For ``ivf`` these are the 8-bit-quantised vectors (close, not exact).
        """
        keys = np.asarray(positions, dtype=np.int64)
        if keys.size == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._index.reconstruct_batch(keys), dtype=np.float32)

    # -- searching ----------------------------------------------------------------

    def search(
        self,
        queries: npt.ArrayLike,
        k: int = 10,
        *,
        allowed: Mask | None = None,
    ) -> list[list[SearchHit]]:
        """Find the ``k`` vectors with the highest inner product per query.

        Args:
            queries: ``(d,)`` or ``(n, d)`` float array.
            k: hits per query.
            allowed: optional boolean mask of length ``len(self)``; only
                positions where it is true are returned.

        Returns:
            n lists of at most ``k`` hits, best first; a list is shorter than
            ``k`` only when fewer than ``k`` positions are allowed.
        """
        matrix = _normalise_queries(queries, self.dimension)
        if k <= 0 or len(self) == 0:
            return [[] for _ in range(len(matrix))]
        if allowed is None:
            scores, positions = self._index.search(matrix, min(k, len(self)))
            return [self._hits(s, p) for s, p in zip(scores, positions, strict=True)]
        allowed = np.asarray(allowed, dtype=bool)
        if allowed.shape != (len(self),):
            raise ValueError(f"allowed must have shape ({len(self)},), got {allowed.shape}")
        candidates = np.flatnonzero(allowed)
        want = min(k, candidates.size)
        if want == 0:
            return [[] for _ in range(len(matrix))]
        few = candidates.size <= self.exact_scan_limit
        if few or (self.manifest.kind == "flat" and candidates.size < len(self) // 8):
            return self._exact_scan(matrix, candidates, want)
        return [self._filtered_search(query, want, allowed) for query in matrix]

    def _hits(self, scores: npt.NDArray[np.float32], positions: npt.NDArray[np.int64]) -> list[SearchHit]:
        return [
            SearchHit(int(p), self._ids[int(p)], float(s))
            for s, p in zip(scores, positions, strict=True)
            if p >= 0
        ]

    def _exact_scan(self, matrix: Matrix, candidates: npt.NDArray[np.int64], want: int) -> list[list[SearchHit]]:
        vectors = self.reconstruct(candidates)
        scores = matrix @ vectors.T
        results = []
        for row in scores:
            top = np.argpartition(-row, want - 1)[:want] if want < row.size else np.arange(row.size)
            top = top[np.lexsort((candidates[top], -row[top]))]
            results.append([SearchHit(int(candidates[i]), self._ids[int(candidates[i])], float(row[i])) for i in top])
        return results

    def _filtered_search(self, query: Matrix, want: int, allowed: Mask) -> list[SearchHit]:
        bitmap = np.packbits(allowed, bitorder="little")
        selector = faiss.IDSelectorBitmap(len(allowed), faiss.swig_ptr(bitmap))
        query = query[None, :]
        if self._ivf is not None:
            nprobe = self._ivf.nprobe
            while True:
                params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
                scores, positions = self._index.search(query, want, params=params)
                hits = self._hits(scores[0], positions[0])
                if len(hits) >= want or nprobe >= self._ivf.nlist:
                    return hits
                nprobe = min(self._ivf.nlist, nprobe * 4)  # widen: visit more lists
        if self.manifest.kind == "hnsw":
            ef = max(want, int(faiss.downcast_index(self._index).hnsw.efSearch))
            for _ in range(4):
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=ef)
                scores, positions = self._index.search(query, want, params=params)
                hits = self._hits(scores[0], positions[0])
                if len(hits) >= want:
                    return hits
                ef *= 4  # widen the beam
            return self._exact_scan(query, np.flatnonzero(allowed), want)[0]
        params = faiss.SearchParameters(sel=selector)
        scores, positions = self._index.search(query, want, params=params)
        return self._hits(scores[0], positions[0])

    # -- persistence --------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write ``vectors.faiss``, ``ids.json`` and ``manifest.json`` to a directory.

        Files are written beside the old ones and renamed into place, so a
        reader never sees half an index.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        staged = {
            _INDEX_FILE: directory / f".{_INDEX_FILE}.tmp",
            _IDS_FILE: directory / f".{_IDS_FILE}.tmp",
            _MANIFEST_FILE: directory / f".{_MANIFEST_FILE}.tmp",
        }
        faiss.write_index(self._index, str(staged[_INDEX_FILE]))
        staged[_IDS_FILE].write_text(json.dumps(self._ids, ensure_ascii=False), encoding="utf-8")
        staged[_MANIFEST_FILE].write_text(json.dumps(asdict(self.manifest), indent=2) + "\n", encoding="utf-8")
        for name, tmp in staged.items():  # manifest last: it marks the index complete
            tmp.replace(directory / name)
        return directory

    @staticmethod
    def read_manifest(directory: str | Path) -> IndexManifest:
        """Read only the manifest of a saved index.

        Raises:
            IndexNotBuiltError: when there is no manifest.
            VectorIndexError: when it is unreadable.
        """
        path = Path(directory) / _MANIFEST_FILE
        if not path.is_file():
            raise IndexNotBuiltError(str(directory))
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return IndexManifest(**data)
        except (ValueError, TypeError) as exc:
            raise VectorIndexError(f"{path}: unreadable manifest: {exc}") from exc

    @classmethod
    def load(
        cls,
        directory: str | Path,
        *,
        expected_model: str | None = None,
        expected_dimension: int | None = None,
        expected_fingerprint: str | None = None,
    ) -> VectorIndex:
        """Load a saved index, refusing one that does not fit.

        Args:
            directory: where :meth:`save` wrote it.
            expected_model: the encoder that will embed queries.
            expected_dimension: that encoder's dimension.
            expected_fingerprint: the fingerprint of the catalog in use.

        Raises:
            IndexNotBuiltError: when nothing was saved there.
            IndexMismatchError: when the model, dimension, catalog or format differ.
        """
        manifest = cls.read_manifest(directory)
        problems = []
        if manifest.format_version != FORMAT_VERSION:
            problems.append(f"format version {manifest.format_version} (this code reads {FORMAT_VERSION})")
        if expected_model is not None and manifest.model != expected_model:
            problems.append(f"model {manifest.model!r} (expected {expected_model!r})")
        if expected_dimension is not None and manifest.dimension != expected_dimension:
            problems.append(f"dimension {manifest.dimension} (expected {expected_dimension})")
        if expected_fingerprint is not None and manifest.catalog_fingerprint != expected_fingerprint:
            problems.append(
                f"catalog fingerprint {manifest.catalog_fingerprint[:12]}… "
                f"(the catalog now is {expected_fingerprint[:12]}…)"
            )
        if problems:
            raise IndexMismatchError(
                f"the index in {str(directory)!r} does not match: " + "; ".join(problems)
                + ". Rebuild it with `shopkeeper index build`."
            )
        directory = Path(directory)
        index = faiss.read_index(str(directory / _INDEX_FILE))
        ids = json.loads((directory / _IDS_FILE).read_text(encoding="utf-8"))
        if index.ntotal != manifest.count or len(ids) != manifest.count or index.d != manifest.dimension:
            raise IndexMismatchError(
                f"the index files in {str(directory)!r} disagree with their manifest "
                f"({index.ntotal} vectors, {len(ids)} ids, dimension {index.d}; manifest says "
                f"{manifest.count} of dimension {manifest.dimension})"
            )
        return cls(index, ids, manifest)

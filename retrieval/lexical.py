"""Lexical retrieval: BM25 over the words of each product, beside the dense index.

Dense MiniLM vectors find "something to sit on" but blur names, model numbers
and rare words ("lego", "kuma", "GE-7044"); BM25 finds exactly those. The two
are fused (:func:`fuse`) under the same hard filters.

Built with `bm25s <https://github.com/xhluca/bm25s>`_ (BM25 as sparse NumPy
matrices: no server, a few milliseconds to score 10,000 items, saved and loaded
as plain ``.npy`` files) and the Snowball English stemmer of PyStemmer, so
"sofas" finds "sofa". SQLite FTS5 was the other candidate: it ranks well but
returns only matching rows, while fusion under a filter mask wants a score for
every allowed item; tantivy needs a schema and a writer for what is here a
read-only array. See docs/BENCHMARKS.md, "Query benchmark", for the figures.

>>> from retrieval.catalog import Catalog, Product
>>> catalog = Catalog([Product("a", "Grey linen sofa", 700.0, "USD", "Sofas"),
...                    Product("b", "LEGO Star Wars X-wing", 50.0, "USD", "Building Toys")])
>>> lexical = LexicalIndex.build(catalog)
>>> [round(float(s), 2) > 0 for s in lexical.scores("lego")]
[False, True]
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TypeVar

import bm25s
import numpy as np
import numpy.typing as npt
import Stemmer

from retrieval.catalog import Catalog, Product
from retrieval.errors import IndexMismatchError, IndexNotBuiltError

__all__ = ["LEXICAL_FORMAT", "LexicalIndex", "LexicalManifest", "fuse", "lexical_text"]

#: Bumped when the text or tokenisation changes, so saved indexes are rebuilt.
LEXICAL_FORMAT = 1
_MANIFEST = "lexical.json"
_Manifest = TypeVar("_Manifest")
_DESCRIPTION_WORDS = 60

logging.getLogger("bm25s").setLevel(logging.WARNING)


def lexical_text(product: Product) -> str:
    """The words BM25 matches: title and category twice (they say what the item is), then the rest.

    The description is cut to its first words: a long one would otherwise
    dilute every other field through BM25's length normalisation.
    """
    attributes = [v for v in (product.brand, product.colour, product.material, product.style, product.use) if v]
    description = " ".join(product.description.split()[:_DESCRIPTION_WORDS])
    return " ".join([product.title, product.title, product.category, product.category, *attributes,
                     *product.tags, description])


def read_manifest(path: Path, kind: type[_Manifest]) -> _Manifest:
    """A saved index's manifest (written last: it marks the index complete), as ``kind``.

    Raises:
        IndexNotBuiltError: when there is none, so nothing complete was saved.
        IndexMismatchError: when it cannot be read as ``kind``.
    """
    if not path.is_file():
        raise IndexNotBuiltError(str(path.parent))
    try:
        return kind(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise IndexMismatchError(f"{path}: unreadable manifest: {exc}") from exc


@dataclass(frozen=True)
class LexicalManifest:
    """What a saved lexical index was built from."""

    format_version: int
    catalog_fingerprint: str
    count: int


class LexicalIndex:
    """BM25 scores of a query for every product of a catalog, in catalog order."""

    def __init__(self, model: bm25s.BM25, manifest: LexicalManifest) -> None:
        self._model = model
        self.manifest = manifest
        self._stemmer = Stemmer.Stemmer("english")

    @classmethod
    def build(cls, catalog: Catalog) -> LexicalIndex:
        """Index every product's :func:`lexical_text`."""
        stemmer = Stemmer.Stemmer("english")
        tokens = bm25s.tokenize([lexical_text(p) for p in catalog], stemmer=stemmer, show_progress=False)
        model = bm25s.BM25()
        model.index(tokens, show_progress=False)
        return cls(model, LexicalManifest(LEXICAL_FORMAT, catalog.fingerprint(), len(catalog)))

    def __len__(self) -> int:
        return self.manifest.count

    def tokens(self, query: str) -> list[str]:
        """The stemmed words of a query, stop words left out."""
        tokenized = bm25s.tokenize(query, stemmer=self._stemmer, return_ids=False, show_progress=False)
        return [str(t) for t in tokenized[0]] if tokenized else []

    def scores(self, query: str) -> npt.NDArray[np.float32]:
        """BM25 score of every product for the query (0 where no query word occurs)."""
        words = self.tokens(query)
        if not words:
            return np.zeros(self.manifest.count, dtype=np.float32)
        return np.asarray(self._model.get_scores(words), dtype=np.float32)

    # -- persistence --------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write the index under ``directory`` (the manifest last: it marks the index complete)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / _MANIFEST).unlink(missing_ok=True)
        self._model.save(str(directory), show_progress=False)
        (directory / _MANIFEST).write_text(json.dumps(asdict(self.manifest), indent=2) + "\n", encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, expected_fingerprint: str | None = None) -> LexicalIndex:
        """Load a saved index, refusing one built from another catalog or format.

        Raises:
            IndexNotBuiltError: when nothing complete was saved there.
            IndexMismatchError: when the catalog or the format differ.
        """
        directory = Path(directory)
        manifest = read_manifest(directory / _MANIFEST, LexicalManifest)
        problems = []
        if manifest.format_version != LEXICAL_FORMAT:
            problems.append(f"format version {manifest.format_version} (this code reads {LEXICAL_FORMAT})")
        if expected_fingerprint is not None and manifest.catalog_fingerprint != expected_fingerprint:
            problems.append(f"catalog fingerprint {manifest.catalog_fingerprint[:12]}… "
                            f"(the catalog now is {expected_fingerprint[:12]}…)")
        if problems:
            raise IndexMismatchError(f"the lexical index in {str(directory)!r} does not match: "
                                     + "; ".join(problems) + ". Rebuild it with `shopkeeper index build`.")
        model = bm25s.BM25.load(str(directory), show_progress=False)
        return cls(model, manifest)


def fuse(dense: npt.NDArray[np.floating], lexical: npt.NDArray[np.floating], weight: float) -> npt.NDArray[np.float64]:
    """Dense similarity plus ``weight`` × the BM25 score scaled to [0, 1] among the candidates.

    A convex-style combination of normalised scores rather than reciprocal rank
    fusion: it keeps the dense score's scale, which the reranking weights are
    set against, and it lets a strong lexical match (a name, a model number)
    count for more than one rank place (Bruch et al., "An analysis of fusion
    functions for hybrid retrieval", TOIS 2023, found it at least as good as RRF).

    >>> fuse(np.array([0.5, 0.4]), np.array([0.0, 6.0]), 0.2).round(2).tolist()
    [0.5, 0.6]
    """
    base: npt.NDArray[np.float64] = np.asarray(dense, dtype=np.float64)
    words: npt.NDArray[np.float64] = np.asarray(lexical, dtype=np.float64)
    top = float(words.max()) if words.size else 0.0
    if top <= 0.0 or weight == 0.0:
        return base
    fused: npt.NDArray[np.float64] = base + weight * (words / top)
    return fused

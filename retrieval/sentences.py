"""The sentences of every product description, split once and embedded once, kept beside the catalog's index.

Questions about an item are answered from its description's sentences (:mod:`retrieval.answers`). Splitting
and embedding them when the question comes costs a long description a third of a second on the serving
thread; a :class:`SentenceIndex` does it when the index is built (``shopkeeper index build``), with the
embedding cache, and the action server reads an item's vectors as a slice. An index built by other
splitting code (:data:`SPLIT_VERSION`), for another catalog or model, is refused and rebuilt; with none,
the answers embed what they need as they go.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pysbd

from retrieval.cache import EmbeddingCache
from retrieval.catalog import Catalog
from retrieval.encoder import Encoder
from retrieval.errors import IndexMismatchError, IndexNotBuiltError
from retrieval.lexical import read_manifest

__all__ = ["SENTENCES_DIR", "SPLIT_VERSION", "SentenceIndex", "ensure_sentence_index", "sentences"]

#: Where the sentence index lives inside the catalog's index directory.
SENTENCES_DIR = "sentences"
#: Bumped whenever :func:`sentences` splits differently: a stored index of another version is rebuilt.
SPLIT_VERSION = 1
_MANIFEST = "manifest.json"
#: Breaks pysbd does not know: " | " joins (Amazon's descriptions), line breaks and bullets.
_SENTENCE_BREAK = re.compile(r"\s+\|\s+|\n+|\s+•\s*")
#: A sentence this long is offered clause by clause too.
LONG_SENTENCE = 20
#: Words in each window of a long clause.
WINDOW = 12
#: Clauses of a long sentence: after a comma, semicolon or colon.
_CLAUSE = re.compile(r"(?<=[,;:])\s+")
#: A sentence glued to the next without a space ("TSA lockOne handle"): a lower-case word running into a capital.
_GLUED = re.compile(r"(?:(?<=[a-z]{2})|(?<=[%)]))(?=[A-Z][a-z])")


@functools.lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def sentences(description: str) -> list[str]:
    """The sentences of a description, long ones also as their clauses.

    pysbd finds the boundaries (abbreviations and lower-case text included); " | " joins and line breaks
    are boundaries too; a description glued without spaces ("lockOne handle") is split where a lower-case
    word runs into a capital; a sentence of more than :data:`LONG_SENTENCE` words is also offered clause by
    clause (and a long clause as overlapping windows of words), so the part that answers is not drowned
    by the rest.

    >>> sentences("Soft cotton. Machine wash cold | Made in India")
    ['Soft cotton.', 'Machine wash cold', 'Made in India']
    >>> sentences("Black trolley bag, secured with a TSA lockOne handle on the topWarranty: 5 years")
    ['Black trolley bag, secured with a TSA lock', 'One handle on the top', 'Warranty: 5 years']
    """
    parts = [s.strip() for p in _SENTENCE_BREAK.split(description or "") if p.strip()
             for s in _segmenter().segment(p) if s.strip()]
    glued = sum(len(_GLUED.findall(p)) for p in parts)
    if glued >= max(2, len(parts)):  # a description written without spaces between its sentences
        parts = [g.strip() for p in parts for g in _GLUED.split(p) if g.strip()]
    found = []
    for part in parts:
        found.append(part)
        if len(part.split()) > LONG_SENTENCE:
            clauses = [c.strip() for c in _CLAUSE.split(part) if len(c.split()) >= 3]
            found += [w for c in clauses for w in ([c] if len(c.split()) <= LONG_SENTENCE else _windows(c))]
    return list(dict.fromkeys(p for p in found if len(p) > 2))


def _windows(text: str) -> list[str]:
    """A long run of words without a comma, as overlapping windows of :data:`WINDOW` words."""
    words = text.split()
    step = WINDOW // 2
    return [" ".join(words[i:i + WINDOW]) for i in range(0, max(1, len(words) - step), step)]




@dataclass(frozen=True)
class SentenceManifest:
    """What a saved sentence index was built from."""

    model: str
    catalog_fingerprint: str
    split_version: int
    items: int
    sentences: int


class SentenceIndex:
    """Each item's description sentences and their unit vectors, in catalog order.

    Args:
        ids: the catalog's ids, in order.
        offsets: ``len(ids) + 1`` positions: item ``i``'s sentences are ``offsets[i]:offsets[i+1]``.
        texts: every sentence, item after item.
        vectors: one ``float16`` row per sentence (half the memory; cosine agrees to three decimals).
        manifest: what it was built from.
    """

    def __init__(self, ids: Sequence[str], offsets: npt.NDArray[np.int64], texts: Sequence[str],
                 vectors: npt.NDArray[np.float16], manifest: SentenceManifest) -> None:
        if len(offsets) != len(ids) + 1 or int(offsets[-1]) != len(texts) or len(texts) != len(vectors):
            raise ValueError("a sentence index needs one offset per item and one vector per sentence")
        self._position = {item_id: i for i, item_id in enumerate(ids)}
        self.offsets = offsets
        self.texts = list(texts)
        self.vectors = vectors
        self.manifest = manifest

    def of(self, item_id: str) -> tuple[list[str], npt.NDArray[np.float32]] | None:
        """An item's sentences and their vectors, or ``None`` when the item is not in this index."""
        position = self._position.get(item_id)
        if position is None:
            return None
        start, end = int(self.offsets[position]), int(self.offsets[position + 1])
        return self.texts[start:end], self.vectors[start:end].astype(np.float32)

    @classmethod
    def build(cls, catalog: Catalog, encoder: Encoder, *, cache: EmbeddingCache | None = None,
              show_progress: bool = False) -> SentenceIndex:
        """Split and embed every description (the cache reuses sentences embedded before)."""
        split = [sentences(p.description) for p in catalog]
        texts = [s for item in split for s in item]
        offsets = np.zeros(len(split) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(item) for item in split])
        if not texts:
            vectors = np.zeros((0, encoder.dimension), dtype=np.float32)
        elif cache is not None:
            vectors, _ = cache.embed(encoder, texts, show_progress=show_progress)
        else:
            vectors = encoder.encode(texts, show_progress=show_progress)
        manifest = SentenceManifest(encoder.name, catalog.fingerprint(), SPLIT_VERSION, len(split), len(texts))
        return cls(catalog.ids, offsets, texts, np.asarray(vectors, dtype=np.float16), manifest)

    def save(self, directory: str | Path) -> Path:
        """Write the index under ``directory`` (the manifest last: it marks the index complete)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / _MANIFEST).unlink(missing_ok=True)
        np.save(directory / "offsets.npy", self.offsets)
        np.save(directory / "vectors.npy", self.vectors)
        (directory / "ids.json").write_text(json.dumps(list(self._position)), encoding="utf-8")
        (directory / "texts.json").write_text(json.dumps(self.texts), encoding="utf-8")
        (directory / _MANIFEST).write_text(json.dumps(asdict(self.manifest), indent=2) + "\n", encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path, *, expected_model: str, expected_fingerprint: str) -> SentenceIndex:
        """Load a saved index, refusing one built from another catalog, model or splitting.

        Raises:
            IndexNotBuiltError: when nothing complete was saved there.
            IndexMismatchError: when it was built from something else.
        """
        directory = Path(directory)
        manifest = read_manifest(directory / _MANIFEST, SentenceManifest)
        if (manifest.model, manifest.catalog_fingerprint, manifest.split_version) != \
                (expected_model, expected_fingerprint, SPLIT_VERSION):
            raise IndexMismatchError(f"the sentence index in {str(directory)!r} was built from another catalog, "
                                     "model or splitting. Rebuild it with `shopkeeper index build`.")
        ids = json.loads((directory / "ids.json").read_text(encoding="utf-8"))
        texts = json.loads((directory / "texts.json").read_text(encoding="utf-8"))
        return cls(ids, np.load(directory / "offsets.npy"), texts, np.load(directory / "vectors.npy"), manifest)


def ensure_sentence_index(catalog: Catalog, encoder: Encoder, directory: str | Path, *,
                          cache: EmbeddingCache | None = None, show_progress: bool = False) -> SentenceIndex:
    """The saved sentence index of the catalog, built and saved first when missing or stale."""
    try:
        return SentenceIndex.load(directory, expected_model=encoder.name, expected_fingerprint=catalog.fingerprint())
    except (IndexNotBuiltError, IndexMismatchError):
        index = SentenceIndex.build(catalog, encoder, cache=cache, show_progress=show_progress)
        index.save(directory)
        return index

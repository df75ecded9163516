"""Talk the shop knows is not about its products, recognised by meaning.

The NLU's ``out_of_scope`` intent is trained on the demo catalog's shoppers, so on another shop it also
takes real needs for small talk: "my phone battery never lasts the day" (0.96), "music while i jog, no
wires" (0.48). The conversation therefore checks the catalog before it answers "that's outside what I can
help with", and that check must not turn "is it gonna rain" into rain jackets or "whats 12 times 7"
into a 12-carat stone. :class:`OffTopic` tells the two apart the way a person would: a message that
reads like the off-topic talk the NLU was taught (its ``out_of_scope`` examples: the weather, jokes,
sums, bookings) is off topic whatever the catalog holds; one that reads like none of it may be a need
in the shop's own words.

``OFF_TOPIC_SIMILARITY`` (MiniLM cosine) was set on the training data alone: it is above the 99th
percentile of every shopping intent's examples against the off-topic ones (request 0.52, inform 0.49,
browse 0.50, surprise 0.56), while held-out paraphrases of the off-topic kinds reach 0.63–0.98.
``benchmarks/queries.py`` measures both sides: its shoppers' queries and its off-topic suite.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from retrieval.encoder import Encoder, Vectors
from retrieval.vocabulary import read_nlu_examples

__all__ = ["OFF_TOPIC_INTENT", "OFF_TOPIC_SIMILARITY", "OffTopic"]

#: The NLU intent whose examples are the known off-topic talk.
OFF_TOPIC_INTENT = "out_of_scope"
#: A message at least this close (cosine) to one known off-topic example is off topic.
OFF_TOPIC_SIMILARITY = 0.6


class OffTopic:
    """Known off-topic examples, embedded on first use, and how close a message is to them.

    >>> from retrieval.encoder import HashingEncoder
    >>> known = OffTopic(["tell me a joke", "what's the weather like"], HashingEncoder(64))
    >>> encoder = HashingEncoder(64)
    >>> known.similarity(encoder.encode(["tell me a joke"])[0]) > 0.99
    True
    >>> OffTopic([], HashingEncoder(64)).similarity(encoder.encode(["anything"])[0])
    0.0
    """

    def __init__(self, examples: Sequence[str], encoder: Encoder) -> None:
        self.examples = tuple(dict.fromkeys(e for e in examples if e.strip()))
        self._encoder = encoder
        self._vectors: Vectors | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_nlu(cls, paths: Sequence[Path], encoder: Encoder) -> OffTopic:
        """The ``out_of_scope`` examples of these NLU files."""
        return cls(read_nlu_examples(paths).get(OFF_TOPIC_INTENT, []), encoder)

    def _matrix(self) -> Vectors:
        with self._lock:
            if self._vectors is None:
                self._vectors = self._encoder.encode(list(self.examples))
            return self._vectors

    def similarity(self, vector: Vectors) -> float:
        """The cosine of ``vector`` (L2-normalised, from the same encoder) to the closest known example."""
        return float((self._matrix() @ vector).max()) if self.examples else 0.0

    def is_off_topic(self, text: str, embed: Callable[[str], Vectors]) -> bool:
        """Whether ``text`` reads like known off-topic talk; ``embed`` gives its vector (cached by the retriever)."""
        return bool(text.strip()) and self.similarity(embed(text)) >= OFF_TOPIC_SIMILARITY

"""Opening messages replayed in the action server's own code, on a catalog's cached NLU parses.

The query benchmark's dialogue over REST takes a server pair per catalog and a minute per hundred
queries; while the shop's reading of a message changes and the NLU does not, the same first lists come
from the NLU's parses (read once per model with ``benchmarks/rasa_parse.py`` in the Rasa environment,
cached beside the model) and :func:`actions.conversation.apply` over the catalog's
:class:`~actions.catalog_shop.CatalogShop` in this process. The REST run stays the measure that a
release reports; this one is the quick loop, and says so in the report.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from actions.catalog_shop import CatalogShop
from actions.conversation import Reply, State, apply
from actions.moves import move_from
from actions.off_topic import OffTopic
from retrieval.paths import PROJECT_ROOT
from retrieval.recommender import Recommender
from retrieval.search import Retriever
from retrieval.vocabulary import CatalogVocabulary, read_nlu_synonyms

__all__ = ["Opening", "ReplayShop", "cached_parses"]

RASA_PYTHON = PROJECT_ROOT / ".venv-rasa" / "bin" / "python"
NLU_FILES = sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml"))


def cached_parses(model: Path, texts: Sequence[str]) -> dict[str, Any]:
    """Every text as the model parses it, read once per model and set of texts and kept beside the model."""
    wanted = sorted(set(texts))
    digest = hashlib.sha256(json.dumps(wanted).encode()).hexdigest()[:16]
    stamp = f"{model.stat().st_mtime_ns}-{digest}"
    cache = model.with_name(f"{model.name}.parses-{stamp}.json")
    if not cache.exists():
        request = cache.with_suffix(".texts.json")
        request.write_text(json.dumps(wanted), encoding="utf-8")
        subprocess.run([str(RASA_PYTHON), "-I", str(PROJECT_ROOT / "benchmarks" / "rasa_parse.py"), str(model),
                        str(request), str(cache)], check=True, cwd=PROJECT_ROOT)
        request.unlink()
    parses: dict[str, Any] = json.loads(cache.read_text(encoding="utf-8"))
    return parses


@dataclass(frozen=True)
class Opening:
    """What the shop did with one opening message and the waivers after it."""

    cards: tuple[str, ...]
    said: tuple[str, ...]
    turns: int
    state: State


class ReplayShop:
    """The action server's reading and answering of a message, for one catalog, without servers."""

    def __init__(self, retriever: Retriever) -> None:
        encoder = retriever.encoder
        self.catalog = retriever.catalog
        self.vocabulary = CatalogVocabulary(retriever.catalog, read_nlu_synonyms(NLU_FILES))
        off_topic = (OffTopic.from_nlu(NLU_FILES, encoder)
                     if getattr(encoder, "related_similarity", None) is not None else None)
        self.shop = CatalogShop(Recommender(retriever), self.vocabulary, None, off_topic=off_topic)

    def turn(self, state: State, parse: Mapping[str, Any]) -> tuple[State, Reply]:
        """One message, read and answered as ``action_shop`` does."""
        move = move_from(parse, state, self.vocabulary, self.catalog)
        return apply(state, move, self.shop)

    def opening(self, parses: Mapping[str, Any], text: str, waiver: str, max_turns: int) -> Opening:
        """The message, then the waiver to every question, until cards come (at most ``max_turns``)."""
        state, said, turns = State(), [], 0
        for _ in range(max_turns):
            turns += 1
            state, reply = self.turn(state, parses[text])
            said += [s for s in (*reply.lines, reply.intro if reply.cards else "", reply.question) if s]
            if reply.cards:
                return Opening(tuple(s.product.id for s in reply.cards), tuple(said), turns, state)
            text = waiver
        return Opening((), tuple(said), turns, state)

"""Opening messages replayed in the action server's own code, on a catalog's cached NLU parses.

The query benchmark's dialogue over REST takes a server pair per catalog and a minute per hundred
queries; while the shop's reading of a message changes and the NLU does not, the same first lists come
from the NLU's parses (read once per model with ``benchmarks/rasa_parse.py`` in the Rasa environment,
cached beside the model) and :func:`actions.conversation.apply` over the catalog's
:class:`~actions.catalog_shop.CatalogShop` in this process. The REST run stays the measure that a
release reports; this one is the quick loop, and says so in the report.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import pkgutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from actions.catalog_shop import CatalogShop
from actions.conversation import Reply, State, apply
from actions.moves import move_from
from actions.off_topic import OffTopic
from retrieval.contract import ActionName, RasaAction
from retrieval.paths import PROJECT_ROOT
from retrieval.recommender import Recommender
from retrieval.search import Retriever
from retrieval.vocabulary import CatalogVocabulary, read_nlu_synonyms

__all__ = ["Opening", "ReplayBot", "ReplayShop", "cached_parses", "rule_actions"]

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
        self.off_topic = (OffTopic.from_nlu(NLU_FILES, encoder)
                          if getattr(encoder, "related_similarity", None) is not None else None)
        self.shop = CatalogShop(Recommender(retriever), self.vocabulary, None, off_topic=self.off_topic)

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


RULES = PROJECT_ROOT / "data" / "rules" / "rules.yml"
RESPONSES = PROJECT_ROOT / "bot" / "domain" / "responses.yml"


def rule_actions(path: Path = RULES) -> dict[str, str]:
    """Each intent's action, from the rules (every rule is one intent and one action)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for rule in data.get("rules") or []:
        steps = rule.get("steps") or []
        intents = [s["intent"] for s in steps if "intent" in s]
        actions = [s["action"] for s in steps if "action" in s]
        if len(intents) == 1 and actions and not rule.get("condition"):
            found.setdefault(intents[0], actions[0])
    return found


class ReplayBot:
    """The assistant as the REST channel answers, in this process: each intent's rule, the action server's code.

    ``send(sender, text)`` returns the messages Rasa's REST channel would (``text``, ``buttons``, ``custom``),
    from the model's cached parse of ``text``; the slots live here, one set per sender. What the rules do not
    say (a story's second step) is not replayed: every rule of ``data/rules`` is one intent and one action.
    """

    def __init__(self, retriever: Retriever, parses: Mapping[str, Any]) -> None:
        import actions
        from actions.base import ShopAction
        from actions.services import Services
        from store.db import create_schema, make_engine
        from store.profiles import ProfileStore

        for module in pkgutil.iter_modules(actions.__path__):  # as the action server does: every action defined
            importlib.import_module(f"actions.{module.name}")
        engine = make_engine("sqlite://")
        create_schema(engine)
        replay = ReplayShop(retriever)
        services = Services(recommender=replay.shop.recommender, profiles=ProfileStore(engine),
                            vocabulary=replay.vocabulary, off_topic=replay.off_topic)
        self.parses = parses
        self.actions = {action.name(): action for action in (kind(lambda: services) for kind in _leaves(ShopAction))}
        self.rules = rule_actions()
        responses = yaml.safe_load(RESPONSES.read_text(encoding="utf-8"))["responses"]
        self.responses: dict[str, dict[str, Any]] = {name: variants[0] for name, variants in responses.items()}
        self.slots: dict[str, dict[str, Any]] = {}

    def send(self, sender: str, text: str) -> list[dict[str, Any]]:
        """One message of one customer, answered as over REST."""
        from rasa_sdk import Tracker
        from rasa_sdk.executor import CollectingDispatcher

        parse = dict(self.parses[text])
        intent = str((parse.get("intent") or {}).get("name") or "nlu_fallback")
        action = self.rules.get(intent, ActionName.SHOP)
        if action.startswith("utter_"):
            response = self.responses[action]
            return [{"recipient_id": sender, **{k: v for k, v in response.items() if k in ("text", "buttons")}}]
        slots = self.slots.setdefault(sender, {})
        tracker = Tracker.from_dict({
            "sender_id": sender, "slots": dict(slots), "latest_message": parse, "paused": False,
            "events": [{"event": "user", "text": text, "parse_data": parse}], "latest_input_channel": "rest",
            "active_loop": {}, "latest_action_name": RasaAction.LISTEN})
        dispatcher = CollectingDispatcher()
        events = asyncio.run(self.actions[action].run(dispatcher, tracker, {}))
        for event in events:
            if event.get("event") == "slot":
                slots[event["name"]] = event["value"]
            elif event.get("event") == "restart":
                slots.clear()
        return [{"recipient_id": sender, **{k: v for k, v in m.items() if v not in (None, [], {})}}
                for m in dispatcher.messages]


def _leaves(kind: type) -> list[type[Any]]:
    """The concrete subclasses of ``kind``."""
    found: list[type[Any]] = []
    sub: type[Any]
    for sub in kind.__subclasses__():
        found += _leaves(sub) if getattr(sub, "__abstractmethods__", None) else [sub]
    return found

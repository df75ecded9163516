"""Helpers for action tests: services on the demo catalog, trackers from dicts."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import State
from actions.services import Services
from retrieval.contract import RasaAction, SlotName, cards_in, recommendations_in
from retrieval.encoder import HashingEncoder
from retrieval.loaders import load_catalog
from retrieval.recommender import Recommender
from retrieval.search import Retriever
from retrieval.vocabulary import CatalogVocabulary
from store.db import create_schema, make_engine
from store.profiles import ProfileStore
from store.tracker import ConversationStore
from tests.conftest import DEMO_CATALOG

_RETRIEVER: Retriever | None = None


def demo_retriever() -> Retriever:
    """The demo catalog indexed with the hashing encoder (built once per test run)."""
    global _RETRIEVER
    if _RETRIEVER is None:
        _RETRIEVER = Retriever.build(load_catalog(DEMO_CATALOG).catalog, HashingEncoder(256))
    return _RETRIEVER


def make_services(tracker_db_url: str | None = None) -> Services:
    """Fresh services: shared demo index, empty in-memory profile store."""
    retriever = demo_retriever()
    engine = make_engine("sqlite://")
    create_schema(engine)
    return Services(
        recommender=Recommender(retriever),
        profiles=ProfileStore(engine),
        vocabulary=CatalogVocabulary(retriever.catalog, {"couch": "Sofas", "gray": "grey"}),
        conversations=ConversationStore(make_engine(tracker_db_url)) if tracker_db_url else None,
    )


def tracker(
    text: str = "",
    intent: str = "request_recommendation",
    *,
    entities: list[dict[str, Any]] | None = None,
    slots: dict[str, Any] | None = None,
    sender: str = "customer-1",
    events: list[dict[str, Any]] | None = None,
    intent_ranking: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
) -> Tracker:
    """A tracker whose latest message is ``text`` with that intent and entities."""
    message = {"text": text, "intent": {"name": intent, "confidence": 0.95}, "entities": entities or [],
               "intent_ranking": intent_ranking or [{"name": intent, "confidence": 0.95}]}
    user_event = {"event": "user", "text": text, "parse_data": message}
    return Tracker.from_dict({
        "sender_id": sender,
        "slots": dict(slots or {}),
        "latest_message": message,
        "events": [*(events or []), user_event],
        "paused": False,
        "latest_input_channel": "rest",
        "active_loop": {"name": active_loop} if active_loop else {},
        "latest_action_name": RasaAction.LISTEN,
    })


def shop_tracker(
    text: str = "",
    intent: str = "request_recommendation",
    entities: list[dict[str, Any]] | None = None,
    state: State | None = None,
    *,
    slots: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Tracker:
    """A tracker in that shopping conversation (the ``shop_state`` slot) whose latest message is ``text``."""
    return tracker(text, intent, entities=entities,
                   slots={**(slots or {}), SlotName.SHOP_STATE: (state or State()).to_dict()}, **kwargs)


def state_of(events: list[dict[str, Any]]) -> State:
    """The conversation state the events leave in ``shop_state`` (a fresh one when they set none)."""
    return State.from_dict(slots_of(events).get(SlotName.SHOP_STATE))


def entity(name: str, value: str, role: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"entity": name, "value": value}
    if role:
        found["role"] = role
    return found


def run(
    action: Any, t: Tracker, domain: dict[str, Any] | None = None
) -> tuple[CollectingDispatcher, list[dict[str, Any]]]:
    """Run an action to completion; return the dispatcher (messages) and the events."""
    dispatcher = CollectingDispatcher()
    result = action.run(dispatcher, t, domain or {})
    events = asyncio.run(result) if inspect.isawaitable(result) else result
    return dispatcher, events


def slots_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def cards(dispatcher: CollectingDispatcher) -> list[dict[str, Any]]:
    """The items of the recommendation payload(s) sent."""
    return [dict(card) for message in dispatcher.messages
            for card in cards_in(recommendations_in(message.get("custom")))]


def texts_of(dispatcher: CollectingDispatcher) -> list[str]:
    return [m["text"] for m in dispatcher.messages if m.get("text")]

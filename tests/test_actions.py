"""Actions with Tracker.from_dict and CollectingDispatcher (no Rasa server)."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import texts
from actions.recommend import ActionRecommend
from retrieval.catalog import Catalog
from retrieval.encoder import HashingEncoder
from retrieval.search import Retriever


def tracker_saying(text: str) -> Tracker:
    return Tracker.from_dict({
        "sender_id": "test-customer",
        "slots": {},
        "latest_message": {"text": text, "intent": {"name": "request_recommendation", "confidence": 0.9},
                           "entities": []},
        "events": [],
        "paused": False,
        "latest_input_channel": "rest",
        "active_loop": {},
        "latest_action_name": "action_listen",
    })


@pytest.fixture
def retriever(small_catalog: Catalog) -> Retriever:
    return Retriever.build(small_catalog, HashingEncoder(128))


def test_recommend_sends_three_cards_in_the_design_payload(retriever: Retriever) -> None:
    dispatcher = CollectingDispatcher()
    events = ActionRecommend(lambda: retriever).run(dispatcher, tracker_saying("a grey linen sofa"), {})
    assert events == []
    [message] = dispatcher.messages
    assert message["text"]
    payload: dict[str, Any] = message["custom"]["data"]  # wrapped for Rasa 3.6's socket.io channel
    assert payload["type"] == "recommendations" and payload["request_id"].startswith("r-")
    items = payload["items"]
    assert [i["rank"] for i in items] == [1, 2, 3]
    assert items[0]["id"] == "s1"
    assert set(items[0]) == {"id", "title", "price", "currency", "category", "image_url", "url", "rating",
                             "rank", "reason"}
    assert "grey" in items[0]["reason"] and "linen" in items[0]["reason"]


def test_recommend_answers_politely_when_retrieval_breaks() -> None:
    def broken() -> Retriever:
        raise RuntimeError("index file vanished")

    dispatcher = CollectingDispatcher()
    ActionRecommend(broken).run(dispatcher, tracker_saying("a sofa"), {})
    assert dispatcher.messages[0]["text"] == texts.RECOMMENDATION_FAILED


def test_action_name_matches_the_domain() -> None:
    assert ActionRecommend().name() == "action_recommend"

"""Properties of the payloads clients send and read back: feedback buttons, item references, cards.

A 👍 / 👎 button sends ``/feedback{"item_id": …, "sentiment": …}``; Rasa turns the JSON into
entities of any JSON type, and any client can send any JSON there. The shopping action must
answer every such message and never store what it refused: an id that is not in the catalog is
stored nowhere (a card of an earlier list may still be on the page, so any catalog id is taken). The history and
the console read the same payloads back (``web/chat.py``, ``retrieval/contract.py``).
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import select

from actions import texts
from actions.conversation import Need, State
from actions.moves import referenced_items, sentiment_of
from actions.shop import ActionShop
from retrieval.contract import CardKey, SlotName, card_ids, cards_in, custom_payload, recommendations_in
from store.models import Interaction, InteractionKind
from tests.actions_support import demo_retriever, make_services, run, shop_tracker, slots_of, texts_of
from tests.properties_support import json_values, messy_text, scaled
from web.chat import display_text

_CATALOG = demo_retriever().catalog
_LAMPS = [p.id for p in _CATALOG if p.category == "Lamps" and p.in_stock][:3]
_ELSEWHERE = [p.id for p in _CATALOG if p.category == "Sofas"][:3]
_FORGED = st.one_of(st.sampled_from(["SKU-0", "", "../../etc/passwd", "' OR 1=1 --", "<img src=x onerror=alert(1)>"]),
                    messy_text).filter(lambda item_id: item_id not in _CATALOG)

#: What a feedback button's JSON may hold: a shown id, another catalog id, a forged one, any JSON.
feedback_payloads = st.fixed_dictionaries({}, optional={
    "item_id": st.one_of(st.sampled_from(_LAMPS + _ELSEWHERE), _FORGED, json_values),
    "sentiment": st.one_of(st.sampled_from(["like", "dislike", "LIKE", "love", ""]), json_values),
    "extra": json_values,
})


def _entities(payload: dict[str, Any], text: str) -> list[dict[str, Any]]:
    """The entities Rasa's intent-payload reader makes of the JSON: one per key, one per element of a list."""
    start, end = text.index("{"), len(text)
    found = []
    for name, value in payload.items():
        for one in value if isinstance(value, list) else [value]:
            found.append({"entity": name, "value": one, "start": start, "end": end})
    return found


def _message(payload: dict[str, Any]) -> dict[str, Any]:
    text = "/feedback" + json.dumps(payload)
    return {"text": text, "intent": {"name": "feedback", "confidence": 1.0}, "entities": _entities(payload, text)}


@given(feedback_payloads, st.booleans())
@example({"item_id": {"nested": ["SKU"]}, "sentiment": [None, "like"]}, True)
def test_feedback_entities_of_any_type_name_a_shown_item_or_none(payload: dict[str, Any], on_screen: bool) -> None:
    shown = [_CATALOG.get(item_id) for item_id in _LAMPS] if on_screen else []
    message = _message(payload)
    assert sentiment_of(message) in (None, "like", "dislike")
    found = referenced_items(message, [p for p in shown if p is not None], _CATALOG, limit=3)
    assert all(item_id in _CATALOG for item_id in found)


@scaled(0.3)
@given(feedback_payloads, st.booleans())
@example({"item_id": "<img src=x onerror=alert(1)>", "sentiment": "like"}, True)
@example({"item_id": ["SKU-0", _LAMPS[0]], "sentiment": ["dislike"]}, False)
def test_a_feedback_message_is_answered_and_stores_nothing_it_refused(payload: dict[str, Any],
                                                                       on_screen: bool) -> None:
    services = make_services()
    state = State(need=Need(scope=("Lamps",)), lists=(tuple(_LAMPS),), seen=tuple(_LAMPS)) if on_screen else State()
    message = _message(payload)
    dispatcher, events = run(ActionShop(lambda: services),
                             shop_tracker(message["text"], "feedback", message["entities"], state))
    said = texts_of(dispatcher)
    assert said and texts.SOMETHING_WENT_WRONG not in said
    with services.profiles.engine.connect() as connection:
        stored = connection.execute(select(Interaction.kind, Interaction.item_id)).all()
    assert all(item_id is None or item_id in _CATALOG for _, item_id in stored)
    judged = {item_id for kind, item_id in stored if kind in (InteractionKind.LIKE, InteractionKind.DISLIKE)}
    assert len(judged) <= 1  # one message, one item at most
    slots = slots_of(events)
    assert all(item_id in _CATALOG for item_id in [*slots.get(SlotName.LIKED_ITEMS, []),
                                                    *slots.get(SlotName.REJECTED_ITEMS, [])])


@given(st.one_of(feedback_payloads.map(json.dumps), messy_text,
                 st.integers(1, 5000).map(lambda depth: '{"item_id": ' + "[" * depth + "]" * depth + "}")),
       json_values, st.dictionaries(messy_text, messy_text, max_size=3))
@example("[" * 100_000 + "]" * 100_000, None, {})
@example('{"item_id": "A1", "sentiment": "like"}', ["not", "a", "mapping"], {})
def test_a_feedback_message_in_the_history_is_shown_as_text(payload: str, metadata: Any,
                                                            titles: dict[str, str]) -> None:
    shown = display_text("/feedback" + payload, metadata, {}, titles)
    assert isinstance(shown, str)


@given(json_values)
def test_a_custom_payload_of_any_shape_gives_cards_or_nothing(custom: Any) -> None:
    payload = custom_payload(custom)
    assert payload is None or isinstance(payload, dict)
    cards = cards_in(recommendations_in(custom))
    assert all(isinstance(card, dict) for card in cards)
    ids = card_ids([{"custom": custom}, {"text": "hi"}])
    assert ids == [str(card.get(CardKey.ID)) for card in cards]

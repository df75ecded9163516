"""One conversation read back from Rasa's tracker store: a transcript, and a test story.

:func:`load_events` reads a sender's events in order; :func:`build_transcript` turns them
into what a reviewer reads (messages with intents and confidence, buttons offered and
pressed, the recommendation cards shown, slot changes and final values);
:func:`export_test_story` writes them as a Rasa 3.6 test story, the way Rasa's own
``YAMLStoryWriter`` renders a tracker with ``is_test_story=True``:

* a customer message becomes ``user:`` (its text, entities annotated inline, e.g.
  ``[sofa]{"entity": "category", "value": "Sofas"}``) with its ``intent:``; a button
  press (``/feedback{"item_id": …}``) is written as its payload text with its intent,
  which Rasa unpacks again. When the entities cannot be annotated inline (overlapping
  spans, non-text values, brackets in the text) the step has ``intent:`` and ``entities:``
  without the text, so ``rasa test`` uses them as stored;
* every action except ``action_listen``, ``action_session_start`` and
  ``action_unlikely_intent`` becomes ``action:``; form activation becomes ``active_loop:``;
* slot events become ``slot_was_set:`` (only for slots that influence the dialogue, when
  the caller names them);
* each session (``action_session_start``) is a separate story.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from retrieval.contract import CardKey, PayloadKey, RasaAction, cards_in
from store.tracker import events
from web.console.summaries import recommendation_of

__all__ = [
    "Card",
    "Message",
    "SlotChange",
    "TrackerEvent",
    "Transcript",
    "build_transcript",
    "export_test_story",
    "load_events",
]

_SKIPPED_ACTIONS = frozenset({RasaAction.LISTEN, RasaAction.SESSION_START, RasaAction.UNLIKELY_INTENT})
_BUTTON_PAYLOAD = re.compile(r"^/[A-Za-z0-9_]+(@[0-9.]+)?(\{.*\})?$", re.DOTALL)


@dataclass(frozen=True)
class TrackerEvent:
    """One row of Rasa's ``events`` table, its JSON decoded."""

    id: int
    type_name: str
    timestamp: float
    data: dict[str, Any]


def load_events(tracker: Engine, sender_id: str) -> list[TrackerEvent]:
    """Every stored event of a conversation, oldest first (empty when unknown or erased)."""
    query = (select(events.c.id, events.c.type_name, events.c.timestamp, events.c.data)
             .where(events.c.sender_id == sender_id).order_by(events.c.id))
    found: list[TrackerEvent] = []
    with tracker.connect() as connection:
        for row in connection.execute(query):
            try:
                data = json.loads(row.data or "{}")
            except ValueError:
                data = {}
            found.append(TrackerEvent(row.id, row.type_name, row.timestamp or 0.0,
                                      data if isinstance(data, dict) else {}))
    return found


@dataclass(frozen=True)
class Card:
    """A recommendation card as the customer saw it."""

    id: str
    title: str
    price: float | None
    currency: str
    rank: int | None
    reason: str
    image_url: str | None
    url: str | None
    rating: float | None


@dataclass(frozen=True)
class Message:
    """A message of the transcript.

    Attributes:
        speaker: ``"customer"`` or ``"bot"``.
        text: what was said (for a button press, the payload sent).
        timestamp: epoch seconds.
        intent: the customer's intent as understood, with its ``confidence``.
        entities: ``(entity, value, role)`` found in the customer's message.
        pressed: for a customer message, the title of the button pressed (when known).
        buttons: ``(title, payload)`` offered by the bot.
        cards: recommendation cards shown with this bot message.
        request_id: the recommendation's request id.
        after_action: the action whose answer this bot message is.
    """

    speaker: str
    text: str
    timestamp: float
    intent: str | None = None
    confidence: float | None = None
    entities: tuple[tuple[str, str, str | None], ...] = ()
    pressed: str | None = None
    buttons: tuple[tuple[str, str], ...] = ()
    cards: tuple[Card, ...] = ()
    request_id: str | None = None
    after_action: str | None = None

    @property
    def is_button_payload(self) -> bool:
        """Whether a customer message is an intent payload (``/intent{…}``), as buttons send."""
        return self.speaker == "customer" and bool(_BUTTON_PAYLOAD.match(self.text.strip()))


@dataclass(frozen=True)
class SlotChange:
    """A slot set during the conversation, and after which message (index into ``messages``)."""

    name: str
    value: Any
    timestamp: float
    after_message: int


@dataclass
class Transcript:
    """A conversation as a reviewer reads it.

    Attributes:
        sender_id: the conversation.
        messages: customer and bot messages in order.
        actions: every action run, in order (``action_listen`` left out).
        slot_changes: every slot change, in order.
        final_slots: each slot's last value.
        sessions: how many sessions the conversation had.
    """

    sender_id: str
    messages: list[Message] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    slot_changes: list[SlotChange] = field(default_factory=list)
    final_slots: dict[str, Any] = field(default_factory=dict)
    sessions: int = 0


def _card(item: Mapping[str, Any]) -> Card:
    def number(key: str) -> float | None:
        value = item.get(key)
        return float(value) if isinstance(value, int | float) else None

    rank = item.get(CardKey.RANK)
    return Card(
        id=str(item.get(CardKey.ID) or ""), title=str(item.get(CardKey.TITLE) or ""), price=number(CardKey.PRICE),
        currency=str(item.get(CardKey.CURRENCY) or ""), rank=rank if isinstance(rank, int) else None,
        reason=str(item.get(CardKey.REASON) or ""), image_url=_str_or_none(item.get(CardKey.IMAGE_URL)),
        url=_str_or_none(item.get(CardKey.URL)), rating=number(CardKey.RATING),
    )


def _str_or_none(value: Any) -> str | None:
    return str(value) if value else None


def _entities(parse_data: Mapping[str, Any]) -> list[dict[str, Any]]:
    found = parse_data.get("entities") or []
    return [e for e in found if isinstance(e, dict) and e.get("entity")]


def build_transcript(sender_id: str, stored: Sequence[TrackerEvent]) -> Transcript:
    """Turn a conversation's events into a transcript."""
    transcript = Transcript(sender_id)
    offered: dict[str, str] = {}
    last_action: str | None = None
    for event in stored:
        data = event.data
        if event.type_name == "user":
            parse = data.get("parse_data") or {}
            intent = parse.get("intent") or {}
            text = str(data.get("text") or "")
            confidence = intent.get("confidence")
            transcript.messages.append(Message(
                speaker="customer", text=text, timestamp=event.timestamp,
                intent=intent.get("name"), confidence=float(confidence) if confidence is not None else None,
                entities=tuple((str(e["entity"]), _plain(e.get("value")), e.get("role")) for e in _entities(parse)),
                pressed=offered.get(text.strip()),
            ))
        elif event.type_name == "bot":
            payload = recommendation_of(data)
            buttons = tuple((str(b.get("title") or ""), str(b.get("payload") or ""))
                            for b in ((data.get("data") or {}).get("buttons") or []) if isinstance(b, dict))
            offered.update({payload_: title for title, payload_ in buttons})
            transcript.messages.append(Message(
                speaker="bot", text=str(data.get("text") or ""), timestamp=event.timestamp, buttons=buttons,
                cards=tuple(_card(i) for i in cards_in(payload)),
                request_id=(payload or {}).get(PayloadKey.REQUEST_ID), after_action=last_action,
            ))
        elif event.type_name == "action":
            name = str(data.get("name") or "")
            if name == RasaAction.SESSION_START:
                transcript.sessions += 1
            if name and name not in _SKIPPED_ACTIONS:
                transcript.actions.append(name)
                last_action = name
        elif event.type_name == "slot":
            name = str(data.get("name") or "")
            transcript.slot_changes.append(
                SlotChange(name, data.get("value"), event.timestamp, len(transcript.messages) - 1))
            transcript.final_slots[name] = data.get("value")
        elif event.type_name == "session_started":
            transcript.final_slots.clear()
    return transcript


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


# ------------------------------------------------------------------------------ test stories


def _annotated(text: str, entities: Sequence[Mapping[str, Any]]) -> str | None:
    """The text with its entities annotated inline, or ``None`` when that cannot be faithful."""
    if not entities:
        return text
    if "[" in text or "]" in text:
        return None
    spans = sorted(entities, key=lambda e: (e.get("start", -1), e.get("end", -1)))
    out, position = [], 0
    for entity in spans:
        start, end, value = entity.get("start"), entity.get("end"), entity.get("value")
        if not isinstance(start, int) or not isinstance(end, int) or start < position or end <= start:
            return None
        if end > len(text) or not isinstance(value, str):
            return None
        span = text[start:end]
        extra = {k: entity[k] for k in ("role", "group") if entity.get(k)}
        if value == span and not extra:
            mark = f"[{span}]({entity['entity']})"
        else:
            fields: dict[str, Any] = {"entity": entity["entity"]}
            if value != span:
                fields["value"] = value
            fields.update(extra)
            mark = f"[{span}]{json.dumps(fields, ensure_ascii=False)}"
        out += [text[position:start], mark]
        position = end
    out.append(text[position:])
    return "".join(out)


def _quote(value: Any) -> str:
    """A YAML scalar (JSON is valid YAML, and unambiguous)."""
    return json.dumps(value, ensure_ascii=False)


def _user_step(data: Mapping[str, Any]) -> list[str]:
    parse = data.get("parse_data") or {}
    intent = (parse.get("intent") or {}).get("name")
    text = str(data.get("text") or "").strip()
    if not intent:
        return []
    entities = _entities(parse)
    if text and _BUTTON_PAYLOAD.match(text):
        annotated: str | None = text  # Rasa unpacks the payload's entities itself
    else:
        annotated = _annotated(text, entities) if text else None
    if annotated is not None and text:
        body = [f"    {line}" if line.strip() else "" for line in annotated.splitlines()]
        return ["- user: |", *body, f"  intent: {intent}"]
    lines = [f"- intent: {intent}"]
    if entities:
        lines.append("  entities:")
        for entity in entities:
            extra = {k: entity[k] for k in ("role", "group") if entity.get(k)}
            if extra:
                lines.append(f"  - entity: {_quote(entity['entity'])}")
                lines.append(f"    value: {_quote(entity.get('value'))}")
                lines += [f"    {k}: {_quote(v)}" for k, v in extra.items()]
            else:
                lines.append(f"  - {entity['entity']}: {_quote(entity.get('value'))}")
    return lines


def _story_name(sender_id: str, session: int, sessions: int) -> str:
    base = f"conversation {sender_id}"
    return _quote(f"{base} (session {session})" if sessions > 1 else base)


def export_test_story(sender_id: str, stored: Sequence[TrackerEvent], *,
                    featurized_slots: Collection[str] | None = None) -> str:
    """A conversation as a Rasa 3.6 test story file (``stories:`` with one story per session).

    Args:
        sender_id: the conversation (used in the story names).
        stored: its events, oldest first (see :func:`load_events`).
        featurized_slots: slots that influence the dialogue; only their changes are written
            (``requested_slot`` always is). ``None`` writes every slot change, as Rasa does.

    Returns:
        The YAML text, ready to save as ``tests/stories/test_<name>.yml``.
    """
    sessions: list[list[str]] = [[]]
    for event in stored:
        data = event.data
        steps = sessions[-1]
        if event.type_name == "action":
            name = str(data.get("name") or "")
            if name == RasaAction.SESSION_START and steps:
                sessions.append([])
            if name and name not in _SKIPPED_ACTIONS:
                sessions[-1].append(f"- action: {name}")
        elif event.type_name == "user":
            steps += _user_step(data)
        elif event.type_name == "slot":
            name = str(data.get("name") or "")
            if featurized_slots is None or name in featurized_slots or name == "requested_slot":
                steps += ["- slot_was_set:", f"  - {name}: {_quote(data.get('value'))}"]
        elif event.type_name == "active_loop":
            loop = data.get("name")
            steps.append(f"- active_loop: {loop if loop else 'null'}")
    stories = [s for s in sessions if any(line.startswith(("- user", "- intent")) for line in s)]
    out = ['version: "3.1"', "", "stories:"]
    for number, steps in enumerate(stories, start=1):
        out.append(f"  - story: {_story_name(sender_id, number, len(stories))}")
        out.append("    steps:")
        for line in steps:
            out.append(f"      {line}" if line else "")
    if not stories:
        out[-1] = "stories: []"
    return "\n".join(out) + "\n"

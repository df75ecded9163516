"""Chat sessions of the widget and the history a reloaded page redraws.

A widget asks the web app for a session: a random sender id and a token, the
HMAC-SHA256 of that id under the server's secret key. Rasa's channels take the
sender id; the history of a conversation is given only to whoever shows the
token, so knowing someone's sender id (from a log, say) is not enough to read
their conversation.

The history comes from Rasa's tracker store, the source of truth: it is drawn in
the same shape as the socket.io channel's ``bot_uttered`` messages, so the
widget renders live and replayed messages with one function.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Engine, select

from retrieval.contract import CardKey, cards_in, custom_payload, recommendations_in
from store.tracker import events

__all__ = ["ChatSessions", "chat_history", "display_text"]

#: Sender ids the web app hands out: ``web-`` and 32 hex digits.
_SENDER = re.compile(r"^web-[0-9a-f]{32}$")
_FEEDBACK = re.compile(r"^/feedback(\{.*\})$", re.S)
_SENTIMENT_ICON = {"like": "👍", "dislike": "👎"}


class ChatSessions:
    """Issue and check widget sessions.

    Args:
        secret_key: the server's key; tokens stay valid as long as it does.

    >>> sessions = ChatSessions(b"k" * 32)
    >>> sender, token = sessions.issue()
    >>> sessions.verify(sender, token), sessions.verify(sender, "0" * 64)
    (True, False)
    """

    def __init__(self, secret_key: bytes) -> None:
        if len(secret_key) < 16:
            raise ValueError("the secret key must be at least 16 bytes")
        self._key = secret_key

    def issue(self) -> tuple[str, str]:
        """A new sender id and its token."""
        sender = f"web-{secrets.token_hex(16)}"
        return sender, self.token(sender)

    def token(self, sender_id: str) -> str:
        """The token of a sender id."""
        return hmac.new(self._key, sender_id.encode(), hashlib.sha256).hexdigest()

    def verify(self, sender_id: str, token: str) -> bool:
        """Whether ``token`` belongs to ``sender_id`` (constant-time).

        Any text is an answer, not an error: a header may carry any byte, and ``compare_digest``
        refuses non-ASCII strings, so both sides are compared as UTF-8 bytes.

        >>> ChatSessions(b"k" * 32).verify("web-" + "0" * 32, "é" * 64)
        False
        """
        if not _SENDER.fullmatch(sender_id):
            return False
        return hmac.compare_digest(self.token(sender_id).encode(), token.encode("utf-8", "surrogatepass"))


def display_text(text: str, metadata: object, offered: Mapping[str, str], titles: Mapping[str, str]) -> str:
    """What the customer saw themselves send: the button title rather than its payload.

    Args:
        text: the message as Rasa stored it (a button sends its payload, e.g. ``/affirm``).
        metadata: the message metadata, any JSON a client sent; the widget puts what it showed under ``display``.
        offered: payload → title of the buttons offered so far.
        titles: item id → title of the cards shown so far.

    >>> display_text('/feedback{"item_id": "A1", "sentiment": "like"}', None, {}, {"A1": "Oak desk"})
    '👍 Oak desk'
    >>> display_text("/affirm", None, {"/affirm": "Yes please"}, {})
    'Yes please'
    >>> display_text("a <b>bold</b> request", None, {}, {})
    'a <b>bold</b> request'
    >>> display_text("/affirm", ["a client's", "own metadata"], {"/affirm": "Yes please"}, {})
    'Yes please'
    """
    shown = metadata.get("display") if isinstance(metadata, Mapping) else None  # any JSON a client sent
    if isinstance(shown, str) and shown.strip():
        return shown
    if text in offered:
        return offered[text]
    feedback = _FEEDBACK.match(text)
    if feedback:
        try:
            entities = json.loads(feedback.group(1))
        except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
            return text
        if isinstance(entities, dict):
            icon = _SENTIMENT_ICON.get(str(entities.get("sentiment")), "")
            title = titles.get(str(entities.get("item_id")), "")
            return f"{icon} {title}".strip() or text
    return text


def _bot_messages(event: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    """One tracker ``bot`` event as the socket.io channel sends it (text split on blank lines)."""
    data = event.get("data") or {}
    text = event.get("text") or ""
    buttons = data.get("buttons") or data.get("quick_replies") or []
    if text or buttons:
        parts = text.strip().split("\n\n") if text.strip() else [""]
        for index, part in enumerate(parts):
            message: dict[str, Any] = {"text": part}
            if index == len(parts) - 1 and buttons:
                message["quick_replies"] = [
                    {"content_type": "text", "title": b.get("title", ""), "payload": b.get("payload", "")}
                    for b in buttons
                ]
            yield message
    payload = custom_payload(data.get("custom"))
    if payload is not None:
        yield dict(payload)


def chat_history(engine: Engine, sender_id: str, *, limit: int = 500) -> list[dict[str, Any]]:
    """The last ``limit`` messages of a conversation, oldest first.

    Each is ``{"from": "user"|"bot", "ts": epoch seconds, "message": {...}}`` where a bot
    message has the socket.io channel's shape and a user message is ``{"text": shown text}``.
    """
    query = (
        select(events.c.type_name, events.c.timestamp, events.c.data)
        .where(events.c.sender_id == sender_id, events.c.type_name.in_(("user", "bot")))
        .order_by(events.c.id)
    )
    offered: dict[str, str] = {}
    titles: dict[str, str] = {}
    history: list[dict[str, Any]] = []
    with engine.connect() as connection:
        for type_name, timestamp, raw in connection.execute(query):
            try:
                event = json.loads(raw or "{}")
            except ValueError:
                continue
            if type_name == "user":
                text = display_text(event.get("text") or "", event.get("metadata"), offered, titles)
                history.append({"from": "user", "ts": timestamp, "message": {"text": text}})
                continue
            for message in _bot_messages(event):
                for reply in message.get("quick_replies", []):
                    offered[reply["payload"]] = reply["title"]
                for item in cards_in(recommendations_in(message)):
                    titles[str(item.get(CardKey.ID))] = str(item.get(CardKey.TITLE, ""))
                history.append({"from": "bot", "ts": timestamp, "message": message})
    return history[-limit:]

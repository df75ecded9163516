"""Rasa tracker-store rows for the console tests, and the tests of summaries, transcripts and exports.

The rows copy the shape Rasa 3.6's SQLTrackerStore writes (taken from a real REST conversation
with the trained model): an ``events`` table with ``type_name``, ``intent_name``, ``action_name``
and the event's JSON in ``data``.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine

from store.db import create_schema, make_engine
from web.console.review import ReviewStore
from web.console.summaries import ConversationFilter, list_conversations, sync_summaries
from web.console.transcripts import build_transcript, export_test_story, load_events

DAY = 86400.0
T0 = 1_790_000_000.0  # 2026-09-21 UTC
META = {"model_id": "11c72f071725458f8c913fe122520672", "assistant_id": "shopkeeper"}

#: Rasa 3.6's ``events`` table, as SQLTrackerStore creates it on SQLite.
EVENTS_DDL = """
CREATE TABLE events (
    id INTEGER NOT NULL PRIMARY KEY,
    sender_id VARCHAR(255) NOT NULL,
    type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT,
    intent_name VARCHAR(255),
    action_name VARCHAR(255),
    data TEXT
);
CREATE INDEX ix_events_sender_id ON events (sender_id);
"""


#: The need of "i need a sofa under 800" in the ``shop_state`` slot.
SOFA_NEED: dict[str, Any] = {
    "scope": ["Sofas"], "scope_words": "sofa", "budget_min": None, "budget_max": 800.0, "wishes": {},
    "exclusions": [], "text": "i need a sofa under 800", "price_cap": None, "price_floor": None, "avoid": [],
    "size": None, "settled": ["budget"],
}


def shop_state(**changes: Any) -> dict[str, Any]:
    """A ``shop_state`` slot value as ``action_shop`` sets it (the shape of ``State.to_dict()``)."""
    need: dict[str, Any] = {"scope": [], "scope_words": "", "budget_min": None, "budget_max": None, "wishes": {},
                            "exclusions": [], "text": "", "price_cap": None, "price_floor": None, "avoid": [],
                            "size": None, "settled": []}
    state: dict[str, Any] = {"need": need, "lists": [], "reasons": [], "seen": [], "rejected": [], "liked": [],
                             "chosen": [], "pending": None, "questions": 0, "unclear": 0, "consent_asked": False}
    return {**state, **changes}


def card(item_id: str, rank: int, title: str = "Halden Sofa in Grey Linen", price: float = 699.0) -> dict[str, Any]:
    return {"id": item_id, "title": title, "price": price, "currency": "USD", "category": "Sofas",
            "image_url": f"/catalog/images/{item_id}.svg", "url": f"/shop/products/{item_id}", "rating": 4.5,
            "rank": rank, "reason": "under your $800 budget"}


@dataclass
class Conversation:
    """Builds one sender's events the way Rasa stores them."""

    sender_id: str
    t: float = T0
    events: list[dict[str, Any]] = field(default_factory=list)
    #: what ``action_shop`` last put in the ``shop_state`` slot
    shop_state: dict[str, Any] = field(default_factory=shop_state)

    def _add(self, event: str, **data: Any) -> Conversation:
        self.t += 0.5
        self.events.append({"event": event, "timestamp": self.t, "metadata": META, **data})
        return self

    def action(self, name: str, policy: str | None = "RulePolicy") -> Conversation:
        return self._add("action", name=name, policy=policy, confidence=1.0, action_text=None, hide_rule_turn=False)

    def start(self) -> Conversation:
        self.action("action_session_start", policy=None)
        self._add("session_started")
        return self.action("action_listen", policy=None)

    def user(self, text: str, intent: str, confidence: float = 0.98,
             entities: list[dict[str, Any]] | None = None) -> Conversation:
        message_id = uuid.uuid4().hex
        parse = {"intent": {"name": intent, "confidence": confidence}, "entities": entities or [], "text": text,
                 "message_id": message_id, "metadata": {},
                 "intent_ranking": [{"name": intent, "confidence": confidence}]}
        self._add("user", text=text, parse_data=parse, input_channel="rest", message_id=message_id)
        return self._add("user_featurization", use_text_for_featurization=False)

    def button(self, payload: str, intent: str, entities: dict[str, str] | None = None) -> Conversation:
        found = [{"entity": k, "value": v, "start": len(intent) + 1, "end": len(payload),
                  "extractor": "RegexMessageHandler"} for k, v in (entities or {}).items()]
        return self.user(payload, intent, 1.0, found)

    def bot(self, text: str, buttons: list[dict[str, str]] | None = None,
            custom: dict[str, Any] | None = None) -> Conversation:
        return self._add("bot", text=text, data={"elements": None, "quick_replies": None, "buttons": buttons,
                                                 "attachment": None, "image": None, "custom": custom})

    def slot(self, name: str, value: Any) -> Conversation:
        return self._add("slot", name=name, value=value)

    def listen(self) -> Conversation:
        return self.action("action_listen")

    def shop(self, **changes: Any) -> Conversation:
        """``action_shop`` runs; the caller adds its messages, then :meth:`state` and the other slots it sets."""
        self.shop_state = {**self.shop_state, **changes}
        return self.action("action_shop")

    def state(self) -> Conversation:
        """The ``shop_state`` slot ``action_shop`` sets after its messages."""
        return self.slot("shop_state", self.shop_state)

    def recommend(self, items: list[str], request_id: str = "r-0123456789ab") -> Conversation:
        """``action_shop`` answers the sofa request with cards at once (nothing left to ask)."""
        self.shop(need=SOFA_NEED, lists=[items], reasons=["under your $800 budget"] * len(items), seen=list(items))
        cards = [card(i, n) for n, i in enumerate(items, 1)]
        self.bot("Here are a few things you might like:",
                 custom={"data": {"type": "recommendations", "request_id": request_id, "items": cards}})
        self.state().slot("shown_items", items).slot("shown_reasons", ["under your $800 budget"] * len(items))
        return self.slot("seen_items", items).slot("request_id", request_id).listen()


def sofa_request(c: Conversation) -> Conversation:
    return c.user("i need a sofa under 800", "request_recommendation", 0.998, [
        {"entity": "category", "start": 9, "end": 13, "value": "Sofas", "extractor": "DIETClassifier",
         "processors": ["EntitySynonymMapper"]},
        {"entity": "budget", "start": 14, "end": 23, "value": "under 800", "extractor": "DIETClassifier"},
    ]).slot("category", "Sofas").slot("budget", "under 800")


def happy(sender: str = "c-happy", t: float = T0) -> Conversation:
    """Greets, asks for a sofa, likes one by button, chooses it and is satisfied."""
    c = Conversation(sender, t).start()
    c.user("hi", "greet", 0.99).action("action_greet").bot("Hello! I'm the Shopkeeper.").listen()
    sofa_request(c).recommend(["SKU-0001", "SKU-0002", "SKU-0003"])
    c.button('/feedback{"item_id": "SKU-0002", "sentiment": "like"}', "feedback",
             {"item_id": "SKU-0002", "sentiment": "like"})
    c.shop(liked=["SKU-0002"]).bot("Glad you like the Halden Sofa.").state().slot("liked_items", ["SKU-0002"]).listen()
    c.user("i'll take the second one", "choose_item", 0.97,
           [{"entity": "ordinal", "start": 14, "end": 20, "value": "second", "extractor": "DIETClassifier"}])
    c.shop(chosen=["SKU-0002"], pending="satisfaction").bot("Great choice!")
    c.bot("Did that solve what you were looking for?",
          buttons=[{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}])
    c.state().slot("awaiting", "satisfaction").listen()
    c.user("/affirm", "affirm", 1.0).shop(pending=None).bot("Wonderful — enjoy it!")
    return c.state().slot("awaiting", None).listen()


def disliked(sender: str = "c-dislike", t: float = T0) -> Conversation:
    """Asks for a sofa and dislikes the first card; chooses nothing."""
    c = Conversation(sender, t).start()
    sofa_request(c).recommend(["SKU-0011", "SKU-0012", "SKU-0013"])
    c.button('/feedback{"item_id": "SKU-0011", "sentiment": "dislike"}', "feedback",
             {"item_id": "SKU-0011", "sentiment": "dislike"})
    c.shop(rejected=["SKU-0011"]).bot("Got it, I won't show you that again.").state()
    return c.slot("rejected_items", ["SKU-0011"]).listen()


def fallback(sender: str = "c-fallback", t: float = T0) -> Conversation:
    """Says something unclear: ``action_shop`` answers with the rephrase prompt and buttons."""
    c = Conversation(sender, t).start()
    c.user("blorp the wibble", "nlu_fallback", 0.3).shop(unclear=1)
    c.bot("Sorry, I didn't quite get that. Did you mean…",
          buttons=[{"title": "Find something", "payload": "/request_recommendation"},
                   {"title": "Talk to a person", "payload": "/human_handoff"}])
    return c.state().listen()


def handoff(sender: str = "c-handoff", t: float = T0) -> Conversation:
    """Asks for a person."""
    c = Conversation(sender, t).start()
    c.user("talk to a human", "human_handoff", 0.98).action("action_handoff")
    return c.bot("I've flagged this conversation for a colleague.").listen()


def hostile(sender: str = "c-html", t: float = T0) -> Conversation:
    """Types HTML."""
    c = Conversation(sender, t).start()
    c.user('<script>alert("x")</script><b>bold</b>', "out_of_scope", 0.6).action("utter_out_of_scope")
    return c.bot("That's outside what I can help with.").listen()


def write_rows(db: Path, conversations: list[Conversation]) -> None:
    """Append the conversations' events to a tracker-store SQLite file (created when missing)."""
    fresh = not db.exists()
    with sqlite3.connect(db) as connection:
        if fresh:
            connection.executescript(EVENTS_DDL)
        rows = []
        for conversation in conversations:
            for event in conversation.events:
                kind = event["event"]
                intent = event["parse_data"]["intent"]["name"] if kind == "user" else None
                action = event["name"] if kind == "action" else None
                rows.append((conversation.sender_id, kind, event["timestamp"], intent, action, json.dumps(event)))
        connection.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
            "VALUES (?, ?, ?, ?, ?, ?)", rows)


def erase(db: Path, sender_id: str) -> None:
    with sqlite3.connect(db) as connection:
        connection.execute("DELETE FROM events WHERE sender_id = ?", (sender_id,))


def sample(db: Path) -> list[Conversation]:
    """Five conversations on five consecutive days, oldest first."""
    conversations = [happy(t=T0), disliked(t=T0 + DAY), fallback(t=T0 + 2 * DAY), handoff(t=T0 + 3 * DAY),
                     hostile(t=T0 + 4 * DAY)]
    write_rows(db, conversations)
    return conversations


def engines(tmp_path: Path) -> tuple[Engine, Engine]:
    tracker = make_engine(f"sqlite:///{tmp_path / 'tracker.db'}")
    store = make_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    create_schema(store)
    return tracker, store


# ------------------------------------------------------------------------------------- tests


def test_summaries_fold_what_the_filters_need(tmp_path: Path) -> None:
    sample(tmp_path / "tracker.db")
    tracker, store = engines(tmp_path)
    report = sync_summaries(tracker, store)
    assert report.conversations_updated == 5 and report.events_read > 50
    rows = {r.sender_id: r for r in list_conversations(store).rows}
    assert rows["c-happy"].has_choice and rows["c-happy"].satisfied is True and rows["c-happy"].likes == 1
    assert rows["c-happy"].recommendations == 1 and rows["c-happy"].user_messages == 5
    assert rows["c-dislike"].dislikes == 1 and not rows["c-dislike"].has_choice
    assert rows["c-fallback"].has_fallback and not rows["c-happy"].has_fallback
    assert rows["c-handoff"].has_handoff and not rows["c-fallback"].has_handoff
    assert rows["c-happy"].first_message == "hi"


def test_sync_reads_only_new_events_and_follows_a_conversation_across_syncs(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    whole = happy("c-split")
    write_rows(db, [Conversation("c-split", events=whole.events[:20])])
    tracker, store = engines(tmp_path)
    first = sync_summaries(tracker, store)
    assert first.events_read == 20
    assert sync_summaries(tracker, store).events_read == 0  # nothing new: nothing read
    write_rows(db, [Conversation("c-split", events=whole.events[20:])])
    second = sync_summaries(tracker, store)
    assert second.events_read == len(whole.events) - 20 and not second.rebuilt and not second.erased
    # the same figures as one sync over everything
    other = tmp_path / "other"
    other.mkdir()
    write_rows(other / "tracker.db", [whole])
    t2, s2 = engines(other)
    sync_summaries(t2, s2)
    split, once = list_conversations(store).rows[0], list_conversations(s2).rows[0]
    for column in ("event_count", "user_messages", "likes", "has_choice", "satisfied", "search_text", "last_at"):
        assert getattr(split, column) == getattr(once, column), column


def test_an_erased_conversation_disappears_with_its_tags_and_notes(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    sample(db)
    tracker, store = engines(tmp_path)
    sync_summaries(tracker, store)
    reviews = ReviewStore(store)
    reviews.add_tag("c-dislike", "bad-cards", by="ana")
    reviews.set_note("c-dislike", "cards ignored the budget", by="ana")
    erase(db, "c-dislike")
    report = sync_summaries(tracker, store)
    assert report.erased == ("c-dislike",)
    assert "c-dislike" not in {r.sender_id for r in list_conversations(store).rows}
    assert reviews.get("c-dislike").tags == () and reviews.get("c-dislike").note == ""
    assert sync_summaries(tracker, store).erased == ()  # noticed once


def test_a_forgotten_customer_who_comes_back_is_summarised_afresh(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    write_rows(db, [disliked("c-again")])
    tracker, store = engines(tmp_path)
    sync_summaries(tracker, store)
    erase(db, "c-again")
    write_rows(db, [handoff("c-again", t=T0 + DAY)])
    report = sync_summaries(tracker, store)
    assert report.rebuilt == ("c-again",)
    row = list_conversations(store).rows[0]
    assert row.has_handoff and row.dislikes == 0 and row.recommendations == 0


def test_transcript_has_messages_intents_buttons_cards_and_slots(tmp_path: Path) -> None:
    write_rows(tmp_path / "tracker.db", [happy()])
    tracker, _ = engines(tmp_path)
    transcript = build_transcript("c-happy", load_events(tracker, "c-happy"))
    customer = [m for m in transcript.messages if m.speaker == "customer"]
    assert [m.intent for m in customer] == ["greet", "request_recommendation", "feedback", "choose_item", "affirm"]
    assert customer[1].confidence == 0.998 and ("category", "Sofas", None) in customer[1].entities
    assert customer[2].is_button_payload and customer[4].pressed == "Yes"
    cards = next(m for m in transcript.messages if m.cards)
    assert [c.id for c in cards.cards] == ["SKU-0001", "SKU-0002", "SKU-0003"] and cards.request_id
    assert cards.after_action == "action_shop"
    assert transcript.final_slots["liked_items"] == ["SKU-0002"] and transcript.final_slots["awaiting"] is None
    assert [s.value for s in transcript.slot_changes if s.name == "awaiting"] == ["satisfaction", None]


def test_export_is_a_rasa_test_story(tmp_path: Path) -> None:
    write_rows(tmp_path / "tracker.db", [happy()])
    tracker, _ = engines(tmp_path)
    # no slot influences the dialogue (bot/domain/slots.yml): the rules route by intent alone
    text = export_test_story("c-happy", load_events(tracker, "c-happy"), featurized_slots=set())
    data = yaml.safe_load(text)
    assert data["version"] == "3.1" and len(data["stories"]) == 1
    story = data["stories"][0]
    assert story["story"] == "conversation c-happy"
    steps = story["steps"]
    assert steps[0] == {"user": "hi\n", "intent": "greet"}
    assert steps[1] == {"action": "action_greet"}
    assert steps[2] == {"user": 'i need a [sofa]{"entity": "category", "value": "Sofas"} [under 800](budget)\n',
                        "intent": "request_recommendation"}
    # the request is answered by one action (no form, no loop), then the customer speaks again
    assert steps[3:5] == [{"action": "action_shop"},
                          {"user": '/feedback{"item_id": "SKU-0002", "sentiment": "like"}\n', "intent": "feedback"}]
    assert {"user": '/feedback{"item_id": "SKU-0002", "sentiment": "like"}\n', "intent": "feedback"} in steps
    assert {"user": "i'll take the [second](ordinal) one\n", "intent": "choose_item"} in steps
    assert not any("action_listen" in str(s) or "action_session_start" in str(s) for s in steps)
    assert not any("shown_items" in str(s) or "shop_state" in str(s) for s in steps)  # they do not influence it
    assert not any("active_loop" in s or "slot_was_set" in s for s in steps)
    everything = yaml.safe_load(export_test_story("c-happy", load_events(tracker, "c-happy")))
    shown = {"slot_was_set": [{"shown_items": ["SKU-0001", "SKU-0002", "SKU-0003"]}]}
    assert shown in everything["stories"][0]["steps"]


def test_export_falls_back_to_intent_and_entities_when_inline_annotation_cannot_be_faithful(tmp_path: Path) -> None:
    c = Conversation("c-odd").start()
    c.user("a [weird] sofa", "request_recommendation", 0.9,
           [{"entity": "category", "start": 10, "end": 14, "value": "Sofas"},
            {"entity": "material", "start": 10, "end": 14, "value": "leather", "role": "exclude"}])
    c.action("action_shop").listen()
    c.action("action_session_start", policy=None)._add("session_started")
    c.listen().user("hello", "greet").action("action_greet").listen()
    write_rows(tmp_path / "tracker.db", [c])
    tracker, _ = engines(tmp_path)
    data = yaml.safe_load(export_test_story("c-odd", load_events(tracker, "c-odd")))
    assert [s["story"] for s in data["stories"]] == ["conversation c-odd (session 1)", "conversation c-odd (session 2)"]
    first = data["stories"][0]["steps"][0]
    assert first == {"intent": "request_recommendation", "entities": [
        {"category": "Sofas"}, {"entity": "material", "value": "leather", "role": "exclude"}]}


def test_filters(tmp_path: Path) -> None:
    sample(tmp_path / "tracker.db")
    tracker, store = engines(tmp_path)
    sync_summaries(tracker, store)
    ReviewStore(store).add_tag("c-handoff", "Urgent", by="ana")
    ReviewStore(store).set_reviewed("c-fallback", True, by="ana")

    def ids(**criteria: Any) -> set[str]:
        return {r.sender_id for r in list_conversations(store, ConversationFilter(**criteria)).rows}

    everyone = {"c-happy", "c-dislike", "c-fallback", "c-handoff", "c-html"}
    assert ids() == everyone
    assert ids(disliked=True) == {"c-dislike"}
    assert ids(fallback=True) == {"c-fallback"}
    assert ids(handoff=True) == {"c-handoff"}
    assert ids(nothing_chosen=True) == everyone - {"c-happy"}
    assert ids(tag="urgent") == {"c-handoff"}
    assert ids(reviewed=True) == {"c-fallback"} and ids(reviewed=False) == everyone - {"c-fallback"}
    assert ids(text="SOFA") == {"c-happy", "c-dislike"} and ids(text="sofa second") == {"c-happy"}
    assert ids(text="100%") == set()  # LIKE wildcards are matched literally
    from datetime import date, timedelta

    day0 = date(2026, 9, 21)
    assert ids(start=day0 + timedelta(days=3)) == {"c-handoff", "c-html"}
    assert ids(end=day0 + timedelta(days=1)) == {"c-happy", "c-dislike"}
    assert ids(start=day0 + timedelta(days=1), end=day0 + timedelta(days=2)) == {"c-dislike", "c-fallback"}
    assert ids(disliked=True, handoff=True) == set()


def test_keyset_pages_cover_everything_once_newest_first(tmp_path: Path) -> None:
    write_rows(tmp_path / "tracker.db", [handoff(f"c-{n:03d}", t=T0 + n * 60) for n in range(23)])
    tracker, store = engines(tmp_path)
    sync_summaries(tracker, store)
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = list_conversations(store, limit=10, after=after)
        pages += 1
        assert page.total == 23
        seen += [r.sender_id for r in page.rows]
        if page.next_cursor is None:
            break
        after = page.next_cursor
    assert pages == 3 and seen == [f"c-{n:03d}" for n in range(22, -1, -1)]

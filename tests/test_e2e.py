"""End to end: the Rasa 3.6 server (Python 3.10) and our action server (Python 3.11, newer
rasa-sdk) converse over REST. Proves the webhook protocol across the version skew, the payload
shape clients rely on, and the dialogue's promises on real turns.

Needs the trained model and the built index (`make test` builds both first).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest

from evaluation.stack import Stack, StackError, get, running_stack, say
from retrieval.loaders import load_catalog
from tests.conftest import DEMO_CATALOG

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    try:
        with running_stack(tmp_path_factory.mktemp("e2e")) as stack:
            yield stack
    except StackError as exc:
        pytest.fail(str(exc))


def test_greeting_is_answered(servers: Stack) -> None:
    reply = say(servers.rasa_url, "e2e-greet", "hello")
    assert reply and "Shopkeeper" in reply[0]["text"]


def converse_until_cards(url: str, sender: str, first: str, *, answer: str = "i don't mind",
                         turns: int = 4) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Say ``first``, then answer each question with ``answer`` until cards arrive."""
    transcript: list[dict[str, Any]] = []
    text = first
    for _ in range(turns):
        reply = say(url, sender, text)
        transcript += reply
        payloads = [m["custom"]["data"] for m in reply if "custom" in m]
        if payloads:
            return transcript, payloads[-1]
        text = answer
    pytest.fail(f"no recommendation after {turns} turns: {transcript}")


def test_a_request_gets_cards_from_the_demo_catalog_over_rest(servers: Stack) -> None:
    transcript, payload = converse_until_cards(
        servers.rasa_url, "e2e-backpack", "i'm looking for a backpack for hiking"
    )
    assert any(m.get("text") for m in transcript)
    assert payload["type"] == "recommendations" and payload["request_id"].startswith("r-")
    assert len(payload["items"]) == 3
    assert {item["category"] for item in payload["items"]} == {"Backpacks"}
    assert all(item["image_url"].startswith("/catalog/images/") and item["reason"] for item in payload["items"])


def test_cards_obey_category_budget_and_exclusions_and_a_dislike_changes_the_list(servers: Stack) -> None:
    catalog = {p.id: p for p in load_catalog(DEMO_CATALOG).catalog}
    _, payload = converse_until_cards(servers.rasa_url, "e2e-sofa", "i need a sofa under $1500, not leather")
    first = payload["items"]
    for item in first:
        product = catalog[item["id"]]
        assert product.category == "Sofas" and product.price <= 1500
        assert "leather" not in f"{product.material} {product.title}".lower()
    disliked = first[0]["id"]
    reply = say(servers.rasa_url, "e2e-sofa", f'/feedback{{"item_id": "{disliked}", "sentiment": "dislike"}}')
    payloads = [m["custom"]["data"] for m in reply if "custom" in m]
    assert payloads, reply
    second = [item["id"] for item in payloads[-1]["items"]]
    assert disliked not in second and second != [item["id"] for item in first]
    for item_id in second:
        assert catalog[item_id].category == "Sofas" and catalog[item_id].price <= 1500
    # a page of "more" never brings the disliked sofa back
    reply = say(servers.rasa_url, "e2e-sofa", "show me more")
    more = [i["id"] for m in reply if "custom" in m for i in m["custom"]["data"]["items"]]
    assert more and disliked not in more and not set(more) & set(second)


def test_the_conversation_is_kept_in_the_sql_tracker_store(servers: Stack) -> None:
    say(servers.rasa_url, "e2e-tracker", "hi")
    status, body = get(f"{servers.rasa_url}/conversations/e2e-tracker/tracker")
    assert status == 200
    events = json.loads(body)["events"]
    assert [e["text"] for e in events if e["event"] == "user"] == ["hi"]
    # …and it really is in the SQLite file named by RASA_TRACKER_DB, not in memory.
    with sqlite3.connect(servers.tracker_db) as db:
        stored = db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", ("e2e-tracker",)
        ).fetchall()
    assert [json.loads(row[0])["text"] for row in stored] == ["hi"]


def test_forget_me_leaves_nothing_behind(servers: Stack) -> None:
    sender = "e2e-forget"
    converse_until_cards(servers.rasa_url, sender, "show me lamps under 100")
    say(servers.rasa_url, sender, '/feedback{"item_id": "SKU-0031", "sentiment": "like"}')
    say(servers.rasa_url, sender, "yes")  # may remember me
    with sqlite3.connect(servers.shop_db) as db:
        assert db.execute("SELECT COUNT(*) FROM customers WHERE sender_id = ?", (sender,)).fetchone()[0] == 1
    reply = say(servers.rasa_url, sender, "forget me")
    assert any("erased" in (m.get("text") or "") for m in reply), reply
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with sqlite3.connect(servers.tracker_db) as db:
            left = db.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0]
        if left == 0:
            break
        time.sleep(0.5)
    assert left == 0, "conversation events were not erased"
    with sqlite3.connect(servers.shop_db) as db:
        for table, column in (("customers", "sender_id"),):
            assert db.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", (sender,)).fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM interactions WHERE customer_id NOT IN (SELECT id FROM customers)"
                          ).fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM profiles WHERE customer_id NOT IN (SELECT id FROM customers)"
                          ).fetchone()[0] == 0


def test_nothing_is_kept_under_the_sender_id_before_consent_and_the_copy_has_it_all(servers: Stack) -> None:
    from store.db import StoreSettings, make_engine
    from store.export import export_customer
    from store.pseudonyms import Pseudonymiser

    sender = "e2e-privacy"
    _, payload = converse_until_cards(servers.rasa_url, sender, "i'd like a lamp under 100")
    first = payload["items"][0]["id"]
    say(servers.rasa_url, sender, f'/feedback{{"item_id": "{first}", "sentiment": "like"}}')
    settings = StoreSettings.from_env()  # the action server's pseudonym key: the same file in build/
    pseudonym = Pseudonymiser(settings.pseudonym_key, rotation_days=settings.pseudonym_rotation_days).pseudonym(sender)
    with sqlite3.connect(servers.shop_db) as db:
        # the consent question was put: only its state is kept, nothing of the activity
        assert db.execute("SELECT consent, consent_asked FROM customers WHERE sender_id = ?",
                          (sender,)).fetchall() == [(None, 1)]
        assert db.execute("SELECT COUNT(*) FROM interactions i JOIN customers c ON c.id = i.customer_id "
                          "WHERE c.sender_id = ?", (sender,)).fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM profiles").fetchone()[0] == 0
        pseudonymous = db.execute("SELECT COUNT(*) FROM interactions WHERE pseudonym = ? AND customer_id IS NULL",
                                  (pseudonym,)).fetchone()[0]
    assert pseudonymous >= len(payload["items"]) + 1  # the cards shown (and those after the like) and the like
    say(servers.rasa_url, sender, "yes")  # may I remember what you like?
    with sqlite3.connect(servers.shop_db) as db:
        assert db.execute("SELECT COUNT(*) FROM profiles p JOIN customers c ON c.id = p.customer_id "
                          "WHERE c.sender_id = ? AND c.consent = 1", (sender,)).fetchone()[0] == 1
    reply = say(servers.rasa_url, sender, "what data do you have on me? i'd like a copy to keep")
    assert [m["custom"]["data"]["type"] for m in reply if "custom" in m] == ["data_export"], reply
    store, tracker = make_engine(f"sqlite:///{servers.shop_db}"), make_engine(f"sqlite:///{servers.tracker_db}")
    try:
        document = export_customer(store, tracker, sender, pseudonyms=Pseudonymiser(
            settings.pseudonym_key, rotation_days=settings.pseudonym_rotation_days), retention_days=90)
    finally:
        store.dispose()
        tracker.dispose()
    assert [e["event"] for e in document["consent_history"]] == ["asked", "given"]
    assert document["profile"] is not None and document["profile"]["affinities"]
    assert {i["linked_by"] for i in document["interactions"]} == {"pseudonym"}
    assert any(e["type"] == "user" and e["event"].get("text") == "i'd like a lamp under 100"
               for e in document["conversation"])

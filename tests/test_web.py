from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ROOT
from web.app import create_app
from web.chat import ChatSessions
from web.settings import WebSettings


def client(rasa_url: str = "http://127.0.0.1:5005") -> TestClient:
    settings = WebSettings("127.0.0.1", 8000, rasa_url, ROOT / "data" / "catalog" / "images")
    return TestClient(create_app(settings))


def test_shop_page_embeds_the_widget_with_one_script_tag() -> None:
    page = client().get("/")
    assert page.status_code == 200
    assert page.text.count("<script") == 1
    assert 'src="/static/widget.js" data-server="http://127.0.0.1:5005"' in page.text


def test_rasa_url_is_escaped_into_the_page() -> None:
    page = client('http://x/"><script>alert(1)</script>').get("/")
    assert "<script>alert(1)</script>" not in page.text
    assert "&quot;&gt;&lt;script&gt;" in page.text


def test_the_page_is_named_after_the_active_catalog_and_escapes_it() -> None:
    demo = client().get("/").text
    assert "<h1>Harbour &amp; Home</h1>" in demo and "Furniture, lighting and gear" in demo
    settings = WebSettings.from_env({"SHOPKEEPER_SHOP_NAME": "Toys <R> Us",
                                     "SHOPKEEPER_SHOP_TAGLINE": "Hobbies, Puzzles and more"})
    page = TestClient(create_app(settings)).get("/").text
    assert "<title>Toys &lt;R&gt; Us — Shopkeeper</title>" in page and "<h1>Toys &lt;R&gt; Us</h1>" in page
    assert "Hobbies, Puzzles and more" in page and "Harbour" not in page and "{{" not in page


def test_widget_assets_and_catalog_images_are_served_locally() -> None:
    web = client()
    assert web.get("/static/widget.js").status_code == 200
    assert "textContent" in web.get("/static/widget.js").text
    image = web.get("/catalog/images/SKU-0001.svg")
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/svg")
    assert web.get("/catalog/images/../../../pyproject.toml").status_code == 404
    assert web.get("/healthz").text == "ok"


def test_settings_come_from_the_environment() -> None:
    settings = WebSettings.from_env({"HOST": "0.0.0.0", "WEB_PORT": "9000", "RASA_PORT": "6000"})
    assert (settings.host, settings.port, settings.rasa_url) == ("0.0.0.0", 9000, "http://0.0.0.0:6000")
    assert WebSettings.from_env({"RASA_URL": "https://bot.example/"}).rasa_url == "https://bot.example"
    assert isinstance(settings.images_dir, Path) and settings.images_dir.is_absolute()


# ---- chat sessions and history -------------------------------------------------------------


def tracker_with(tmp_path: Path, sender: str, rows: list[tuple[str, dict[str, object]]]) -> str:
    """A tracker database with Rasa's events table holding ``rows`` (type, event dict) for ``sender``."""
    from sqlalchemy import insert

    from store.db import make_engine
    from store.tracker import events

    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = make_engine(url)
    events.metadata.create_all(engine)
    with engine.begin() as connection:
        for at, (type_name, event) in enumerate(rows):
            data = json.dumps({"event": type_name, **event})
            connection.execute(
                insert(events).values(sender_id=sender, type_name=type_name, timestamp=1000.0 + at, data=data)
            )
    engine.dispose()
    return url


def chat_client(tracker_url: str) -> TestClient:
    settings = WebSettings("127.0.0.1", 8000, "http://127.0.0.1:5005", ROOT / "data" / "catalog" / "images",
                           tracker_db_url=tracker_url, secret_key=b"s" * 32)
    return TestClient(create_app(settings))


CARD = {"id": "SKU-0007", "title": "Halden <b>sofa</b>", "price": 699.0, "currency": "USD", "category": "Sofas",
        "image_url": None, "url": None, "rating": 4.5, "rank": 1, "reason": "grey, as asked"}


def test_history_is_given_only_with_the_sessions_token(tmp_path: Path) -> None:
    web = chat_client(tracker_with(tmp_path, "nobody", []))
    session = web.post("/api/chat/sessions").json()
    assert session["sender_id"].startswith("web-") and len(session["token"]) == 64
    other = web.post("/api/chat/sessions").json()
    assert other["sender_id"] != session["sender_id"]

    ok = web.get("/api/chat/history", params={"sender_id": session["sender_id"]},
                 headers={"Authorization": f"Bearer {session['token']}"})
    assert ok.status_code == 200 and ok.json() == {"sender_id": session["sender_id"], "messages": []}
    for headers in ({}, {"Authorization": f"Bearer {other['token']}"}, {"Authorization": "Bearer x"}):
        refused = web.get("/api/chat/history", params={"sender_id": session["sender_id"]}, headers=headers)
        assert refused.status_code == 401 and "not yours" in refused.json()["detail"]


def test_history_replays_messages_in_the_socket_channel_shape(tmp_path: Path) -> None:
    sessions = ChatSessions(b"s" * 32)
    sender, token = sessions.issue()
    rows: list[tuple[str, dict[str, object]]] = [
        ("action", {"name": "action_listen"}),
        ("user", {"text": "a grey sofa <script>alert(1)</script>", "parse_data": {"intent": {"name": "inform"}}}),
        ("bot", {"text": "Here are three.\n\nAny of these?", "data": {"custom": {"data": {
            "type": "recommendations", "request_id": "r-1", "items": [CARD]}}}}),
        ("user", {"text": '/feedback{"item_id": "SKU-0007", "sentiment": "like"}'}),
        ("bot", {"text": "May I remember this?", "data": {"buttons": [{"title": "Yes please", "payload": "/affirm"}]}}),
        ("user", {"text": "/affirm"}),
        ("user", {"text": "/deny", "metadata": {"display": "No thanks"}}),
    ]
    web = chat_client(tracker_with(tmp_path, sender, rows))
    body = web.get("/api/chat/history", params={"sender_id": sender}, headers={"Authorization": f"Bearer {token}"})
    messages = body.json()["messages"]
    assert [(m["from"], m["message"]) for m in messages] == [
        ("user", {"text": "a grey sofa <script>alert(1)</script>"}),
        ("bot", {"text": "Here are three."}),
        ("bot", {"text": "Any of these?"}),
        ("bot", {"type": "recommendations", "request_id": "r-1", "items": [CARD]}),
        ("user", {"text": "👍 Halden <b>sofa</b>"}),
        ("bot", {"text": "May I remember this?",
                 "quick_replies": [{"content_type": "text", "title": "Yes please", "payload": "/affirm"}]}),
        ("user", {"text": "Yes please"}),
        ("user", {"text": "No thanks"}),
    ]
    assert all(m["ts"] >= 1000 for m in messages)


def test_history_before_rasa_made_its_tables_is_empty_and_a_broken_store_is_reported(tmp_path: Path) -> None:
    sessions = ChatSessions(b"s" * 32)
    sender, token = sessions.issue()
    auth = {"Authorization": f"Bearer {token}"}
    empty = chat_client(f"sqlite:///{tmp_path / 'not-yet.db'}")
    assert empty.get("/api/chat/history", params={"sender_id": sender}, headers=auth).json()["messages"] == []
    (tmp_path / "garbage.db").write_bytes(b"this is not a database" * 100)
    broken = chat_client(f"sqlite:///{tmp_path / 'garbage.db'}")
    answer = broken.get("/api/chat/history", params={"sender_id": sender}, headers=auth)
    assert answer.status_code == 503 and "unavailable" in answer.json()["detail"]


def test_socket_io_client_is_served_from_node_modules() -> None:
    script = client().get("/static/vendor/socket.io.min.js")
    assert script.status_code == 200 and "socket.io" in script.text[:400].lower()


def test_secret_key_comes_from_the_environment_or_a_private_file(tmp_path: Path) -> None:
    assert WebSettings.from_env({"SHOPKEEPER_SECRET_KEY": "k" * 20}).secret_key == b"k" * 20
    with pytest.raises(ValueError, match="at least 16"):
        WebSettings.from_env({"SHOPKEEPER_SECRET_KEY": "short"})
    generated = WebSettings.from_env({}).secret_key
    assert len(generated) == 64 and WebSettings.from_env({}).secret_key == generated
    key_file = ROOT / "build" / "secret.key"
    assert key_file.stat().st_mode & 0o077 == 0

"""The "download my data" endpoint and the chat action that offers it (no servers)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions import texts
from actions.privacy import ActionExportData
from store.db import StoreSettings, create_schema, make_engine
from store.models import Customer, Interaction, InteractionKind
from store.profiles import ProfileStore
from store.pseudonyms import Pseudonymiser
from tests.actions_support import make_services, run, tracker
from tests.conftest import ROOT
from tests.test_web import tracker_with
from web.app import create_app
from web.chat import ChatSessions
from web.settings import WebSettings

SECRET = b"s" * 32
KEY = b"pseudonym-key-for-tests-0123456789"


def web_with(tmp_path: Path, sender: str) -> tuple[TestClient, ProfileStore]:
    tracker_url = tracker_with(tmp_path, sender, [("user", {"text": "my flat is at 1 Elm St, a grey sofa please"}),
                                                  ("bot", {"text": "Any colour you have in mind?"})])
    store_url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = make_engine(store_url)
    create_schema(engine)
    profiles = ProfileStore(engine, pseudonyms=Pseudonymiser(KEY))
    settings = WebSettings("127.0.0.1", 8000, "http://127.0.0.1:5005", ROOT / "data" / "catalog" / "images",
                           tracker_db_url=tracker_url, secret_key=SECRET, store_db_url=store_url,
                           privacy=StoreSettings(store_url, pseudonym_key=KEY))
    return TestClient(create_app(settings)), profiles


def counts(profiles: ProfileStore) -> tuple[int, int]:
    with Session(profiles.engine) as session:
        return (int(session.scalar(select(func.count()).select_from(Customer)) or 0),
                int(session.scalar(select(func.count()).select_from(Interaction)) or 0))


def test_the_export_is_given_only_with_the_conversations_token(tmp_path: Path) -> None:
    sessions = ChatSessions(SECRET)
    sender, token = sessions.issue()
    other, other_token = sessions.issue()
    web, profiles = web_with(tmp_path, sender)
    profiles.record(sender, InteractionKind.LIKE, item_id="SKU-0007", request_id="r-1", rank=1)
    profiles.mark_consent_asked(sender)
    profiles.set_consent(sender, True)
    before = counts(profiles)
    forged = token[:-1] + ("0" if token[-1] != "0" else "1")
    for headers in ({}, {"Authorization": f"Bearer {other_token}"}, {"Authorization": f"Bearer {forged}"},
                    {"Authorization": "Bearer "}, {"Authorization": "Basic " + token}):
        refused = web.get("/api/chat/export", params={"sender_id": sender}, headers=headers)
        assert refused.status_code == 401 and "not yours" in refused.json()["detail"]
        assert "Elm" not in refused.text and "SKU-0007" not in refused.text
    assert web.get("/api/chat/export", headers={"Authorization": f"Bearer {token}"}).status_code == 422  # no sender
    mine = web.get("/api/chat/export", params={"sender_id": sender}, headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 200, mine.text
    assert mine.headers["content-disposition"] == f'attachment; filename="shopkeeper-data-{sender}.json"'
    assert mine.headers["cache-control"] == "no-store"
    document = mine.json()
    assert document["format"] == "shopkeeper-export/1" and document["customer"]["consent"] is True
    assert [i["item_id"] for i in document["interactions"]] == ["SKU-0007"]
    assert document["interactions"][0]["linked_by"] == "pseudonym"  # liked before saying yes
    assert [e["event"] for e in document["consent_history"]] == ["asked", "given"]
    assert "1 Elm St" in document["conversation"][0]["event"]["text"]
    # a valid session with nothing stored about it is told so
    empty = web.get("/api/chat/export", params={"sender_id": other}, headers={"Authorization": f"Bearer {other_token}"})
    assert empty.status_code == 404 and "nothing is stored" in empty.json()["detail"]
    assert counts(profiles) == before  # refusals and exports changed nothing


def test_a_sender_id_that_was_never_issued_is_refused(tmp_path: Path) -> None:
    web, _ = web_with(tmp_path, "customer-1")
    token = ChatSessions(SECRET).token("customer-1")  # a well-signed id the web app never hands out
    refused = web.get("/api/chat/export", params={"sender_id": "customer-1"},
                      headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401


def test_asking_for_a_copy_in_the_chat_offers_the_download() -> None:
    services = make_services()
    dispatcher, events = run(ActionExportData(lambda: services),
                             tracker("could you package up my info so i can keep it", "request_data_export"))
    assert events == []
    [message] = dispatcher.messages
    assert message["text"] == texts.DATA_EXPORT
    assert message["custom"] == {"data": {"type": "data_export", "title": texts.DATA_EXPORT_BUTTON}}


def test_the_widget_fetches_the_export_with_the_token() -> None:
    widget = (ROOT / "web" / "static" / "widget.js").read_text(encoding="utf-8")
    assert 'custom.type === "data_export"' in widget
    assert '"/api/chat/export?sender_id="' in widget and 'Authorization: "Bearer " + state.session.token' in widget

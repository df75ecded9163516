"""``POST /api/purchases``: a shop reports that a chat customer bought items, for the collaborative model."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from store import Interaction, InteractionKind, ProfileStore, create_schema, make_engine
from store.db import StoreSettings
from store.pseudonyms import Pseudonymiser
from tests.conftest import ROOT
from web.app import create_app
from web.settings import WebSettings

KEY = "a-shop-key-of-some-length"


def _client(tmp_path: Path, key: str = KEY) -> tuple[TestClient, str]:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    privacy = StoreSettings(url=url, pseudonym_key=b"p" * 32)
    settings = WebSettings("127.0.0.1", 8000, "http://127.0.0.1:5005", ROOT / "data" / "catalog" / "images",
                           store_db_url=url, privacy=privacy, purchases_key=key)
    return TestClient(create_app(settings)), url


def _rows(url: str) -> list[Interaction]:
    with Session(make_engine(url)) as session:
        return list(session.scalars(select(Interaction).where(Interaction.kind == InteractionKind.PURCHASE)))


def test_a_reported_purchase_is_stored_under_the_senders_pseudonym(tmp_path: Path) -> None:
    client, url = _client(tmp_path)
    answer = client.post("/api/purchases", json={"sender_id": "web-1", "item_ids": ["SKU-0001", "SKU-0002"]},
                         headers={"Authorization": f"Bearer {KEY}"})
    assert answer.status_code == 200 and answer.json() == {"stored": 2}
    rows = _rows(url)
    assert sorted(r.item_id or "" for r in rows) == ["SKU-0001", "SKU-0002"]
    assert {r.pseudonym for r in rows} == {Pseudonymiser(b"p" * 32).pseudonym("web-1")}
    assert all(r.customer_id is None for r in rows)


def test_a_consenting_customers_purchase_is_kept_under_the_customer(tmp_path: Path) -> None:
    client, url = _client(tmp_path)
    engine = make_engine(url)
    create_schema(engine)
    ProfileStore(engine).set_consent("web-2", True)
    client.post("/api/purchases", json={"sender_id": "web-2", "item_ids": ["SKU-0003"]},
                headers={"Authorization": f"Bearer {KEY}"})
    (row,) = _rows(url)
    assert row.customer_id is not None and row.pseudonym is None


def test_without_the_key_nothing_is_stored(tmp_path: Path) -> None:
    client, url = _client(tmp_path)
    body = {"sender_id": "web-1", "item_ids": ["SKU-0001"]}
    assert client.post("/api/purchases", json=body).status_code == 401
    assert client.post("/api/purchases", json=body, headers={"Authorization": "Bearer wrong"}).status_code == 401
    off, _ = _client(tmp_path / "off", key="")
    refused = off.post("/api/purchases", json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert refused.status_code == 404 and "SHOPKEEPER_PURCHASES_KEY" in refused.text
    engine = make_engine(url)
    create_schema(engine)
    assert _rows(url) == []


def test_a_malformed_report_is_refused_with_what_is_wrong(tmp_path: Path) -> None:
    client, _ = _client(tmp_path)
    headers = {"Authorization": f"Bearer {KEY}"}
    for body in ({"sender_id": "web-1", "item_ids": []}, {"sender_id": "", "item_ids": ["a"]},
                 {"sender_id": "web-1", "item_ids": ["a"], "price": 3}, {"item_ids": ["a"]}):
        answer = client.post("/api/purchases", json=body, headers=headers)
        assert answer.status_code == 422, body

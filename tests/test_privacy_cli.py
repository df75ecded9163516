"""``shopkeeper privacy purge`` on SQLite files: counts, ``--dry-run``, bad input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from shopkeeper_cli.main import main
from store.db import create_schema, make_engine
from store.models import Customer, Interaction, InteractionKind
from store.profiles import ProfileStore
from store.tracker import events


def databases(tmp_path: Path) -> tuple[str, str]:
    store_url, tracker_url = f"sqlite:///{tmp_path / 'shop.db'}", f"sqlite:///{tmp_path / 'tracker.db'}"
    store, tracker = make_engine(store_url), make_engine(tracker_url)
    create_schema(store)
    events.metadata.create_all(tracker)
    profiles = ProfileStore(store)
    old = datetime.now(UTC) - timedelta(days=200)
    for sender in ("web-old", "web-new"):
        profiles.set_consent(sender, True)
        profiles.record(sender, InteractionKind.LIKE, item_id="SKU-1")
        with tracker.begin() as connection:
            connection.execute(insert(events).values(
                sender_id=sender, type_name="user", data='{"event": "user", "text": "hi"}',
                timestamp=(old if sender == "web-old" else datetime.now(UTC)).timestamp()))
    with Session(store) as session, session.begin():
        session.execute(update(Customer).where(Customer.sender_id == "web-old").values(last_seen_at=old))
        session.execute(update(Interaction).values(created_at=old).where(
            Interaction.customer_id.in_(select(Customer.id).where(Customer.sender_id == "web-old"))))
    store.dispose()
    tracker.dispose()
    return store_url, tracker_url


def customers(url: str) -> int:
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return int(session.scalar(select(func.count()).select_from(Customer)) or 0)
    finally:
        engine.dispose()


def test_purge_reports_counts_and_the_dry_run_deletes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    store_url, tracker_url = databases(tmp_path)
    monkeypatch.setenv("SHOPKEEPER_PSEUDONYM_KEY", "k" * 32)
    monkeypatch.setenv("SHOPKEEPER_RETENTION_DAYS", "90")
    assert main(["privacy", "purge", "--dry-run", "--json", "--db", store_url, "--tracker-db", tracker_url]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert (dry["dry_run"], dry["conversations"], dry["customers"], dry["interactions"]) == (True, 1, 1, 1)
    assert customers(store_url) == 2
    assert main(["privacy", "purge", "--db", store_url, "--tracker-db", tracker_url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("deleted what was last active before") and "(90 days)" in out
    assert [line.split()[-1] for line in out.splitlines() if line.strip().startswith("customers")] == ["1"]
    assert customers(store_url) == 1
    assert main(["privacy", "purge", "--days", "300", "--json", "--db", store_url, "--tracker-db", tracker_url]) == 0
    assert json.loads(capsys.readouterr().out)["customers"] == 0


@pytest.mark.parametrize(("argv", "env", "message"), [
    (["--days", "0"], {}, "--days must be at least 1"),
    ([], {"SHOPKEEPER_RETENTION_DAYS": "soon"}, "SHOPKEEPER_RETENTION_DAYS must be a whole number"),
])
def test_bad_retention_is_refused_and_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch, argv: list[str],
                                                      env: dict[str, str], message: str) -> None:
    store_url, tracker_url = databases(tmp_path)
    monkeypatch.setenv("SHOPKEEPER_PSEUDONYM_KEY", "k" * 32)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["privacy", "purge", *argv, "--db", store_url, "--tracker-db", tracker_url]) == 2
    assert message in capsys.readouterr().err
    assert customers(store_url) == 2

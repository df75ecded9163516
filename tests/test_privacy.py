"""Privacy by default, on in-memory SQLite and on the real PostgreSQL (127.0.0.1:5432, migrated schema).

Row counts before and after consent, pseudonymous measurement, consent history, the export,
purge by age, erasure.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import Engine, func, insert, or_, select, update
from sqlalchemy.orm import Session

from evaluation.production_stack import PG, pg_database, services_available
from store.db import StoreSettings, create_schema, make_engine
from store.experiments import Experiment, Variant, experiment_report
from store.export import EXPORT_FORMAT, NothingStoredError, export_customer
from store.models import (
    ConsentEvent,
    ConsentEventKind,
    ConversationSummary,
    ConversationTag,
    Customer,
    Interaction,
    InteractionKind,
    Profile,
)
from store.profiles import ProfileStore
from store.pseudonyms import Pseudonymiser
from store.retention import purge
from store.tracker import events
from web.console.review import ReviewStore
from web.console.summaries import sync_summaries

KEY = b"pseudonym-key-for-tests-0123456789"
EXPERIMENT = Experiment("ranking", (Variant("control", 0.5, personalised=False), Variant("personal", 0.5)))


@dataclass
class Databases:
    """Our database and a tracker store with Rasa's ``events`` table."""

    store: Engine
    tracker: Engine


@pytest.fixture(params=["sqlite", "postgresql"])
def dbs(request: pytest.FixtureRequest) -> Iterator[Databases]:
    if request.param == "sqlite":
        store, tracker = make_engine("sqlite://"), make_engine("sqlite://")
        create_schema(store)
        events.metadata.create_all(tracker)
        yield Databases(store, tracker)
        return
    if "PostgreSQL" in (services_available() or ""):
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    with pg_database("shopkeeper_test_privacy") as ours, pg_database("shopkeeper_test_tracker") as theirs:
        store, tracker = make_engine(f"{PG}/{ours}"), make_engine(f"{PG}/{theirs}")
        try:
            create_schema(store)  # the Alembic migrations on PostgreSQL
            events.metadata.create_all(tracker)
            yield Databases(store, tracker)
        finally:
            store.dispose()
            tracker.dispose()


@pytest.fixture
def profiles(dbs: Databases) -> ProfileStore:
    return ProfileStore(dbs.store, pseudonyms=Pseudonymiser(KEY), variant_of=EXPERIMENT.label_for)


def rows(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def browse_and_like(profiles: ProfileStore, sender: str) -> None:
    """What the actions do for a customer who is shown cards and likes one."""
    profiles.touch(sender)
    profiles.record_many(sender, [(InteractionKind.IMPRESSION, f"SKU-{i}", i + 1) for i in range(3)], request_id="r-1")
    profiles.record(sender, InteractionKind.LIKE, item_id="SKU-1", request_id="r-1", rank=2)
    profiles.learn(sender, vector=np.ones(4, dtype=np.float32), attributes={"colour": "grey"}, category="Sofas")


def test_before_consent_nothing_is_stored_under_the_sender_id(profiles: ProfileStore, dbs: Databases) -> None:
    browse_and_like(profiles, "web-before")
    assert (rows(dbs.store, Customer), rows(dbs.store, Profile), rows(dbs.store, Interaction)) == (0, 0, 4)
    with Session(dbs.store) as session:
        logged = session.scalars(select(Interaction)).all()
        assert {i.customer_id for i in logged} == {None}
        assert len({i.pseudonym for i in logged}) == 1
        pseudonym = logged[0].pseudonym
        assert pseudonym is not None and "web-before" not in pseudonym
        assert pseudonym == Pseudonymiser(KEY).pseudonym("web-before")  # the same on every replica with the key
        assert {i.variant for i in logged} == {EXPERIMENT.label_for("web-before")}
    snapshot = profiles.snapshot("web-before")
    assert not snapshot.known and (snapshot.likes, snapshot.liked_items) == (0, ())


def test_the_consent_question_keeps_only_its_state_and_yes_starts_the_profile(
        profiles: ProfileStore, dbs: Databases) -> None:
    browse_and_like(profiles, "web-asked")
    profiles.mark_consent_asked("web-asked")
    assert (rows(dbs.store, Customer), rows(dbs.store, Profile)) == (1, 0)
    assert profiles.snapshot("web-asked").consent_asked
    profiles.set_consent("web-asked", True)
    assert rows(dbs.store, Profile) == 0  # created by the first thing learned, not by the answer alone
    browse_and_like(profiles, "web-asked")
    assert rows(dbs.store, Profile) == 1
    snapshot = profiles.snapshot("web-asked")
    assert snapshot.usable and (snapshot.likes, snapshot.liked_items) == (1, ("SKU-1",))
    with Session(dbs.store) as session:
        linked = session.scalar(select(func.count()).where(Interaction.customer_id.is_not(None)))
        unlinked = session.scalar(select(func.count()).where(Interaction.pseudonym.is_not(None)))
    assert (linked, unlinked) == (4, 4)  # before the yes: still pseudonymous


def test_withdrawing_consent_unlinks_the_interactions(profiles: ProfileStore, dbs: Databases) -> None:
    profiles.set_consent("web-w", True)
    browse_and_like(profiles, "web-w")
    profiles.set_consent("web-w", False)
    assert rows(dbs.store, Profile) == 0
    with Session(dbs.store) as session:
        assert session.scalar(select(func.count()).where(Interaction.customer_id.is_not(None))) == 0
        assert set(session.scalars(select(Interaction.pseudonym))) == {Pseudonymiser(KEY).pseudonym("web-w")}
    assert profiles.snapshot("web-w").consent is False


def test_experiments_count_customers_who_did_not_consent_by_pseudonym(profiles: ProfileStore) -> None:
    senders = [f"web-{n}" for n in range(40)]
    for sender in senders:
        profiles.record_many(sender, [(InteractionKind.IMPRESSION, "SKU-1", 1)], request_id=f"r-{sender}")
    profiles.set_consent(senders[0], True)
    profiles.record(senders[0], InteractionKind.CHOICE, item_id="SKU-1", request_id=f"r-{senders[0]}")
    reports = experiment_report(profiles.engine, EXPERIMENT)
    assert sum(r.customers for r in reports) == 41  # the one who consented counts as a pseudonym and a customer
    assert sum(r.acceptance.successes for r in reports) == 1


def test_forget_erases_the_pseudonymous_rows_too_and_only_that_senders(profiles: ProfileStore, dbs: Databases) -> None:
    browse_and_like(profiles, "web-gone")
    browse_and_like(profiles, "web-stays")
    profiles.mark_consent_asked("web-gone")
    report = profiles.forget("web-gone")
    assert (report.customers, report.interactions) == (1, 4)
    with Session(dbs.store) as session:
        assert set(session.scalars(select(Interaction.pseudonym))) == {Pseudonymiser(KEY).pseudonym("web-stays")}
    assert rows(dbs.store, Customer) == 0


def test_an_unknown_sender_changes_nothing(profiles: ProfileStore, dbs: Databases) -> None:
    assert profiles.learn("web-nobody", attributes={"colour": "red"}) is False
    profiles.touch("web-nobody")
    assert profiles.forget("web-nobody").customers == 0
    assert (rows(dbs.store, Customer), rows(dbs.store, Interaction)) == (0, 0)


def test_pseudonym_settings_come_from_the_environment(tmp_path: object) -> None:
    settings = StoreSettings.from_env({"SHOPKEEPER_PSEUDONYM_KEY": "k" * 20, "SHOPKEEPER_PSEUDONYM_ROTATION_DAYS": "7",
                                       "SHOPKEEPER_RETENTION_DAYS": "30"})
    assert (settings.pseudonym_key, settings.pseudonym_rotation_days, settings.retention_days) == (b"k" * 20, 7, 30)
    assert StoreSettings.from_env({"SHOPKEEPER_PSEUDONYM_KEY": "k" * 20}).retention_days == 90
    for bad in ({"SHOPKEEPER_RETENTION_DAYS": "0"}, {"SHOPKEEPER_RETENTION_DAYS": "ninety"},
                {"SHOPKEEPER_PSEUDONYM_KEY": "short"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            StoreSettings.from_env(bad)
    with pytest.raises(ValueError):
        Pseudonymiser(b"short")


def test_consent_history_records_each_step_in_order(profiles: ProfileStore, dbs: Databases) -> None:
    browse_and_like(profiles, "web-h")
    assert profiles.consent_history("web-h") == []  # nothing asked yet, nothing kept
    profiles.mark_consent_asked("web-h")
    profiles.set_consent("web-h", True)
    profiles.set_personalisation("web-h", False)
    profiles.set_personalisation("web-h", True)
    profiles.set_consent("web-h", False)
    profiles.set_consent("web-other", False)
    history = profiles.consent_history("web-h")
    assert [r.kind for r in history] == [ConsentEventKind.ASKED, ConsentEventKind.GIVEN,
                                         ConsentEventKind.PERSONALISATION_OFF, ConsentEventKind.PERSONALISATION_ON,
                                         ConsentEventKind.WITHDRAWN]
    assert all(r.at.tzinfo is not None for r in history)
    assert [r.at for r in history] == sorted(r.at for r in history)
    assert abs((history[-1].at - datetime.now(UTC)).total_seconds()) < 60
    assert [r.kind for r in profiles.consent_history("web-other")] == [ConsentEventKind.REFUSED]
    report = profiles.forget("web-h")
    assert report.consent_events == 5 and profiles.consent_history("web-h") == []
    assert rows(dbs.store, ConsentEvent) == 1


def store_conversation(tracker: Engine, sender: str, texts: list[str], *, at: float = 1_764_000_000.0) -> None:
    """Rasa-shaped user and bot events for ``sender`` in the tracker store."""
    with tracker.begin() as connection:
        for n, text in enumerate(texts):
            kind = "user" if n % 2 == 0 else "bot"
            connection.execute(insert(events).values(
                sender_id=sender, type_name=kind, timestamp=at + n, data=json.dumps({"event": kind, "text": text})))


def test_the_export_holds_profile_consent_history_interactions_and_the_conversation(
        profiles: ProfileStore, dbs: Databases) -> None:
    sender = "web-export"
    browse_and_like(profiles, sender)
    profiles.mark_consent_asked(sender)
    profiles.set_consent(sender, True)
    browse_and_like(profiles, sender)
    browse_and_like(profiles, "web-someone-else")
    store_conversation(dbs.tracker, sender, ["a grey sofa please", "Here are three."])
    store_conversation(dbs.tracker, "web-someone-else", ["my address is 1 Elm St", "Noted."])
    before = (rows(dbs.store, Customer), rows(dbs.store, Interaction), rows(dbs.store, ConsentEvent))
    document = export_customer(dbs.store, dbs.tracker, sender, pseudonyms=Pseudonymiser(KEY), retention_days=90)
    assert json.loads(json.dumps(document)) == document  # plain JSON
    assert (document["format"], document["sender_id"]) == (EXPORT_FORMAT, sender)
    assert document["customer"]["consent"] is True and document["customer"]["consent_asked"] is True
    assert document["profile"]["affinities"] == {"colour:grey": 1.0}
    assert document["profile"]["last_category"] == "Sofas" and len(document["profile"]["preference_vector"]) == 4
    assert [e["event"] for e in document["consent_history"]] == ["asked", "given"]
    linked = [i["linked_by"] for i in document["interactions"]]
    assert linked.count("pseudonym") == 4 and linked.count("customer") == 4
    assert {i["kind"] for i in document["interactions"]} == {"impression", "like"}
    assert [(e["type"], e["event"]["text"]) for e in document["conversation"]] == [
        ("user", "a grey sofa please"), ("bot", "Here are three.")]
    assert "Elm" not in json.dumps(document)
    after = (rows(dbs.store, Customer), rows(dbs.store, Interaction), rows(dbs.store, ConsentEvent))
    assert before == after  # exporting changes nothing


def test_an_export_for_a_sender_nothing_is_stored_about_is_refused(dbs: Databases) -> None:
    with pytest.raises(NothingStoredError, match="web-unknown"):
        export_customer(dbs.store, dbs.tracker, "web-unknown", pseudonyms=Pseudonymiser(KEY), retention_days=90)


DAY = 86_400.0


def age(dbs: Databases, sender: str, days: float) -> None:
    """Make everything of ``sender`` (customer, interactions, tracker events, summary) ``days`` old."""
    then = datetime.now(UTC) - timedelta(days=days)
    pseudonym = Pseudonymiser(KEY).pseudonym(sender)
    with Session(dbs.store) as session, session.begin():
        ids = session.scalars(select(Customer.id).where(Customer.sender_id == sender)).all()
        session.execute(update(Customer).where(Customer.id.in_(ids)).values(last_seen_at=then, created_at=then))
        session.execute(update(Interaction).where(or_(Interaction.customer_id.in_(ids),
                                                      Interaction.pseudonym == pseudonym)).values(created_at=then))
        session.execute(update(ConsentEvent).where(ConsentEvent.customer_id.in_(ids)).values(created_at=then))
        epoch = then.timestamp()
        session.execute(update(ConversationSummary).where(ConversationSummary.sender_id == sender)
                        .values(started_at=epoch, last_at=epoch))
    with dbs.tracker.begin() as connection:
        connection.execute(update(events).where(events.c.sender_id == sender).values(timestamp=then.timestamp()))


def customer_with_everything(profiles: ProfileStore, dbs: Databases, sender: str) -> None:
    browse_and_like(profiles, sender)  # 4 pseudonymous interactions
    profiles.mark_consent_asked(sender)
    profiles.set_consent(sender, True)
    browse_and_like(profiles, sender)  # 4 linked interactions, a profile
    store_conversation(dbs.tracker, sender, ["a lamp please", "Here you are.", "thanks", "Bye!"],
                       at=datetime.now(UTC).timestamp())
    ReviewStore(dbs.store).add_tag(sender, "follow-up", by="ana")
    ReviewStore(dbs.store).record_access(sender, "opened", by="ana")


def test_purge_deletes_by_age_everywhere_and_the_dry_run_only_counts(profiles: ProfileStore, dbs: Databases) -> None:
    for sender in ("web-old", "web-recent"):
        customer_with_everything(profiles, dbs, sender)
    sync_summaries(dbs.tracker, dbs.store)
    age(dbs, "web-old", 91)
    age(dbs, "web-recent", 89)

    def snapshot() -> tuple[int, ...]:
        with dbs.tracker.connect() as connection:
            tracked = int(connection.scalar(select(func.count()).select_from(events)) or 0)
        return (tracked, rows(dbs.store, Interaction), rows(dbs.store, Customer), rows(dbs.store, Profile),
                rows(dbs.store, ConsentEvent), rows(dbs.store, ConversationSummary), rows(dbs.store, ConversationTag))

    assert snapshot() == (8, 16, 2, 2, 4, 2, 2)
    dry = purge(dbs.store, dbs.tracker, retention_days=90, dry_run=True)
    assert snapshot() == (8, 16, 2, 2, 4, 2, 2)  # nothing deleted
    expected = {"conversations": 1, "events": 4, "interactions": 8, "summaries": 1, "customers": 1, "profiles": 1,
                "consent_events": 2}
    assert {k: v for k, v in dry.as_dict().items() if k in expected} == expected and dry.dry_run
    real = purge(dbs.store, dbs.tracker, retention_days=90)
    assert {k: v for k, v in real.as_dict().items() if k in expected} == expected and not real.dry_run
    assert snapshot() == (4, 8, 1, 1, 2, 1, 1)
    assert not profiles.snapshot("web-old").known and profiles.snapshot("web-recent").usable
    with Session(dbs.store) as session:
        assert set(session.scalars(select(ConversationSummary.sender_id))) == {"web-recent"}
    assert sync_summaries(dbs.tracker, dbs.store).erased == ()  # the console agrees with the tracker store
    assert [e.sender_id for e in ReviewStore(dbs.store).accesses()] == ["web-recent"]  # audit of the purged: gone
    with pytest.raises(NothingStoredError):
        export_customer(dbs.store, dbs.tracker, "web-old", pseudonyms=Pseudonymiser(KEY), retention_days=90)
    # a second run finds nothing left
    assert purge(dbs.store, dbs.tracker, retention_days=90).as_dict()["interactions"] == 0


def test_a_shorter_retention_deletes_more_and_a_conversation_still_going_on_is_kept_whole(
        profiles: ProfileStore, dbs: Databases) -> None:
    customer_with_everything(profiles, dbs, "web-a")
    store_conversation(dbs.tracker, "web-b", ["old first message"], at=datetime.now(UTC).timestamp() - 40 * DAY)
    store_conversation(dbs.tracker, "web-b", ["and a new one"], at=datetime.now(UTC).timestamp())
    age(dbs, "web-a", 40)
    assert purge(dbs.store, dbs.tracker, retention_days=90).customers == 0
    report = purge(dbs.store, dbs.tracker, retention_days=30)
    assert (report.customers, report.conversations, report.events) == (1, 1, 4)
    with dbs.tracker.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(events).where(events.c.sender_id == "web-b")) == 2
    with pytest.raises(ValueError, match="at least one day"):
        purge(dbs.store, dbs.tracker, retention_days=0)

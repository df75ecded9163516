"""Schema migrations: ``alembic upgrade head`` on an empty PostgreSQL database gives exactly the models' schema.

Also: upgrading twice and from several processes at once is harmless, a database made by ``create_all``
before migrations existed is adopted, retries ride out a dropped connection, and SQLite keeps working
with zero setup. Needs PostgreSQL on 127.0.0.1:5432 (skipped otherwise).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import OperationalError

from evaluation.production_stack import PG, TcpProxy, pg_database, services_available
from store.db import create_schema, make_engine
from store.migrate import INITIAL_REVISION, current_revision, schema_diff, target_metadata, upgrade
from store.profiles import ProfileStore
from store.retry import RetryPolicy, StoreUnavailableError, run_with_retry

pytestmark = pytest.mark.production


@pytest.fixture
def empty_pg() -> Iterator[Engine]:
    if services_available() and "PostgreSQL" in (services_available() or ""):
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    with pg_database("shopkeeper_test_schema") as name:
        engine = make_engine(f"{PG}/{name}")
        try:
            yield engine
        finally:
            engine.dispose()


def test_upgrade_head_on_an_empty_database_matches_the_models_exactly(empty_pg: Engine) -> None:
    assert current_revision(empty_pg) is None
    upgrade(empty_pg)
    assert current_revision(empty_pg) is not None
    assert schema_diff(empty_pg) == []
    tables = set(inspect(empty_pg).get_table_names())
    assert tables == set(target_metadata().tables) | {"alembic_version"}
    upgrade(empty_pg)  # idempotent
    assert schema_diff(empty_pg) == []


def test_replicas_starting_together_take_turns(empty_pg: Engine) -> None:
    errors: list[BaseException] = []

    def start() -> None:
        try:
            create_schema(make_engine(str(empty_pg.url.render_as_string(hide_password=False))))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert schema_diff(empty_pg) == []


def test_a_database_made_by_create_all_is_adopted(empty_pg: Engine) -> None:
    target_metadata().create_all(empty_pg)
    upgrade(empty_pg)
    assert current_revision(empty_pg) is not None
    with empty_pg.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM alembic_version")) == 1
    assert INITIAL_REVISION  # the adoption stamps the initial revision, then upgrades


def test_the_profile_store_works_on_postgresql_and_survives_a_dropped_connection(empty_pg: Engine) -> None:
    upgrade(empty_pg)
    with TcpProxy(5432) as proxy:
        url = empty_pg.url.set(port=proxy.port).render_as_string(hide_password=False)
        engine = make_engine(url)
        profiles = ProfileStore(engine, retry_policy=RetryPolicy(delays=(0.2, 0.5, 1.0, 1.0)))
        profiles.set_consent("pg-1", True)
        assert profiles.learn("pg-1", attributes={"colour": "grey"})
        proxy.cut()
        threading.Timer(1.0, proxy.restore).start()
        assert profiles.learn("pg-1", attributes={"colour": "grey"})  # retried across the outage
        assert profiles.snapshot("pg-1").affinities == {"colour:grey": 2.0}
        proxy.cut()
        try:
            with pytest.raises(StoreUnavailableError, match="NOT saved"):
                ProfileStore(engine, retry_policy=RetryPolicy(delays=(0.1, 0.1))).learn(
                    "pg-1", attributes={"colour": "blue"})
        finally:
            proxy.restore()
        assert profiles.snapshot("pg-1").affinities == {"colour:grey": 2.0}
        engine.dispose()


def test_only_connection_errors_are_retried() -> None:
    calls: list[int] = []

    def broken_statement() -> None:
        calls.append(1)
        raise ValueError("not a connection problem")

    with pytest.raises(ValueError):
        run_with_retry(broken_statement, what="x", policy=RetryPolicy(delays=(0, 0)))
    assert calls == [1]

    def down() -> None:
        calls.append(1)
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("refused"))

    with pytest.raises(StoreUnavailableError):
        run_with_retry(down, what="y", policy=RetryPolicy(delays=(0, 0)))
    assert len(calls) == 4


def test_sqlite_default_needs_no_setup(tmp_path: object) -> None:
    engine = make_engine("sqlite://")
    create_schema(engine)
    assert set(target_metadata().tables) <= set(inspect(engine).get_table_names())


def test_upgrading_an_old_database_unlinks_what_customers_who_did_not_consent_left(empty_pg: Engine) -> None:
    upgrade(empty_pg, INITIAL_REVISION)
    with empty_pg.begin() as connection:
        for sender, consent, asked in (("old-stranger", None, False), ("old-no", False, True), ("old-yes", True, True)):
            customer = connection.scalar(text(
                "INSERT INTO customers (sender_id, consent, consent_asked, personalisation, created_at, last_seen_at) "
                "VALUES (:s, :c, :a, true, now(), now()) RETURNING id"), {"s": sender, "c": consent, "a": asked})
            for _ in range(2):
                connection.execute(text(
                    "INSERT INTO interactions (customer_id, kind, detail, created_at) "
                    "VALUES (:c, 'IMPRESSION', '{}', now())"), {"c": customer})
    upgrade(empty_pg)
    with empty_pg.connect() as connection:
        assert connection.scalars(text("SELECT sender_id FROM customers ORDER BY sender_id")).all() == [
            "old-no", "old-yes"]
        linked = connection.execute(text(
            "SELECT c.sender_id, count(*) FROM interactions i JOIN customers c ON c.id = i.customer_id "
            "GROUP BY c.sender_id")).all()
        assert linked == [("old-yes", 2)]
        pseudonyms = connection.execute(text(
            "SELECT pseudonym, count(*) FROM interactions WHERE customer_id IS NULL GROUP BY pseudonym")).all()
        assert sorted(n for _, n in pseudonyms) == [2, 2]  # still countable per customer, linked to nobody
    assert schema_diff(empty_pg) == []

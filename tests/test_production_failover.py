"""Failover on the production path: a Rasa replica killed mid-conversation, and the gateway restarted.

Two Rasa replicas behind bot/gateway.py, on PostgreSQL (tracker store), Redis (lock store) and
RabbitMQ, as in tests/test_production.py, whose helpers these tests use. Thirty customers open
their conversations (a need, lists shown, a like, consent given), 24 of them on the replica that
is then killed (SIGKILL). The tests run in file order, on the same customers:

1. between turns: every customer goes on with the same need, the lists already shown and their
   consent; the tracker store holds each conversation exactly as it was, plus the new turns, each
   event once; the killed replica is restarted and rejoins;
2. with turns in flight: the rejoined replica is killed while it holds eight customers' messages
   (the action servers paused so the turns cannot end); the gateway sends each to the other
   replica once the dead turn's Redis ticket has expired (a minute), and it is answered once;
3. the gateway killed and restarted between turns: the conversations go on.

Each test prints its figures (conversations interrupted, continued, events lost and doubled).
Needs PostgreSQL, Redis and RabbitMQ on 127.0.0.1 (skipped with the reason when one is down), the
trained model and the built index.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from actions import texts
from evaluation.production_stack import ProductionStack, Service, running_production, services_available, wait_healthy
from evaluation.stack import StackError
from tests.test_production import (
    BURST,
    ORIGIN,
    RATE,
    as_rest_messages,
    events_of,
    interleavings,
    request,
    shop_scalar,
    summary,
)
from tests.test_security import gateway_module

pytestmark = [pytest.mark.e2e, pytest.mark.production]

INTERRUPTED, BYSTANDERS, IN_FLIGHT = 24, 6, 8
#: What each customer asks for: the message, the catalog category it names and the budget (each has 20+ items).
NEEDS = [("show me lamps under 150", "Lamps", 150), ("i need a sofa under 1500", "Sofas", 1500),
         ("a backpack under 130 please", "Backpacks", 130), ("i'm looking for a desk under 600", "Desks", 600),
         ("some headphones under 250", "Headphones", 250), ("a rug under 400", "Rugs", 400)]
#: Long enough for a resent message: the dead turn's ticket lives 60 s, then the turn itself.
TURN_TIMEOUT = 300


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionStack]:
    down = services_available()
    if down:
        pytest.skip(f"the production path needs PostgreSQL, Redis and RabbitMQ on 127.0.0.1; down: {down}")
    try:
        with running_production(tmp_path_factory.mktemp("failover"), rate=RATE, burst=BURST, cors=ORIGIN) as running:
            yield running
    except StackError as error:
        pytest.fail(str(error))


# -- customers --------------------------------------------------------------------------------


@dataclass
class Customer:
    """One conversation: what was said and answered, and every list of cards shown."""

    sender: str
    need: tuple[str, str, float]
    turns: list[tuple[str, list[str]]] = field(default_factory=list)
    lists: list[list[dict[str, Any]]] = field(default_factory=list)

    @property
    def category(self) -> str:
        return self.need[1]

    @property
    def seen(self) -> set[str]:
        return {card["id"] for shown in self.lists for card in shown}


def texts_of(reply: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or "" for m in reply)


def cards_of(reply: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [item for m in reply if isinstance(m.get("custom"), dict)
            for item in m["custom"].get("data", {}).get("items", [])]


def talk(stack: ProductionStack, customer: Customer, message: str) -> list[dict[str, Any]]:
    """One turn through the gateway; it must be answered (``200``, the REST channel's list)."""
    status, _, reply = request(f"{stack.url}/webhooks/rest/webhook", {"sender": customer.sender, "message": message},
                               timeout=TURN_TIMEOUT)
    assert status == 200 and isinstance(reply, list) and reply, (customer.sender, message, status, reply)
    customer.turns.append((message, [summary(m) for m in reply]))
    if cards_of(reply):
        customer.lists.append(cards_of(reply))
    return reply


def open_conversation(stack: ProductionStack, customer: Customer) -> None:
    """Greeting, a need, its first cards, a like and consent to be remembered."""
    talk(stack, customer, "hi")
    talk(stack, customer, customer.need[0])
    for _ in range(3):
        if customer.lists:
            break
        talk(stack, customer, "i don't mind")
    assert customer.lists, f"{customer.sender}: no cards for {customer.need[0]!r}"
    assert {c["category"] for c in customer.lists[0]} == {customer.category}, customer.lists[0]
    reply = talk(stack, customer, f'/feedback{{"item_id": "{customer.lists[-1][0]["id"]}", "sentiment": "like"}}')
    if texts.CONSENT_QUESTION in texts_of(reply):
        assert texts.CONSENT_YES in texts_of(talk(stack, customer, "yes"))
    assert shop_scalar(stack, "SELECT consent FROM customers WHERE sender_id = :s", s=customer.sender) is True


def asks_why(stack: ProductionStack, customer: Customer, ordinal: int) -> None:
    """Why the n-th card of the last list: only a conversation that kept that list can answer."""
    card = customer.lists[-1][ordinal - 1]
    reply = talk(stack, customer, f"why the {['first', 'second'][ordinal - 1]} one?")
    assert f"Why the {card['title']}:" in texts_of(reply), (customer.sender, card["title"], reply)


def asks_for_more(stack: ProductionStack, customer: Customer) -> None:
    """More of the same need: its category, within its budget, nothing shown before."""
    seen = customer.seen
    reply = talk(stack, customer, "show me more")
    shown = cards_of(reply)
    assert shown and texts.HERE_ARE_MORE in texts_of(reply), (customer.sender, reply)
    assert {c["category"] for c in shown} == {customer.category}, (customer.sender, shown)
    assert all(c["price"] <= customer.need[2] for c in shown), (customer.sender, shown)
    assert not seen & {c["id"] for c in shown}, f"{customer.sender}: shown again {seen & {c['id'] for c in shown}}"


def asks_what_is_remembered(stack: ProductionStack, customer: Customer) -> None:
    """The consent given before: the profile is there, not "I keep nothing"."""
    assert texts.PROFILE_INTRO in texts_of(talk(stack, customer, "what do you know about me"))


def in_parallel(customers: list[Customer], turn: Any) -> None:
    with ThreadPoolExecutor(12) as pool:
        list(pool.map(turn, customers))  # re-raises the first failure


# -- the tracker store, conversation by conversation --------------------------------------------


def tally(stack: ProductionStack, customers: list[Customer],
          before: dict[str, list[dict[str, Any]]] | None = None) -> tuple[int, int]:
    """Events lost and doubled over these conversations, then each checked exactly.

    Every customer message is stored once, in order, followed by exactly the answers its reply
    carried; what was stored before (``before``) is still there unchanged; turns never overlap.
    """
    stored = events_of(stack, [c.sender for c in customers])
    lost = doubled = 0
    for customer in customers:
        events = stored[customer.sender]
        said = Counter(m for m, _ in customer.turns)
        kept = Counter(e["text"] for e in events if e["type"] == "user")
        answered = Counter(a for _, reply in customer.turns for a in reply)
        got = Counter(a for e in events if e["type"] == "bot" for a in as_rest_messages(e))
        lost += sum((said - kept).values()) + sum((answered - got).values())
        doubled += sum((kept - said).values()) + sum((got - answered).values())
    for customer in customers:
        events = stored[customer.sender]
        if before is not None:
            old = before[customer.sender]
            assert events[:len(old)] == old, f"{customer.sender}: stored events changed or lost"
        users = [e["text"] for e in events if e["type"] == "user"]
        assert users == [m for m, _ in customer.turns], f"{customer.sender}: messages lost, doubled or moved"
        answers: list[list[str]] = []
        for event in events:
            if event["type"] == "user":
                answers.append([])
            elif event["type"] == "bot" and answers:
                answers[-1] += as_rest_messages(event)
        assert answers == [reply for _, reply in customer.turns], f"{customer.sender}: answers lost or doubled"
        assert interleavings(events) == 0, f"{customer.sender}: turns overlapped"
        stamps = [e["timestamp"] for e in events]
        assert stamps == sorted(stamps), f"{customer.sender}: timestamps not monotonic"
    return lost, doubled


# -- processes --------------------------------------------------------------------------------


def restart(stack: ProductionStack, service: Service) -> float:
    """Start a killed service again and wait until it serves; how long that took (s)."""
    assert service.process is not None
    if service.process.poll() is None:  # not killed after all (a test failed before)
        return 0.0
    started = time.monotonic()
    service.start()
    wait_healthy(service, stack.token)
    return time.monotonic() - started


@contextmanager
def paused(services: list[Service]) -> Iterator[None]:
    """Stop the processes (SIGSTOP) and let them go on afterwards: a turn waiting on them cannot end."""
    for service in services:
        assert service.process is not None
        os.killpg(service.process.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for service in services:
            assert service.process is not None
            os.killpg(service.process.pid, signal.SIGCONT)


def holding(stack: ProductionStack, customers: list[Customer]) -> int:
    """How many of these conversations have a turn under way: a ticket in Rasa's Redis lock store."""
    keys = [f"{stack.redis_prefix}:lock:{c.sender}" for c in customers]
    done = subprocess.run(["redis-cli", "-h", "127.0.0.1", "exists", *keys], capture_output=True, text=True,
                          timeout=30, check=True)
    return int(done.stdout.strip())


def orphaned_impressions(stack: ProductionStack, customers: list[Customer]) -> int:
    """Lists our database recorded as shown that no conversation shows: actions whose turn died after they ran."""
    shown = {reply[len("custom:"):] for c in customers for _, replies in c.turns for reply in replies
             if reply.startswith("custom:")}
    engine = create_engine(stack.shop_db_url)
    try:
        with engine.connect() as connection:
            recorded = set(connection.execute(text(
                "SELECT DISTINCT i.request_id FROM interactions i JOIN customers c ON c.id = i.customer_id "
                "WHERE c.sender_id = ANY(:senders) AND i.kind = 'IMPRESSION'"),
                {"senders": [c.sender for c in customers]}).scalars())
    finally:
        engine.dispose()
    return len(recorded - shown)


def resent_from(stack: ProductionStack, replica: Service) -> int:
    """How many requests the gateway took back from ``replica`` after it died holding them (from its log)."""
    log = stack.gateway.log.read_text(errors="replace")
    return log.count(f"replica {replica.url} died during a request")


# -- the customers, their conversations opened ----------------------------------------------------


@pytest.fixture(scope="module")
def customers(stack: ProductionStack) -> dict[str, list[Customer]]:
    """Thirty customers mid-conversation: ``interrupted`` on the replica the tests kill, ``bystanders`` not."""
    route = gateway_module().rendezvous
    replicas = [s.url for s in stack.rasa]
    victim = stack.rasa[0].url
    names = (f"failover-{n:03d}" for n in range(1000))
    groups: dict[str, list[Customer]] = {"interrupted": [], "bystanders": []}
    for name in names:
        group = "interrupted" if route(name, replicas)[0] == victim else "bystanders"
        if len(groups[group]) < (INTERRUPTED if group == "interrupted" else BYSTANDERS):
            groups[group].append(Customer(name, NEEDS[len(groups[group]) % len(NEEDS)]))
        if len(groups["interrupted"]) == INTERRUPTED and len(groups["bystanders"]) == BYSTANDERS:
            break
    in_parallel([*groups["interrupted"], *groups["bystanders"]], lambda c: open_conversation(stack, c))
    return groups


# -- 1. a replica killed between turns ------------------------------------------------------------


def test_a_killed_replica_s_customers_go_on_where_they_were_on_the_other(
        stack: ProductionStack, customers: dict[str, list[Customer]]) -> None:
    interrupted, everyone = customers["interrupted"], [*customers["interrupted"], *customers["bystanders"]]
    victim = stack.rasa[0]
    before = events_of(stack, [c.sender for c in everyone])
    assert tally(stack, everyone) == (0, 0)
    victim.kill()  # SIGKILL, its whole process group
    try:
        def go_on(customer: Customer) -> None:
            asks_why(stack, customer, 2)                # the list shown before the kill
            asks_for_more(stack, customer)              # the same need, nothing shown twice
            asks_what_is_remembered(stack, customer)    # the consent given before the kill

        in_parallel(everyone, go_on)
        lost, doubled = tally(stack, everyone, before)
    finally:
        took = restart(stack, victim)
    events = sum(len(v) for v in events_of(stack, [c.sender for c in interrupted]).values())
    print(f"\nreplica killed between turns: {len(interrupted)} conversations interrupted, {len(interrupted)} "
          f"went on with their need, lists and consent (+{len(customers['bystanders'])} on the other replica); "
          f"{events} events in them, {lost} lost, {doubled} doubled; restarted and serving in {took:.0f} s")
    assert (lost, doubled) == (0, 0)


# -- 2. a replica killed holding messages ---------------------------------------------------------


def test_messages_held_by_a_dying_replica_are_answered_by_the_other(
        stack: ProductionStack, customers: dict[str, list[Customer]]) -> None:
    held = customers["interrupted"][:IN_FLIGHT]  # back on the restarted replica, their first choice
    victim = stack.rasa[0]
    before = events_of(stack, [c.sender for c in held])
    resent = resent_from(stack, victim)
    results: dict[str, Exception | None] = {}
    killed_at = answered_at = 0.0

    def send(customer: Customer) -> None:
        nonlocal answered_at
        try:
            asks_for_more(stack, customer)
            results[customer.sender] = None
        except Exception as error:  # reported below, with the others
            results[customer.sender] = error
        answered_at = max(answered_at, time.monotonic())

    threads = [threading.Thread(target=send, args=(c,)) for c in held]
    try:
        with paused(stack.actions):  # the turns reach their action and wait there
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + TURN_TIMEOUT
            while holding(stack, held) < len(held):
                assert time.monotonic() < deadline, f"only {holding(stack, held)} turns under way"
                time.sleep(0.2)
            victim.kill()
            killed_at = time.monotonic()
        for thread in threads:
            thread.join(TURN_TIMEOUT + 30)
    finally:
        took = restart(stack, victim)
    failures = {s: repr(e) for s, e in results.items() if e is not None}
    assert not failures and len(results) == len(held), failures
    # the restarted replica had them (it had rejoined), and the gateway took each back once
    assert resent_from(stack, victim) - resent == len(held)
    lost, doubled = tally(stack, held, before)
    print(f"\nreplica killed holding {len(held)} messages: {len(held)} answered by the other replica, the last "
          f"{answered_at - killed_at:.0f} s after the kill, going on with their need; {lost} events lost, "
          f"{doubled} doubled; restarted and serving in {took:.0f} s; {orphaned_impressions(stack, held)} lists "
          f"recorded as shown by actions that ran for the dead turns")
    assert (lost, doubled) == (0, 0)


# -- 3. the gateway restarted ------------------------------------------------------------------------


def test_conversations_go_on_across_a_gateway_restart(
        stack: ProductionStack, customers: dict[str, list[Customer]]) -> None:
    everyone = [*customers["interrupted"], *customers["bystanders"]]
    before = events_of(stack, [c.sender for c in everyone])
    stack.gateway.kill()
    took = restart(stack, stack.gateway)

    def go_on(customer: Customer) -> None:
        asks_why(stack, customer, 1)
        asks_for_more(stack, customer)

    in_parallel(everyone, go_on)
    lost, doubled = tally(stack, everyone, before)
    print(f"\ngateway killed and restarted ({took:.1f} s) between turns: {len(everyone)} conversations went on "
          f"with their lists and need; {lost} events lost, {doubled} doubled")
    assert (lost, doubled) == (0, 0)

#!/usr/bin/env python3
"""Review console at scale: summary sync and list queries over 10,000 conversations.

Run from the repository root::

    .venv/bin/python -m benchmarks.console                      # 10,000 conversations, about half a minute
    .venv/bin/python -m benchmarks.console --conversations 2000 --repeat 20
    .venv/bin/python -m benchmarks.console --markdown out.md    # also write the tables as markdown

Tables go to stdout, progress to stderr. What is measured, on SQLite files in a temporary folder:

1. A tracker store in Rasa 3.6's ``events`` shape is filled with ``--conversations`` synthetic
   conversations over 90 days (fixed seed): greetings, requests answered by ``action_shop`` (which
   keeps the conversation in the ``shop_state`` slot), recommendation cards, 👍/👎 buttons, choices
   and satisfaction answers, rephrase prompts and handoffs, ~25 events each.
2. Summary sync (``web.console.summaries.sync_summaries``): the first full sync; a sync when nothing is
   new (what every page view pays); a sync after 100 new conversations; a sync after one
   conversation was erased ("forget me"), which takes the reconciliation path.
3. List queries (``web.console.summaries.list_conversations``, 50 rows plus the matching count, as the
   page asks): no filter, each filter, free text, a tag on 5% of conversations, and deep pages
   reached with the keyset cursor, ``--repeat`` times each; p50 and p95.
4. The whole list page over HTTP (FastAPI TestClient: session check, sync, query, template).
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from actions.conversation import Need, State
from benchmarks.reporting import (
    Report,
    Table,
    code_version,
    cpu_model,
    load_average,
    log,
    mem_total_gb,
    timed,
)
from retrieval.contract import (
    CUSTOM_DATA,
    ActionName,
    Awaiting,
    CardKey,
    PayloadKey,
    PayloadType,
    RasaAction,
    SlotName,
)
from store.db import create_schema, make_engine
from web.console.review import ReviewStore
from web.console.summaries import ConversationFilter, Cursor, list_conversations, sync_summaries

START = datetime(2026, 6, 1, tzinfo=UTC).timestamp()
DAYS = 90
WORDS = ["sofa", "desk", "lamp", "backpack", "armchair", "rug", "bookshelf", "bed", "grey", "blue", "oak",
         "leather", "cheap", "small flat", "office", "gift", "kids", "outdoor", "velvet", "modern"]
EVENTS_DDL = """
CREATE TABLE events (id INTEGER NOT NULL PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,
    type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT);
CREATE INDEX ix_events_sender_id ON events (sender_id);
"""


class _Rows:
    """A synthetic conversation being written: its rows and the clock, each event a few seconds after the last."""

    def __init__(self, rng: random.Random, sender: str, t: float) -> None:
        self.rng, self.sender, self.t = rng, sender, t
        self.rows: list[tuple[Any, ...]] = []

    def add(self, kind: str, intent: str | None = None, action: str | None = None, **data: Any) -> None:
        """One event of any kind."""
        self.t += self.rng.uniform(0.05, 20)
        self.rows.append((self.sender, kind, self.t, intent, action,
                          json.dumps({"event": kind, "timestamp": self.t, **data})))

    def act(self, name: str) -> None:
        """An action the rules predicted."""
        self.add("action", action=name, name=name, policy="RulePolicy", confidence=1.0)

    def user(self, text: str, intent: str, confidence: float = 0.97) -> None:
        """A customer message and its featurization event."""
        self.add("user", intent=intent, text=text, parse_data={
            "intent": {"name": intent, "confidence": confidence}, "entities": [], "text": text})
        self.add("user_featurization", use_text_for_featurization=False)

    def bot(self, text: str, custom: Any = None, buttons: Any = None) -> None:
        """An assistant message."""
        self.add("bot", text=text, data={"buttons": buttons, "custom": custom})

    def slot(self, name: str, value: Any) -> None:
        """A slot set."""
        self.add("slot", name=name, value=value)


def conversation(rng: random.Random, sender: str, t: float) -> list[tuple[Any, ...]]:
    """One synthetic conversation's rows: (sender, type, timestamp, intent, action, data)."""
    rows = _Rows(rng, sender, t)
    _greeting(rows)
    state, items = _first_list(rows, State())
    if rng.random() < 0.4:
        state = _feedback(rows, state, items)
    if rng.random() < 0.3:
        _choice(rows, state, items)
    if rng.random() < 0.08:
        rows.user("talk to a human", "human_handoff")
        rows.act(ActionName.HANDOFF)
        rows.bot("I've flagged this conversation.")
        rows.act(RasaAction.LISTEN)
    return rows.rows


def _greeting(rows: _Rows) -> None:
    """The session start and greeting, and now and then a message the NLU could not read."""
    rows.act(RasaAction.SESSION_START)
    rows.add("session_started")
    rows.act(RasaAction.LISTEN)
    rows.user("hi", "greet")
    rows.act(ActionName.GREET)
    rows.bot("Hello! I'm the Shopkeeper.")
    rows.act(RasaAction.LISTEN)


def _first_list(rows: _Rows, state: State) -> tuple[State, tuple[str, ...]]:
    """A request with a budget answered by three cards; the state after it and the items shown."""
    rng = rows.rng
    wish = " ".join(rng.sample(WORDS, 3))
    if rng.random() < 0.12:
        rows.user("blorp the wibble", "nlu_fallback", 0.2)
        rows.act(ActionName.SHOP)
        rows.bot("Sorry, did you mean…", buttons=[{"title": "Find something", "payload": "/request_recommendation"}])
        state = replace(state, unclear=1)
        rows.slot(SlotName.SHOP_STATE, state.to_dict())
        rows.act(RasaAction.LISTEN)
    budget = rng.choice([200, 500, 800, 1500])
    request = f"i need a {wish} under {budget}"
    rows.user(request, "request_recommendation")
    items = tuple(f"SKU-{rng.randrange(600):04d}" for _ in range(3))
    rows.act(ActionName.SHOP)
    cards = [{CardKey.ID: i, CardKey.TITLE: f"Item {i}", CardKey.PRICE: 99.0, CardKey.CURRENCY: "USD",
              CardKey.RANK: n + 1, CardKey.REASON: "under your budget"} for n, i in enumerate(items)]
    rows.bot("Here are a few things you might like:", custom={CUSTOM_DATA: {
        PayloadKey.TYPE: PayloadType.RECOMMENDATIONS, PayloadKey.REQUEST_ID: "r-1", PayloadKey.ITEMS: cards}})
    state = replace(state, need=Need(budget_max=float(budget), text=request, settled=("budget",)), lists=(items,),
                    reasons=("under your budget",) * len(items), seen=items, unclear=0)
    rows.slot(SlotName.SHOP_STATE, state.to_dict())
    rows.slot(SlotName.SHOWN_ITEMS, list(items))
    rows.slot(SlotName.REQUEST_ID, "r-1")
    rows.act(RasaAction.LISTEN)
    return state, items


def _feedback(rows: _Rows, state: State, items: tuple[str, ...]) -> State:
    """A like or a dislike of the first card, by its button."""
    sentiment = rows.rng.choice(["like", "dislike"])
    rows.user(f'/feedback{{"item_id": "{items[0]}", "sentiment": "{sentiment}"}}', "feedback", 1.0)
    rows.act(ActionName.SHOP)
    rows.bot("Noted.")
    liked = sentiment == "like"
    state = replace(state, liked=items[:1]) if liked else replace(state, rejected=items[:1])
    rows.slot(SlotName.SHOP_STATE, state.to_dict())
    rows.slot(SlotName.LIKED_ITEMS if liked else SlotName.REJECTED_ITEMS, [items[0]])
    rows.act(RasaAction.LISTEN)
    return state


def _choice(rows: _Rows, state: State, items: tuple[str, ...]) -> None:
    """The first card chosen, and a yes or no to "did that solve it?"."""
    rows.user("i'll take the first one", "choose_item")
    rows.act(ActionName.SHOP)
    rows.bot("Did that solve what you were looking for?", buttons=[{"title": "Yes", "payload": "/affirm"}])
    state = replace(state, chosen=items[:1], pending="satisfaction")
    rows.slot(SlotName.SHOP_STATE, state.to_dict())
    rows.slot(SlotName.AWAITING, Awaiting.SATISFACTION)
    rows.act(RasaAction.LISTEN)
    rows.user(*rows.rng.choice([("yes", "affirm"), ("no", "deny")]))
    rows.act(ActionName.SHOP)
    rows.slot(SlotName.SHOP_STATE, replace(state, pending=None).to_dict())
    rows.slot(SlotName.AWAITING, None)
    rows.act(RasaAction.LISTEN)


def fill(db: Path, rng: random.Random, count: int, prefix: str, start: float = START) -> int:
    rows: list[tuple[Any, ...]] = []
    for n in range(count):
        rows += conversation(rng, f"{prefix}-{n:05d}", start + rng.uniform(0, DAYS * 86400))
    rows.sort(key=lambda r: r[2])  # stored in time order, turns of many customers interleaved
    fresh = not db.exists()
    with sqlite3.connect(db) as connection:
        if fresh:
            connection.executescript(EVENTS_DDL)
        connection.executemany("INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                               "VALUES (?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1] if len(values) > 1 else values[0]


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=10_000, help="synthetic conversations (default 10,000)")
    parser.add_argument("--repeat", type=int, default=50, help="runs of each list query (default 50)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--markdown", type=Path, help="also write the tables here as markdown")
    opts = parser.parse_args(argv)
    rng = random.Random(opts.seed)
    report = Report()
    report.line("Command: `.venv/bin/python -m benchmarks.console"
                + (f" {' '.join(sys.argv[1:])}`" if sys.argv[1:] else "`"))
    report.line(f"Machine: {cpu_model()}, {mem_total_gb():.0f} GB RAM; Python {sys.version.split()[0]}; "
                f"SQLite {sqlite3.sqlite_version}; {code_version()}")
    report.line(f"Run: started {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; load average {load_average()} at start.")

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        tracker_db = work / "tracker.db"
        log(f"writing {opts.conversations:,} conversations")
        events = fill(tracker_db, rng, opts.conversations, "c")
        tracker = make_engine(f"sqlite:///{tracker_db}")
        store = make_engine(f"sqlite:///{work / 'shop.db'}")
        create_schema(store)
        log(f"{events:,} events written; first sync")
        report.table(sync_table(tracker_db, tracker, store, rng, opts.conversations, events))

        log("tagging 5% of conversations, reviewing 20%")
        reviews = ReviewStore(store)
        for n in range(0, opts.conversations, 20):
            reviews.add_tag(f"c-{n:05d}", "needs-nlu-data", by="bench")
        for n in range(0, opts.conversations, 5):
            reviews.set_reviewed(f"c-{n:05d}", True, by="bench")
        report.table(queries_table(store, opts.repeat))

        log("list page over HTTP")
        report.table(http_table(work, tracker_db, store, opts.repeat))
    report.line(f"Load average at end: {load_average()}.")
    report.write(opts.markdown)
    return 0


def sync_table(tracker_db: Path, tracker: Any, store: Any, rng: random.Random, conversations: int,
               events: int) -> Table:
    """Time the console's summary sync: the first, with nothing new, after new conversations and an erasure."""
    sync = Table("Summary sync", ["sync", "events read", "ms"])
    started = time.perf_counter()
    first = sync_summaries(tracker, store)
    sync.add(f"first, {conversations:,} conversations", f"{first.events_read:,}",
             f"{(time.perf_counter() - started) * 1000:,.0f}")
    idle = timed(lambda: sync_summaries(tracker, store, check_erasures=False), 30)
    sync.add("nothing new (p50 of 30)", "0", f"{statistics.median(idle):.1f}")
    idle = timed(lambda: sync_summaries(tracker, store), 30)
    sync.add("nothing new, with the erasure check (p50 of 30)", "0", f"{statistics.median(idle):.1f}")
    more = fill(tracker_db, rng, 100, "n", START + DAYS * 86400)
    started = time.perf_counter()
    step = sync_summaries(tracker, store)
    step_ms = (time.perf_counter() - started) * 1000
    sync.add("after 100 new conversations", f"{step.events_read:,}", f"{step_ms:.0f}")
    assert step.events_read == more
    with sqlite3.connect(tracker_db) as connection:
        connection.execute("DELETE FROM events WHERE sender_id = 'c-00042'")
    started = time.perf_counter()
    erased = sync_summaries(tracker, store)
    sync.add("after one conversation was erased", "0", f"{(time.perf_counter() - started) * 1000:.0f}")
    assert erased.erased == ("c-00042",)
    sync.notes.append(f"{events + more:,} events in the tracker store; SQLite files on local disk.")
    sync.notes.append("The console counts events to look for erasures at most every 10 s "
                      "(ConsoleConfig.erasure_check_seconds); other page views pay the plain sync.")
    return sync


def _walk(store: Any, filters: ConversationFilter, pages: int) -> tuple[Cursor | None, int]:
    """The cursor after up to ``pages`` pages of 50 (stopping at the last), and how many pages were passed."""
    after: Cursor | None = None
    walked = 0
    for _ in range(pages):
        page = list_conversations(store, filters, limit=50, after=after, count=False)
        if page.next_cursor is None:
            break
        after, walked = page.next_cursor, walked + 1
    return after, walked


def list_cases(store: Any) -> tuple[int, list[tuple[str, ConversationFilter, Cursor | None]]]:
    """The conversations in the store, and the list queries to time: each filter, and two deep pages."""
    total = list_conversations(store, limit=1).total or 0
    deep_cursor: Cursor | None = None
    after: Cursor | None = None
    deep_pages = min(180, max(total // 50 - 1, 0))
    for _ in range(deep_pages):
        page = list_conversations(store, limit=50, after=after, count=False)
        after = page.next_cursor
    deep_cursor = after
    mid = date(2026, 7, 1)
    cases: list[tuple[str, ConversationFilter, Cursor | None]] = [
        ("no filter, first page", ConversationFilter(), None),
        ("disliked an item", ConversationFilter(disliked=True), None),
        ("fallback", ConversationFilter(fallback=True), None),
        ("handoff", ConversationFilter(handoff=True), None),
        ("nothing chosen", ConversationFilter(nothing_chosen=True), None),
        ("tag (5% of conversations)", ConversationFilter(tag="needs-nlu-data"), None),
        ("not reviewed", ConversationFilter(reviewed=False), None),
        ("date range (one week)", ConversationFilter(start=mid, end=date(2026, 7, 7)), None),
        ("free text \"velvet\"", ConversationFilter(text="velvet"), None),
        ("free text, two words", ConversationFilter(text="grey velvet"), None),
        ("handoff + not reviewed + text", ConversationFilter(handoff=True, reviewed=False, text="sofa"), None),
        (f"deep page (rows {50 * deep_pages + 1:,}+), no filter", ConversationFilter(), deep_cursor),
    ]
    if deep_cursor is not None:
        unchosen_after, walked = _walk(store, ConversationFilter(nothing_chosen=True), 100)
        cases.append((f"deep page (rows {50 * walked + 1:,}+), nothing chosen",
                      ConversationFilter(nothing_chosen=True), unchosen_after))
    return total, cases


def queries_table(store: Any, repeat: int) -> Table:
    """Time each list query (:func:`list_cases`), with the count the page shows and without."""
    total, cases = list_cases(store)
    queries = Table(f"List queries over {total:,} conversations (50 rows + count)",
                    ["query", "matches", "p50 ms", "p95 ms", "page only p50 ms"])
    for name, filters, cursor in cases:
        log(f"query: {name}")
        matches = list_conversations(store, filters, limit=1).total or 0
        with_count = timed(functools.partial(list_conversations, store, filters, limit=50, after=cursor), repeat)
        page_only = timed(functools.partial(list_conversations, store, filters, limit=50, after=cursor,
                                            count=False), repeat)
        queries.add(name, f"{matches:,}", f"{statistics.median(with_count):.1f}", f"{p(with_count, 95):.1f}",
                    f"{statistics.median(page_only):.1f}")
    queries.notes.append(f"{repeat} runs each; keyset pagination on (last_at, id); the count is what the "
                         "page shows as 'N conversations'.")
    return queries


def http_table(work: Path, tracker_db: Path, store: Any, repeat: int) -> Table:
    """Time the console's pages over HTTP, signed in: the list, a filtered list and the metrics."""
    from argon2 import PasswordHasher
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from web.console import Console, console_router
    from web.console.accounts import AccountStore
    from web.console.service import ConsoleConfig

    config = ConsoleConfig(f"sqlite:///{work / 'shop.db'}", f"sqlite:///{tracker_db}")
    accounts = AccountStore(store, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    accounts.add_user("bench", "benchmark-password")
    app = FastAPI()
    app.include_router(console_router(config, Console(config, accounts=accounts)))
    client = TestClient(app)
    token = client.get("/console/login").text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/console/login", data={"name": "bench", "password": "benchmark-password", "csrf_token": token})
    http = Table("List page over HTTP (session check, sync, query, template)", ["page", "p50 ms", "p95 ms"])
    for name, query in [("first page", ""), ("handoff + text", "?handoff=1&q=sofa"),
                        ("metrics, 90 days", None)]:
        path = ("/console/metrics?start=2026-06-01&end=2026-08-29" if query is None
                else f"/console/conversations{query}")
        assert client.get(path).status_code == 200
        runs = timed(functools.partial(client.get, path), max(10, repeat // 2))
        http.add(name, f"{statistics.median(runs):.1f}", f"{p(runs, 95):.1f}")
    return http


if __name__ == "__main__":
    sys.exit(main())

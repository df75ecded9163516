#!/usr/bin/env python3
"""Soak: simulated customers for an hour on the production path; memory, latency and errors over time.

Run from the repository root (``make bench-soak``; the model and the index must exist, and PostgreSQL,
Redis and RabbitMQ must listen on 127.0.0.1)::

    .venv/bin/python -m benchmarks.soak                          # 20 customers, 60 measured minutes
    .venv/bin/python -m benchmarks.soak --minutes 10             # a quick look (make bench-soak MINUTES=10)
    .venv/bin/python -m benchmarks.soak --growth-only            # only one long conversation's stored bytes
    .venv/bin/python -m benchmarks.soak --markdown /tmp/soak.md --logs /tmp/soak-logs

What runs: ``evaluation.production_stack.running_production`` — ``bot/gateway.py`` (its default rate
limit) in front of ``--rasa`` Rasa servers and ``--actions`` action servers, PostgreSQL tracker store
and database (fresh ones, dropped at the end), Redis lock store, RabbitMQ event broker; the demo
catalog. The web app is not part of this path (it serves pages, not turns) and is not started.

The customers: ``--customers`` threads over the gateway's REST channel. Each plays the demo
conversations of the shopper suites (``tests/conversations``, ``evaluation.conversations.play``) in its
own shuffled order, each conversation under a fresh sender id, pausing a random 0 to 2 × ``--think``
seconds before every message as a person reading the answer would; the suites' checks are evaluated
as in ``make bench-conversations``. Customer 0 first holds one long conversation, ``--long-turns``
messages of ``benchmarks.turns.LONG_SCRIPT`` under one sender (requests, answers, critiques, a
change of mind, again and again), then plays the suites like the others.

What is measured, after ``--warmup`` unmeasured minutes with every customer talking:

* per ``--window``-minute window: turns, p50/p95/max turn latency (one POST, sending to having every bot
  message), errors (no answer, an HTTP error such as the gateway's 503 apology or a 429, or a reply that
  is not a list of messages), the share of the suites' checks that passed in the conversations that
  ended in the window, and the resident memory (``VmRSS``, summed over each process group) of every
  process of the stack at the window's end;
* at the end: the size of every table of both PostgreSQL databases, the gateway's counters, and the
  long conversation's stored events per turn (bytes of the ``data`` column of Rasa's ``events`` table
  for the turn's events), early against late, by kind of event;
* the targets of the soak (issue 29): resident memory growth < 10 % after the warm-up (the end of the
  last window against the end of the warm-up, per process), p95 drift < 20 % (last window against the
  first) and 0 errors.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.bare_rasa import rss_mb
from benchmarks.conversations import available_runs, read_products
from benchmarks.load import post
from benchmarks.reporting import (
    Report,
    Table,
    code_version,
    cpu_model,
    load_average,
    log,
    mem_total_gb,
    percentile,
)
from benchmarks.turns import LONG_SCRIPT
from evaluation.conversations import (
    Conversation,
    ConversationResult,
    catalog_by_id,
    catalog_placeholders,
    load_suites,
    play,
)
from evaluation.production_stack import ProductionStack, running_production, services_available
from evaluation.stack import get
from retrieval.contract import SlotName
from retrieval.paths import PROJECT_ROOT as REPO

#: The soak's targets (issue 29).
RSS_GROWTH_TARGET = 0.10
P95_DRIFT_TARGET = 0.20
#: Turns per span of the long conversation's growth table.
SPAN = 10


# --- what the customers record ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnRecord:
    """One message: when it was answered (monotonic seconds), how long it took, whether it was answered."""

    at: float
    seconds: float
    ok: bool


@dataclass(frozen=True)
class ChecksRecord:
    """One finished suite conversation: when it ended and how many of its checks passed."""

    at: float
    passed: int
    total: int


@dataclass(frozen=True)
class Sample:
    """The stack's resident memory at one moment."""

    label: str
    load: str
    rss: dict[str, float]


@dataclass
class Journal:
    """Everything the customers record, shared by their threads."""

    turns: list[TurnRecord] = field(default_factory=list)
    checks: list[ChecksRecord] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def turn(self, started: float, ok: bool) -> None:
        """Record a message sent at ``started`` (``time.monotonic()``) and answered now."""
        now = time.monotonic()
        with self.lock:
            self.turns.append(TurnRecord(now, now - started, ok))

    def conversation(self, result: ConversationResult) -> None:
        """Record a finished suite conversation's checks."""
        checks = result.checks
        with self.lock:
            self.checks.append(ChecksRecord(time.monotonic(), sum(c.passed for c in checks), len(checks)))


class Stopped(Exception):
    """The soak is over: the customer stops mid-conversation."""


# --- processes and their memory -----------------------------------------------------------------------------------


def parse_stat(text: str) -> tuple[int, int]:
    """``(pid, process group)`` from the text of ``/proc/PID/stat`` (the command may hold spaces and parentheses).

    >>> parse_stat("4242 (rasa (x) y) S 1 4240 4240 0 -1")
    (4242, 4240)
    """
    pid = int(text.split(" ", 1)[0])
    after_command = text[text.rindex(")") + 2:].split()
    return pid, int(after_command[2])


def group_pids(group: int, proc: Path = Path("/proc")) -> list[int]:
    """The processes of a process group, as ``/proc`` lists them now."""
    pids = []
    for stat in proc.glob("[0-9]*/stat"):
        try:
            pid, pgid = parse_stat(stat.read_text())
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile, or not a process
        if pgid == group:
            pids.append(pid)
    return sorted(pids)


def group_rss_mb(group: int) -> float:
    """Resident memory summed over a process group's processes, in MB (NaN when none is left)."""
    values = [v for v in (rss_mb(pid) for pid in group_pids(group)) if v == v]
    return sum(values) if values else float("nan")


def stack_groups(stack: ProductionStack) -> dict[str, int]:
    """Every process of the stack by service name, as its process group (each service starts its own)."""
    groups = {}
    for service in [*stack.rasa, *stack.actions, stack.gateway]:
        if service.process is not None:
            groups[service.name] = service.process.pid
    return groups


def sample_memory(groups: Mapping[str, int], label: str) -> Sample:
    """Every group's resident memory now."""
    return Sample(label, load_average(), {name: group_rss_mb(pgid) for name, pgid in groups.items()})


# --- the customers ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shop:
    """Where the customers talk and what they say."""

    url: str
    conversations: tuple[Conversation, ...]
    catalog: Mapping[str, Mapping[str, Any]]
    think: float
    run: str


def sender_for(shop: Shop, journal: Journal, stop: threading.Event, rng: random.Random) -> Callable[..., Any]:
    """``send(sender, text)`` for :func:`evaluation.conversations.play`: think, post, record the turn."""

    def send(sender: str, text: str) -> list[dict[str, Any]]:
        if stop.wait(rng.uniform(0, 2 * shop.think)) or stop.is_set():
            raise Stopped
        started = time.monotonic()
        ok, reply = post(shop.url, sender, text)
        journal.turn(started, ok)
        if not ok:
            raise RuntimeError("no answer, an HTTP error or a reply that is not a list of messages")
        return reply

    return send


def suite_customer(shop: Shop, number: int, journal: Journal, stop: threading.Event, seed: int) -> None:
    """Play the suites' conversations in a shuffled order, again and again, until ``stop``."""
    rng = random.Random(seed * 1000 + number)
    send = sender_for(shop, journal, stop, rng)
    order = list(shop.conversations)
    played = 0
    while not stop.is_set():
        rng.shuffle(order)
        for conversation in order:
            result = play(conversation, send, sender=f"soak-{shop.run}-c{number}-{played}", catalog=shop.catalog)
            played += 1
            if stop.is_set():
                return  # the conversation was cut short: its checks say nothing
            journal.conversation(result)


def long_customer(shop: Shop, sender: str, turns: int, journal: Journal, stop: threading.Event, seed: int) -> int:
    """One conversation of ``turns`` messages of ``LONG_SCRIPT`` under ``sender``; how many were sent."""
    send = sender_for(shop, journal, stop, random.Random(seed))
    for n in range(turns):
        try:
            send(sender, LONG_SCRIPT[n % len(LONG_SCRIPT)])
        except Stopped:
            return n
        except RuntimeError:
            pass  # counted as an error; the conversation goes on
    return turns


# --- windows and targets ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """What one window of the measured time saw."""

    start: float
    end: float
    latencies: tuple[float, ...]
    errors: int
    checks_passed: int
    checks: int

    def ms(self, q: float) -> float:
        """The ``q``-th percentile of the answered turns' latency, in ms (NaN without any)."""
        return percentile(self.latencies, q) * 1000.0

    @property
    def turns(self) -> int:
        """Messages sent and finished in the window, answered or not."""
        return len(self.latencies) + self.errors


def windows(journal: Journal, start: float, length: float, count: int) -> list[Window]:
    """Cut the journal's turns and checks into ``count`` windows of ``length`` seconds from ``start``."""
    with journal.lock:
        every_turn, every_check = list(journal.turns), list(journal.checks)
    found = []
    for n in range(count):
        low, high = start + n * length, start + (n + 1) * length
        turns = [t for t in every_turn if low <= t.at < high]
        checks = [c for c in every_check if low <= c.at < high]
        found.append(Window(low, high, tuple(t.seconds for t in turns if t.ok), sum(not t.ok for t in turns),
                            sum(c.passed for c in checks), sum(c.total for c in checks)))
    return found


def change(before: float, after: float) -> float:
    """Relative change from ``before`` to ``after`` (0.1 is +10 %); NaN when ``before`` is not positive.

    >>> round(change(200.0, 230.0), 3)
    0.15
    """
    return (after - before) / before if before > 0 else float("nan")


@dataclass(frozen=True)
class Verdict:
    """One target of the soak, against what was measured."""

    measure: str
    target: str
    measured: str
    met: bool


def verdicts(rss_before: Mapping[str, float], rss_after: Mapping[str, float], measured: Sequence[Window]
             ) -> list[Verdict]:
    """The three targets: memory growth per process, p95 drift (last window against the first), errors."""
    growth = {name: change(rss_before[name], rss_after.get(name, float("nan"))) for name in rss_before}
    worst = max(growth, key=lambda n: growth[n] if growth[n] == growth[n] else float("inf"), default=None)
    found = []
    if worst is not None:
        value = growth[worst]
        found.append(Verdict("resident memory growth after warm-up (largest, per process)",
                             f"< {RSS_GROWTH_TARGET:.0%}", f"{value:+.1%} ({worst})", value < RSS_GROWTH_TARGET))
    if measured:
        first, last = measured[0].ms(95), measured[-1].ms(95)
        drift = change(first, last)
        found.append(Verdict("p95 drift (last window against the first)", f"< {P95_DRIFT_TARGET:.0%}",
                             f"{drift:+.1%} ({first:.0f} → {last:.0f} ms)", drift < P95_DRIFT_TARGET))
    errors = sum(w.errors for w in measured)
    found.append(Verdict("errors", "0", str(errors), errors == 0))
    return found


# --- stored events per turn ---------------------------------------------------------------------------------------

#: The kinds of stored event the growth table tells apart, in its column order.
EVENT_KINDS = ("shop_state slot", "seen_items slot", "other slots", "bot", "user", "actions and the rest")


def event_kind(type_name: str, data: Mapping[str, Any]) -> str:
    """Which column of the growth table a stored event counts in."""
    if type_name == "slot":
        name = data.get("name")
        if name == SlotName.SHOP_STATE:
            return "shop_state slot"
        if name == SlotName.SEEN_ITEMS:
            return "seen_items slot"
        return "other slots"
    return type_name if type_name in ("bot", "user") else "actions and the rest"


@dataclass
class TurnBytes:
    """The stored events of one turn: the customer's message and everything until the next one."""

    events: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        """Bytes of the turn's events."""
        return sum(self.by_kind.values())


def turn_bytes(rows: Sequence[tuple[str, str]]) -> list[TurnBytes]:
    """Per turn, the bytes of its stored events, from ``(type_name, data)`` rows in storage order.

    Events before the first message (the session's start) are left out: they are no turn's.
    """
    turns: list[TurnBytes] = []
    for type_name, data in rows:
        if type_name == "user":
            turns.append(TurnBytes())
        if not turns:
            continue
        try:
            parsed = json.loads(data)
        except ValueError:
            parsed = {}
        kind = event_kind(type_name, parsed if isinstance(parsed, dict) else {})
        turn = turns[-1]
        turn.events += 1
        turn.by_kind[kind] = turn.by_kind.get(kind, 0) + len(data.encode("utf-8"))
    return turns


def spans(turns: int, width: int = SPAN, count: int = 5) -> list[tuple[int, int]]:
    """Up to ``count`` spans of ``width`` turns (0-based, end excluded), spread from the first turn to the last.

    The first and the last are always there; one between them is left out when it would overlap another.

    >>> spans(120)
    [(0, 10), (28, 38), (55, 65), (82, 92), (110, 120)]
    >>> spans(25)
    [(0, 10), (15, 25)]
    >>> spans(4)
    [(0, 4)]
    """
    if turns <= width:
        return [(0, turns)] if turns else []
    last = turns - width
    kept = [0]
    for start in (round(last * n / (count - 1)) for n in range(1, count - 1)):
        if start >= kept[-1] + width and start + width <= last:
            kept.append(start)
    return [(s, s + width) for s in [*kept, last]]


def mean_bytes(turns: Sequence[TurnBytes], kind: str | None = None) -> float:
    """Mean bytes per turn, of one kind of event or all (NaN for no turn)."""
    if not turns:
        return float("nan")
    return sum(t.total if kind is None else t.by_kind.get(kind, 0) for t in turns) / len(turns)


# --- the databases ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Storage:
    """One database at the end: its size and each table's rows and size (bytes, indexes and TOAST included)."""

    name: str
    size: int
    tables: tuple[tuple[str, int, int], ...]


def storage(label: str, url: str) -> Storage:
    """Read a PostgreSQL database's size and its tables' (the ``public`` schema)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            size = int(connection.scalar(text("SELECT pg_database_size(current_database())")) or 0)
            names = connection.execute(text(
                "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r' "
                "ORDER BY 2 DESC, 1")).all()
            tables = tuple((str(name), int(connection.scalar(text(f'SELECT count(*) FROM "{name}"')) or 0),
                            int(table_size)) for name, table_size in names)
    finally:
        engine.dispose()
    return Storage(label, size, tables)


def stored_events(url: str, sender: str) -> list[tuple[str, str]]:
    """A conversation's ``(type_name, data)`` rows of Rasa's ``events`` table, in storage order."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT type_name, data FROM events WHERE sender_id = :sender ORDER BY id"),
                                      {"sender": sender}).all()
    finally:
        engine.dispose()
    return [(str(type_name), str(data)) for type_name, data in rows]


# --- tables -------------------------------------------------------------------------------------------------------


def _mb(value: float) -> str:
    return "—" if value != value else f"{value:.0f}"


def windows_table(measured: Sequence[Window], samples: Sequence[Sample]) -> Table:
    """Turns, latency, errors and checks per window (``samples``: idle, end of warm-up, then each window's end)."""
    minutes = (measured[0].end - measured[0].start) / 60 if measured else float("nan")
    table = Table(f"Turns per {minutes:g}-minute window",
                  ["window (min)", "turns", "turns/s", "p50 ms", "p95 ms", "p95 vs first", "max ms", "errors",
                   "checks passed", "load avg at end"])
    first = measured[0].ms(95) if measured else float("nan")
    for n, (window, sample) in enumerate(zip(measured, samples[2:], strict=False)):
        span = window.end - window.start
        checks = f"{window.checks_passed / window.checks:.1%} of {window.checks}" if window.checks else "—"
        table.add(f"{n * minutes:g}–{(n + 1) * minutes:g}", window.turns, f"{window.turns / span:.1f}",
                  f"{window.ms(50):.0f}", f"{window.ms(95):.0f}", f"{change(first, window.ms(95)):+.0%}",
                  f"{max(window.latencies, default=float('nan')) * 1000:.0f}", window.errors, checks, sample.load)
    return table


def memory_table(samples: Sequence[Sample]) -> Table:
    """Resident memory of every process of the stack at each window's end."""
    names = list(samples[0].rss) if samples else []
    table = Table("Resident memory of each process of the stack (MB, VmRSS)",
                  ["when", *names, "total", "total vs warm"])
    warm = next((sum(s.rss.values()) for s in samples if s.label.startswith("end of warm-up")), float("nan"))
    for sample in samples:
        total = sum(sample.rss.values())
        table.add(sample.label, *[_mb(sample.rss.get(n, float("nan"))) for n in names], _mb(total),
                  f"{change(warm, total):+.1%}" if sample.label != "idle" else "—")
    return table


def targets_table(found: Sequence[Verdict]) -> Table:
    """The soak's targets beside what was measured."""
    table = Table("Targets (issue 29)", ["measure", "target", "measured", "met"])
    for verdict in found:
        table.add(verdict.measure, verdict.target, verdict.measured, "yes" if verdict.met else "NO")
    return table


def storage_table(stores: Sequence[Storage]) -> Table:
    """Every table of both databases at the end."""
    table = Table("Databases at the end (PostgreSQL)", ["database", "table", "rows", "MB"])
    for store in stores:
        for name, rows, size in store.tables:
            table.add(store.name, name, f"{rows:,}", f"{size / 1e6:.2f}")
        table.add(store.name, "(whole database)", "", f"{store.size / 1e6:.2f}")
    return table


def growth_table(turns: Sequence[TurnBytes], sender: str) -> Table:
    """The long conversation's stored bytes per turn, early against late, by kind of event."""
    table = Table(f"One conversation's stored events per turn ({len(turns)} turns, bytes per turn)",
                  ["turns", "events/turn", "bytes/turn", *EVENT_KINDS])
    for low, high in spans(len(turns)):
        part = turns[low:high]
        table.add(f"{low + 1}–{high}", f"{sum(t.events for t in part) / len(part):.1f}", f"{mean_bytes(part):,.0f}",
                  *[f"{mean_bytes(part, kind):,.0f}" for kind in EVENT_KINDS])
    chosen = spans(len(turns))
    if len(chosen) > 1:
        early, late = turns[slice(*chosen[0])], turns[slice(*chosen[-1])]
        table.notes.append(f"Late against early: {mean_bytes(late) - mean_bytes(early):+,.0f} bytes per turn "
                           f"({mean_bytes(late) / mean_bytes(early):.2f}×); the whole conversation stores "
                           f"{sum(t.total for t in turns) / 1e3:,.0f} kB in {sum(t.events for t in turns):,} events.")
    table.notes.append(f"Sender {sender}: benchmarks.turns.LONG_SCRIPT over and over. Bytes of the `data` column of "
                       "Rasa's `events` table (the event as JSON); a turn is a customer message and every event "
                       "stored after it until the next.")
    return table


# --- the run ------------------------------------------------------------------------------------------------------


def demo_shop(url: str, suites: Path, think: float, run: str) -> Shop:
    """The demo catalog's suite conversations (placeholders filled) and products, for customers on ``url``."""
    products = read_products(available_runs()["demo"].catalog)
    placeholders = catalog_placeholders(products)
    conversations = tuple(c.filled(placeholders) for suite in load_suites(suites) for c in suite.conversations
                          if c.runs_on("demo"))
    return Shop(f"{url}/webhooks/rest/webhook", conversations, catalog_by_id(products), think, run)


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def _log_window(window: Window, sample: Sample) -> None:
    log(f"{sample.label}: {window.turns} turns, p50 {window.ms(50):.0f} ms, p95 {window.ms(95):.0f} ms, "
        f"errors {window.errors}, RSS {sum(sample.rss.values()):.0f} MB, load {sample.load}")


def _customers(shop: Shop, opts: argparse.Namespace, journal: Journal, stop: threading.Event,
               long_sent: list[int]) -> list[threading.Thread]:
    """Customer 0 (the long conversation, then the suites) and the suite customers, not started."""

    def first() -> None:
        long_sent.append(long_customer(shop, long_sender(shop), opts.long_turns, journal, stop, opts.seed))
        suite_customer(shop, 0, journal, stop, opts.seed)

    return [threading.Thread(target=first, daemon=True)] + [
        threading.Thread(target=suite_customer, args=(shop, n, journal, stop, opts.seed), daemon=True)
        for n in range(1, opts.customers)]


def long_sender(shop: Shop) -> str:
    """The sender id of the run's long conversation."""
    return f"soak-{shop.run}-long"


def soak(stack: ProductionStack, shop: Shop, opts: argparse.Namespace, journal: Journal
         ) -> tuple[list[Window], list[Sample], int]:
    """Run the customers through the warm-up and every window; the windows, memory samples and long turns sent."""
    groups = stack_groups(stack)
    samples = [sample_memory(groups, "idle")]
    stop, long_sent = threading.Event(), list[int]()
    threads = _customers(shop, opts, journal, stop, long_sent)
    for thread in threads:
        thread.start()
    log(f"{opts.customers} customers talking; {opts.warmup:g} min of warm-up, then {opts.minutes:g} min measured")
    length = min(opts.window, opts.minutes) * 60.0
    count = max(1, round(opts.minutes * 60.0 / length))
    start = time.monotonic() + opts.warmup * 60.0
    _sleep_until(start)
    samples.append(sample_memory(groups, f"end of warm-up ({opts.warmup:g} min)"))
    for n in range(count):
        _sleep_until(start + (n + 1) * length)
        samples.append(sample_memory(groups, f"{(n + 1) * length / 60:g} min"))
        _log_window(windows(journal, start + n * length, length, 1)[0], samples[-1])
    stop.set()
    for thread in threads:
        thread.join(timeout=330)
    return windows(journal, start, length, count), samples, (long_sent or [0])[0]


def _workdir(logs: Path | None) -> Any:
    return tempfile.TemporaryDirectory(prefix="shopkeeper-soak-") if logs is None else _kept(logs)


@contextmanager
def _kept(folder: Path) -> Iterator[str]:
    folder.mkdir(parents=True, exist_ok=True)
    yield str(folder)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=20, help="customers talking at once (default 20)")
    parser.add_argument("--minutes", type=float, default=60.0, help="measured minutes (default 60)")
    parser.add_argument("--window", type=float, default=5.0, help="minutes per window (default 5)")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured minutes first (default 2)")
    parser.add_argument("--think", type=float, default=2.0,
                        help="mean seconds a customer waits before each message, drawn from 0 to twice it (default 2)")
    parser.add_argument("--long-turns", type=int, default=120, help="messages of the long conversation (default 120)")
    parser.add_argument("--rasa", type=int, default=2, help="Rasa servers (default 2)")
    parser.add_argument("--actions", type=int, default=2, help="action servers (default 2)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--suites", type=Path, default=REPO / "tests" / "conversations")
    parser.add_argument("--growth-only", action="store_true",
                        help="only the long conversation, without pauses, and its stored bytes per turn")
    parser.add_argument("--logs", type=Path, help="keep the services' logs in this folder")
    parser.add_argument("--markdown", type=Path, help="also write the tables as markdown")
    opts = parser.parse_args(argv)
    if opts.customers < 1 or opts.minutes <= 0 or opts.window <= 0 or opts.warmup < 0 or opts.think < 0:
        parser.error("--customers must be at least 1, --minutes and --window positive, --warmup and --think not "
                     "negative")
    if services_available():
        parser.error(f"the production path needs PostgreSQL, Redis and RabbitMQ on 127.0.0.1; down: "
                     f"{services_available()}")
    return opts


def _header(report: Report, argv: Sequence[str] | None) -> None:
    options = " ".join(sys.argv[1:] if argv is None else argv)
    report.line(f"Command: `{' '.join(['.venv/bin/python -m benchmarks.soak', options]).strip()}`; {code_version()}")
    report.line(f"Machine: {cpu_model()}, {os.cpu_count()} cores, {mem_total_gb():.0f} GB RAM (the customers and "
                f"every server on it); run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average "
                f"(1/5/15 min) at start {load_average()}")


@dataclass
class Outcome:
    """What a run found, read before the stack (and its databases) goes away."""

    measured: list[Window] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    long_turns: int = 0
    stores: list[Storage] = field(default_factory=list)
    growth: list[TurnBytes] = field(default_factory=list)
    counters: str = ""
    conversations: int = 0


def run(opts: argparse.Namespace) -> tuple[Outcome, str]:
    """Start the stack, run the customers (or only the long conversation), read the databases; the long sender."""
    journal, outcome, name = Journal(), Outcome(), os.urandom(3).hex()
    # The long conversation alone sends without pauses: past the gateway's default rate limit.
    rate, burst = (1000.0, 1000) if opts.growth_only else (1.0, 10)
    with _workdir(opts.logs) as work, running_production(
            Path(work), rasa=opts.rasa, actions=opts.actions, rate=rate, burst=burst,
            extra_env={**available_runs()["demo"].env, "SHOPKEEPER_CATALOG_MAPPING": ""}) as stack:
        shop = demo_shop(stack.url, opts.suites, 0.0 if opts.growth_only else opts.think, name)
        outcome.conversations = len(shop.conversations)
        if opts.growth_only:
            outcome.long_turns = long_customer(shop, long_sender(shop), opts.long_turns, journal, threading.Event(),
                                               opts.seed)
        else:
            outcome.measured, outcome.samples, outcome.long_turns = soak(stack, shop, opts, journal)
        outcome.counters = get(f"{stack.url}/gateway/health")[1]
        outcome.stores = [storage("tracker store", stack.tracker_db_url), storage("shopkeeper", stack.shop_db_url)]
        outcome.growth = turn_bytes(stored_events(stack.tracker_db_url, long_sender(shop)))
        errors = sum(not t.ok for t in journal.turns)
        log(f"{len(journal.turns)} turns in all, {errors} errors; stopping the stack")
    return outcome, long_sender(shop)


def _shown(path: Path) -> str:
    """A path as the report shows it: relative to the repository when inside it."""
    resolved = path.resolve()
    return str(resolved.relative_to(REPO)) if resolved.is_relative_to(REPO) else str(path)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark."""
    opts = parse_args(argv)
    report = Report()
    _header(report, argv)
    outcome, sender = run(opts)
    report.line(f"Stack: bot/gateway.py, Rasa servers: {opts.rasa}, action servers: {opts.actions}, PostgreSQL, Redis, "
                f"RabbitMQ; demo catalog. Gateway counters at the end: {outcome.counters}")
    if not opts.growth_only:
        report.line(f"Customers: {opts.customers}, each pausing 0–{2 * opts.think:g} s before a message, over the "
                    f"{outcome.conversations} demo conversations of {_shown(opts.suites)}; customer 0 first held "
                    f"one conversation of {outcome.long_turns} messages")
        report.table(windows_table(outcome.measured, outcome.samples))
        report.table(memory_table(outcome.samples))
        warm = next(s for s in outcome.samples if s.label.startswith("end of warm-up"))
        report.table(targets_table(verdicts(warm.rss, outcome.samples[-1].rss, outcome.measured)))
        report.table(storage_table(outcome.stores))
    report.table(growth_table(outcome.growth, sender))
    report.line(f"Load average (1/5/15 min) at end: {load_average()}")
    report.write(opts.markdown)
    return 0 if outcome.growth and (opts.growth_only or any(w.latencies for w in outcome.measured)) else 1


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Load: throughput and turn latency with 10 / 50 / 100 concurrent customers, embedded default vs production.

Run from the repository root (``make bench-load``; the model and the index must exist)::

    .venv/bin/python -m benchmarks.load                          # both topologies, 10/50/100, 60 s each
    .venv/bin/python -m benchmarks.load --seconds 30 --levels 10 50
    .venv/bin/python -m benchmarks.load --topologies production --markdown out.md

What is measured:

* **embedded**: one Rasa server and one action server (``evaluation.stack.running_stack``), SQLite
  tracker store and database, in-memory lock store, no broker — what ``make run`` starts;
* **production**: ``evaluation.production_stack.running_production``: two Rasa servers and two
  action servers behind ``bot/gateway.py``, PostgreSQL tracker store and database, Redis
  lock store, RabbitMQ event broker (the gateway's rate limit raised out of the way).

At each level, that many simulated customers talk at once over the REST channel, each
one message after the other (a customer waits for the answer before typing again), for
``--seconds`` after a short warm-up. A customer's conversation repeats: a request with a
category and budget, "i don't mind" until cards come, 👍 on the first card, "show me more",
"thanks"; a new customer (new sender id) starts when one has said 30 messages, so
conversations do not grow without end. A turn is one POST, from sending to having every
bot message. Throughput is completed turns per second of wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
from evaluation.production_stack import running_production, services_available
from evaluation.stack import running_stack
from retrieval.contract import CUSTOM_DATA, CardKey, PayloadKey

REQUESTS = ("i need a sofa under 1500", "show me lamps under 100", "i'm looking for a backpack for hiking",
            "i need a desk under 600", "some headphones under 300 please", "show me rugs under 400")
TURNS_PER_CUSTOMER = 30


@dataclass
class Level:
    """What one concurrency level measured."""

    topology: str
    customers: int
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    load_before: str = ""
    load_after: str = ""

    @property
    def throughput(self) -> float:
        """Answered turns per second of wall time."""
        return len(self.latencies) / self.seconds if self.seconds else float("nan")

    def ms(self, q: float) -> float:
        """The ``q``-th percentile of the turn latency, in ms."""
        return percentile(self.latencies, q) * 1000.0 if self.latencies else float("nan")


#: A customer's loop: ``(url, sender prefix, stop, record(seconds, ok))``, message after message until ``stop``.
CustomerLoop = Callable[[str, str, threading.Event, Callable[[float, bool], None]], None]


def post(url: str, sender: str, message: str) -> tuple[bool, list[dict[str, Any]]]:
    body = json.dumps({"sender": sender, "message": message}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            reply = json.loads(response.read())
            return isinstance(reply, list), reply
    except (urllib.error.URLError, OSError, ValueError):
        return False, []


def cards(reply: list[dict[str, Any]]) -> list[str]:
    return [item[CardKey.ID] for m in reply if isinstance(m.get("custom"), dict)
            for item in m["custom"].get(CUSTOM_DATA, {}).get(PayloadKey.ITEMS, [])]


def customer_loop(url: str, name: str, stop: threading.Event, record: Callable[[float, bool], None]) -> None:
    """One simulated customer after another on this thread, until ``stop``."""
    generation = 0
    while not stop.is_set():
        sender, said, n = f"{name}-{generation}", 0, generation
        generation += 1
        while said < TURNS_PER_CUSTOMER and not stop.is_set():
            script = [REQUESTS[n % len(REQUESTS)]]
            n += 1
            for message in script + ["i don't mind"] * 3:
                started = time.perf_counter()
                ok, reply = post(url, sender, message)
                record(time.perf_counter() - started, ok)
                said += 1
                if cards(reply) or stop.is_set():
                    break
            shown = cards(reply)
            follow = ([f'/feedback{{"item_id": "{shown[0]}", "sentiment": "like"}}'] if shown else []) + \
                ["show me more", "thanks"]
            for message in follow:
                if stop.is_set():
                    break
                started = time.perf_counter()
                ok, _ = post(url, sender, message)
                record(time.perf_counter() - started, ok)
                said += 1


def run_level(url: str, topology: str, customers: int, seconds: float, warmup: float,
              loop: CustomerLoop | None = None) -> Level:
    """``customers`` threads running ``loop`` (default :func:`customer_loop`) at once; turns counted
    for ``seconds`` after ``warmup``."""
    loop = loop or customer_loop
    level = Level(topology, customers, load_before=load_average())
    lock = threading.Lock()
    measuring = threading.Event()
    stop = threading.Event()

    def record(latency: float, ok: bool) -> None:
        if measuring.is_set():
            with lock:
                if ok:
                    level.latencies.append(latency)
                else:
                    level.errors += 1

    threads = [threading.Thread(target=loop, args=(url, f"{topology}-c{customers}-{i}", stop, record),
                                daemon=True) for i in range(customers)]
    for thread in threads:
        thread.start()
    time.sleep(warmup)
    measuring.set()
    started = time.monotonic()
    time.sleep(seconds)
    measuring.clear()
    level.seconds = time.monotonic() - started
    stop.set()
    for thread in threads:
        thread.join(timeout=300)
    level.load_after = load_average()
    log(f"{topology} x{customers}: {len(level.latencies)} turns in {level.seconds:.0f}s ({level.throughput:.1f}/s), "
        f"errors {level.errors}, p50 {level.ms(50):.0f} ms, p95 {level.ms(95):.0f} ms, "
        f"load {level.load_before} -> {level.load_after}")
    return level


Topology = tuple[str, AbstractContextManager[Any], Callable[[Any], str]]


def topologies(names: Sequence[str], work: Path) -> Iterator[Topology]:
    for name in names:
        if name == "embedded":
            yield name, running_stack(work / name), lambda s: f"{s.rasa_url}/webhooks/rest/webhook"
        else:
            yield name, running_production(work / name, rate=1000, burst=1000), \
                lambda s: f"{s.url}/webhooks/rest/webhook"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured seconds per level")
    parser.add_argument("--warmup", type=float, default=10.0, help="unmeasured seconds before each level")
    parser.add_argument("--topologies", nargs="+", default=["embedded", "production"],
                        choices=["embedded", "production"])
    parser.add_argument("--markdown", type=Path, help="also write the tables as markdown")
    opts = parser.parse_args(argv)
    if "production" in opts.topologies and services_available():
        parser.error(f"production needs PostgreSQL, Redis and RabbitMQ on 127.0.0.1; down: {services_available()}")
    report = Report()
    cores = os.cpu_count() or 0
    report.line(f"Command: `{' '.join(['.venv/bin/python -m benchmarks.load', *sys.argv[1:]])}`; {code_version()}")
    report.line(f"Machine: {cpu_model()}, {cores} cores, {mem_total_gb():.0f} GB RAM "
                f"(load generator and every server on it); load average (1/5/15 min) at start {load_average()}")
    levels: list[Level] = []
    with tempfile.TemporaryDirectory(prefix="shopkeeper-load-") as tmp:
        for name, context, url_of in topologies(opts.topologies, Path(tmp)):
            log(f"starting the {name} topology")
            with context as stack:
                url = url_of(stack)
                # one warm conversation loads the embedding model and the code paths
                for message in ("hi", REQUESTS[0], "i don't mind", "i don't mind"):
                    post(url, f"{name}-warm", message)
                for customers in opts.levels:
                    levels.append(run_level(url, name, customers, opts.seconds, opts.warmup))
    table = Table("Throughput and turn latency under concurrent customers (REST)",
                  ["topology", "customers", "turns", "turns/s", "p50 ms", "p95 ms", "max ms", "errors",
                   "load avg before → after"])
    for level in levels:
        turns = len(level.latencies)
        table.add(level.topology, level.customers, turns, f"{turns / level.seconds:.1f}",
                  f"{percentile(level.latencies, 50) * 1000:.0f}", f"{percentile(level.latencies, 95) * 1000:.0f}",
                  f"{max(level.latencies, default=float('nan')) * 1000:.0f}", level.errors,
                  f"{level.load_before} → {level.load_after}")
    table.notes += [
        "embedded: 1 Rasa server + 1 action server, SQLite tracker store and database, in-memory lock store. "
        "production: bot/gateway.py in front of 2 Rasa servers + 2 action servers, PostgreSQL tracker store and "
        "database, Redis lock store, RabbitMQ event broker.",
        f"{opts.seconds:.0f} s measured per level after {opts.warmup:.0f} s of warm-up; each customer waits for the "
        "answer before sending again; every process of both topologies runs on this one machine.",
    ]
    report.table(table)
    report.line(f"Load average (1/5/15 min) at end: {load_average()}")
    report.write(opts.markdown)
    return 0 if all(level.latencies for level in levels) else 1


if __name__ == "__main__":
    sys.exit(main())

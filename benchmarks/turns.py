#!/usr/bin/env python3
"""End-to-end recommendation turn latency over REST (warm), and where a turn's time goes.

Run from the repository root (the trained model and the built index must exist: ``make model index``)::

    .venv/bin/python -m benchmarks.turns                       # 40 customers, ~7 min
    .venv/bin/python -m benchmarks.turns --quick               # smoke run, ~4 min (mostly loading models)
    .venv/bin/python -m benchmarks.turns --markdown out.md     # also write the tables as markdown

Tables go to stdout, progress to stderr. What is measured:

1. The Rasa server and the action server start on free ports with their own SQLite
   databases in a temporary folder (``evaluation.stack.running_stack``), exactly as in the
   end-to-end tests. A few full conversations warm everything up (model load, first
   SQL queries, code paths).
2. ``--customers`` simulated customers (fixed seed), one after the other. Each asks for a
   category with a budget up front ("i need a sofa under 1500", category and budget drawn
   from the demo catalog so that at least twelve items fit), answers "i don't mind" to every
   question until cards come back (timed: *first recommendation*), presses 👍 on the first
   card (``/feedback{"item_id": …, "sentiment": "like"}``, timed: *refined after 👍*), then
   says "show me more" (timed: *show more*). A turn is one POST to Rasa's REST channel, from
   sending the message to having every bot message of the turn.
3. The parts of a turn, each measured on its own:
   * NLU: the same messages POSTed to Rasa's ``/model/parse``;
   * action calls: the action server's ``/webhook`` POSTed directly with the tracker Rasa
     would send (``GET /conversations/{id}/tracker?until=…`` just before the action ran)
     and the domain (``GET /domain``);
   * in process, with the code the action runs (``actions.services.default_services()``
     on a temporary SQLite database): query embedding (new text vs cached), the
     recommender minus the embedding (filter mask, FAISS search, rerank, MMR, reasons),
     and the database work of a turn (``profiles.snapshot`` + ``profiles.record_many`` of
     three impressions);
   * in process in the Rasa environment (a small probe run with ``.venv-rasa/bin/python``
     after the servers stopped): NLU (``processor.parse_message``), one next-action
     prediction by the policies, validating an action server answer (``jsonschema``), and
     the SQL tracker store's read and save of a turn.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.bare_rasa import (
    LEVELS,
    comparison_tables,
    ensure_model,
    measure_side,
    moodbot_loop,
    moodbot_turns,
    running_bare_rasa,
    timed,
)
from benchmarks.load import customer_loop
from benchmarks.reporting import (
    Report,
    Table,
    code_version,
    log,
)
from benchmarks.reporting import cpu_model as _cpu_model
from benchmarks.reporting import elapsed as seconds_since_start
from benchmarks.reporting import load_average as _load_average
from benchmarks.reporting import mem_total_gb as _mem_total_gb
from benchmarks.reporting import percentile as _pct
from evaluation.stack import MODEL, RASA, Stack, post, running_stack, say
from retrieval.contract import CUSTOM_DATA, ActionName, CardKey, PayloadKey, RasaAction, SlotName
from retrieval.paths import PROJECT_ROOT as REPO

if TYPE_CHECKING:  # imported when measuring, after the environment is set for them
    from retrieval.recommender import Needs, Recommender
    from retrieval.search import Retriever
    from store.profiles import ProfileStore

_HERE = Path(__file__).resolve().parent
DEMO_CATALOG = REPO / "data" / "catalog" / "products.jsonl"
RASA_VERSION = "3.6.21"
TARGET_P95_MS = 150.0
#: Items that must fit the drawn budget: three lists of three without repeats, and some slack.
MIN_FITTING = 12
ANSWER = "i don't mind"
MORE = "show me more"
MAX_TURNS = 5

#: How a customer names each demo category in a request.
CATEGORY_PHRASES: dict[str, str] = {
    "Sofas": "a sofa",
    "Armchairs": "an armchair",
    "Desks": "a desk",
    "Dining Tables": "a dining table",
    "Backpacks": "a backpack",
    "Lamps": "a lamp",
    "Headphones": "some headphones",
    "Beds": "a bed",
    "Bookcases": "a bookcase",
    "Jackets": "a jacket",
    "Office Chairs": "an office chair",
    "Rugs": "a rug",
    "Coffee Tables": "a coffee table",
    "Sneakers": "a pair of sneakers",
}
REQUEST_TEMPLATES: tuple[str, ...] = (
    "i need {thing} under {budget}",
    "i'm looking for {thing} under ${budget}",
    "show me {thing} under {budget}",
)

TURN_KINDS: tuple[tuple[str, str], ...] = (
    ("first", "first recommendation"),
    ("feedback", "refined after 👍"),
    ("more", "show more"),
)

# -- output --------------------------------------------------------------------------------











def _ms(value: float) -> str:
    if math.isnan(value):
        return "—"
    if value < 1:
        return f"{value:.3f}"
    if value < 100:
        return f"{value:.2f}"
    return f"{value:.1f}"


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def _share(part: float, whole: float) -> str:
    if math.isnan(part) or math.isnan(whole) or whole <= 0:
        return "—"
    return f"{100.0 * part / whole:.0f}%"


# -- machine -------------------------------------------------------------------------------










def machine_line() -> str:
    """CPU model, cores, memory and Python, on one line."""
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    speedups = any(RASA.parent.parent.glob("lib/python*/site-packages/shopkeeper.pth"))
    return (
        f"{_cpu_model()}, {cores} cores ({usable} usable), {_mem_total_gb():.0f} GB RAM; "
        f"Rasa {RASA_VERSION} server (.venv-rasa), action server and this script on Python "
        f"{platform.python_version()}; SHOPKEEPER_QUERY_THREADS={os.environ.get('SHOPKEEPER_QUERY_THREADS', '1')}, "
        f"SHOPKEEPER_ENCODER_THREADS={os.environ.get('SHOPKEEPER_ENCODER_THREADS', '2')}; "
        f"bot/rasa_speedups.py in .venv-rasa: {'yes' if speedups else 'no'}"
    )


# -- customers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Customer:
    """One simulated customer: who, and what they ask for first."""

    sender: str
    category: str
    budget: int
    request: str


def category_prices(path: Path = DEMO_CATALOG) -> dict[str, list[float]]:
    """In-stock prices per category of the demo catalog, ascending."""
    prices: dict[str, list[float]] = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                product = json.loads(line)
                if int(product.get("stock", 1) or 0) > 0:
                    prices.setdefault(str(product["category"]), []).append(float(product["price"]))
    return {c: sorted(p) for c, p in sorted(prices.items())}


def make_customers(count: int, seed: int, prefix: str) -> list[Customer]:
    """``count`` customers with a category and a budget at which at least :data:`MIN_FITTING` items fit."""
    rng = random.Random(seed)
    prices = {c: p for c, p in category_prices().items() if c in CATEGORY_PHRASES and len(p) >= MIN_FITTING}
    categories = sorted(prices)
    customers: list[Customer] = []
    for n in range(count):
        category = rng.choice(categories)
        ladder = prices[category]
        price = ladder[rng.randrange(MIN_FITTING - 1, len(ladder))]
        step = 10 if price < 500 else 50
        budget = int(math.ceil(price / step) * step)
        template = rng.choice(REQUEST_TEMPLATES)
        request = template.format(thing=CATEGORY_PHRASES[category], budget=budget)
        customers.append(Customer(f"{prefix}-{n:03d}", category, budget, request))
    return customers


# -- conversations -------------------------------------------------------------------------


@dataclass
class Turn:
    """One timed recommendation turn."""

    kind: str
    sender: str
    text: str
    ms: float
    cards: list[str]


@dataclass
class Conversation:
    """What happened to one customer."""

    customer: Customer
    questions: int = 0
    turns: list[Turn] = field(default_factory=list)
    failure: str | None = None


def _cards(reply: list[dict[str, Any]]) -> list[str]:
    payloads = [m["custom"][CUSTOM_DATA] for m in reply
                if isinstance(m.get("custom"), dict) and CUSTOM_DATA in m["custom"]]
    if not payloads:
        return []
    items = payloads[-1].get(PayloadKey.ITEMS) or []
    return [str(item[CardKey.ID]) for item in items]


def _timed_say(url: str, sender: str, text: str) -> tuple[float, list[dict[str, Any]]]:
    started = time.perf_counter()
    reply = say(url, sender, text)
    return (time.perf_counter() - started) * 1000.0, reply


def converse(url: str, customer: Customer) -> Conversation:
    """Request → "i don't mind" until cards → 👍 on the first card → "show me more"."""
    conversation = Conversation(customer)
    text = customer.request
    cards: list[str] = []
    for _ in range(MAX_TURNS):
        ms, reply = _timed_say(url, customer.sender, text)
        cards = _cards(reply)
        if cards:
            conversation.turns.append(Turn("first", customer.sender, text, ms, cards))
            break
        conversation.questions += 1
        text = ANSWER
    else:
        conversation.failure = f"no cards after {MAX_TURNS} turns"
        return conversation
    feedback = f'/feedback{{"item_id": "{cards[0]}", "sentiment": "like"}}'
    ms, reply = _timed_say(url, customer.sender, feedback)
    conversation.turns.append(Turn("feedback", customer.sender, feedback, ms, _cards(reply)))
    ms, reply = _timed_say(url, customer.sender, MORE)
    conversation.turns.append(Turn("more", customer.sender, MORE, ms, _cards(reply)))
    return conversation


# -- parts of a turn over HTTP --------------------------------------------------------------


def _get_json(url: str, accept: str = "application/json") -> Any:
    request = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def tracker_before(stack: Stack, sender: str, kind: str) -> dict[str, Any] | None:
    """The tracker as it was just before the action answering the timed turn ``kind`` ran, as Rasa sends it."""
    sender_q = urllib.parse.quote(sender, safe="")
    full = _get_json(f"{stack.rasa_url}/conversations/{sender_q}/tracker?include_events=ALL")
    events = full["events"]
    index = timed_turn_actions(events).get(kind)
    if index is None or index == 0:
        return None
    action = KIND_ACTIONS[kind]
    until = events[index - 1]["timestamp"]
    tracker: dict[str, Any] = _get_json(
        f"{stack.rasa_url}/conversations/{sender_q}/tracker?include_events=ALL&until={until!r}"
    )
    last = tracker["events"][-1] if tracker["events"] else {}
    if last.get("event") == "action" and last.get("name") == action:  # equal timestamps: drop the action itself
        tracker["events"] = tracker["events"][:-1]
    return tracker


def with_new_request_text(tracker: dict[str, Any], n: int) -> dict[str, Any]:
    """A copy whose latest request has words never embedded before (the query embedding is not cached).

    ``action_shop`` builds the query from the need kept in the ``shop_state`` slot (``need.text``,
    the customer's words of the request) or, when the request itself is the message being
    answered, from ``latest_message``: the words are appended to both, and to the request's
    ``user`` event.
    """
    changed = copy.deepcopy(tracker)
    suffix = f" please, variant {n}"
    for event in reversed(changed["events"]):
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent == "request_recommendation":
                event["text"] = f"{event.get('text') or ''}{suffix}"
                break
    latest = changed.get("latest_message")
    if isinstance(latest, dict) and (latest.get("intent") or {}).get("name") == "request_recommendation":
        latest["text"] = f"{latest.get('text') or ''}{suffix}"
    state = (changed.get("slots") or {}).get(SlotName.SHOP_STATE)
    need = state.get("need") if isinstance(state, dict) else None
    if isinstance(need, dict) and need.get("text"):
        need["text"] = f"{need['text']}{suffix}"
    return changed


def time_webhook(
    stack: Stack, action: str, trackers: Sequence[dict[str, Any]], domain: dict[str, Any], calls: int,
    transform: Callable[[dict[str, Any], int], dict[str, Any]] | None = None,
    answers: list[dict[str, Any]] | None = None,
) -> list[float]:
    """Milliseconds per direct ``/webhook`` call of ``action``, cycling over ``trackers``; keeps one answer."""
    times: list[float] = []
    for n in range(calls):
        tracker = trackers[n % len(trackers)]
        if transform is not None:
            tracker = transform(tracker, n)
        body = {"next_action": action, "sender_id": tracker["sender_id"], "tracker": tracker, "domain": domain,
                "version": RASA_VERSION}
        started = time.perf_counter()
        answer = post(f"{stack.action_url}/webhook", body)
        times.append((time.perf_counter() - started) * 1000.0)
        if not isinstance(answer, dict) or "events" not in answer:
            raise RuntimeError(f"{action}: unexpected webhook answer {str(answer)[:300]}")
        if answers is not None and n == 0:
            answers.append(answer)
    return times


def time_parse(stack: Stack, texts: Sequence[str], repeats: int) -> list[float]:
    """Milliseconds per ``/model/parse`` call over ``texts``, ``repeats`` times each."""
    times: list[float] = []
    for _ in range(repeats):
        for text in texts:
            started = time.perf_counter()
            post(f"{stack.rasa_url}/model/parse", {"text": text})
            times.append((time.perf_counter() - started) * 1000.0)
    return times


#: Runs in the Rasa environment (Python 3.10): times Rasa's own parts of a turn in process, on the
#: trackers and tracker store of the finished run. argv: spec JSON, output JSON.
RASA_PROBE = _HERE / "rasa_probe.py"


@dataclass
class RasaParts:
    """Rasa's own parts of a turn, timed in process by :data:`RASA_PROBE` (``benchmarks/rasa_probe.py``)."""

    predict: list[float] = field(default_factory=list)
    agree: int = 0
    cases: int = 0
    parse: dict[str, list[float]] = field(default_factory=dict)
    read: list[float] = field(default_factory=list)
    save: list[float] = field(default_factory=list)
    events_saved: list[int] = field(default_factory=list)
    validate: list[float] = field(default_factory=list)
    instance: list[float] = field(default_factory=list)
    #: which ``jsonschema.validate`` Rasa calls (``bot.rasa_speedups.validate`` when installed)
    validate_impl: str = ""


def probe_rasa(workdir: Path, trackers: Sequence[tuple[dict[str, Any], str]], texts: dict[str, list[str]],
               answers: Sequence[dict[str, Any]], tracker_db: Path, senders: Sequence[str], calls: int) -> RasaParts:
    """Time next-action prediction, NLU and the SQL tracker store inside the Rasa environment."""
    spec = {"model": str(MODEL), "trackers": [list(t) for t in trackers], "texts": texts, "answers": list(answers),
            "tracker_db": str(tracker_db), "copy_db": str(workdir / "tracker-copy.db"), "senders": list(senders),
            "calls": calls, "action": ActionName.SHOP}
    spec_file, out_file = workdir / "probe-in.json", workdir / "probe-out.json"
    spec_file.write_text(json.dumps(spec), encoding="utf-8")
    python = RASA.parent / "python"
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    # -I: the probe sees the Rasa environment alone (neither its own folder nor PYTHONPATH nor the user's site)
    result = subprocess.run([str(python), "-I", str(RASA_PROBE), str(spec_file), str(out_file)], cwd=REPO, env=env,
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"the Rasa probe failed ({result.returncode}):\n{result.stderr[-3000:]}")
    raw = json.loads(out_file.read_text(encoding="utf-8"))
    return RasaParts(predict=raw["predict"], agree=int(raw["agree"]), cases=min(len(trackers), calls),
                     parse=raw["parse"], read=raw["read"], save=raw["save"], events_saved=raw["events_saved"],
                     validate=raw["validate"], instance=raw["instance"],
                     validate_impl=str(raw.get("validate_impl", "")))


#: The action that answers each kind of timed turn. Every shopping move goes to `action_shop` (one
#: action server call per turn, no form): the kinds are told apart by where they come in the
#: conversation (:func:`timed_turn_actions`), not by the action's name.
KIND_ACTIONS = {"first": ActionName.SHOP, "feedback": ActionName.SHOP, "more": ActionName.SHOP}


def _turn_segments(events: Sequence[dict[str, Any]]) -> list[list[int]]:
    """Indices of the events after each ``user`` event, up to the next one (one list per turn)."""
    segments: list[list[int]] = []
    for index, event in enumerate(events):
        if event.get("event") == "user":
            segments.append([])
        elif segments:
            segments[-1].append(index)
    return segments


def _shows_cards(event: dict[str, Any]) -> bool:
    """Whether the event is the ``shown_items`` slot set to a list of cards."""
    return event.get("event") == "slot" and event.get("name") == SlotName.SHOWN_ITEMS and bool(event.get("value"))


def timed_turn_actions(events: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Per timed turn kind: the index in ``events`` of the action that answered that turn.

    The turns follow :func:`converse`: *first* is the first turn in which cards were shown (the
    ``shown_items`` slot set), *feedback* (👍) and *more* are the two turns after it. A kind is
    missing when its turn did not run :data:`KIND_ACTIONS`'s action (the conversation failed).
    """
    segments = _turn_segments(events)
    first = next((n for n, segment in enumerate(segments) if any(_shows_cards(events[i]) for i in segment)), None)
    if first is None:
        return {}
    found: dict[str, int] = {}
    for (kind, _), segment in zip(TURN_KINDS, segments[first:], strict=False):
        action = KIND_ACTIONS[kind]
        index = next((i for i in segment if events[i].get("event") == "action" and events[i].get("name") == action),
                     None)
        if index is not None:
            found[kind] = index
    return found


def count_turn_actions(events: Sequence[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """Per turn kind: (actions the policies predicted, calls Rasa made to the action server) in that turn."""
    segment_of = {i: segment for segment in _turn_segments(events) for i in segment}
    counts: dict[str, tuple[int, int]] = {}
    for kind, index in timed_turn_actions(events).items():
        actions = [events[i] for i in segment_of[index] if events[i].get("event") == "action"]
        names = [str(a.get("name")) for a in actions]
        remote = sum(1 for n in names if n.endswith("_form") or (n.startswith("action_") and n != RasaAction.LISTEN))
        # An action an action asked for (FollowupAction) runs without a policy prediction.
        predicted = sum(1 for a in actions if a.get("policy") != "followup_action")
        counts[kind] = (predicted, remote)
    return counts


# -- parts of a turn in process ---------------------------------------------------------------


@dataclass
class InProcess:
    """Milliseconds per call of what the actions run."""

    embed_new: list[float] = field(default_factory=list)
    embed_cached: list[float] = field(default_factory=list)
    search_first: list[float] = field(default_factory=list)
    search_liked: list[float] = field(default_factory=list)
    snapshot: list[float] = field(default_factory=list)
    record: list[float] = field(default_factory=list)
    database: list[float] = field(default_factory=list)


def _needs_of(customer: Customer) -> Needs:
    """What the customer's first request asks for, as the recommender's needs."""
    from retrieval.recommender import Needs

    return Needs(category=customer.category, max_price=float(customer.budget), text=customer.request)


def _time_embedding(retriever: Retriever, queries: Sequence[str], out: InProcess) -> None:
    """``embed_query`` on texts never embedded before, then on the same texts again (cached)."""
    for text in queries:
        started = time.perf_counter()
        retriever.embed_query(text)
        out.embed_new.append((time.perf_counter() - started) * 1000.0)
    for text in queries:
        started = time.perf_counter()
        retriever.embed_query(text)
        out.embed_cached.append((time.perf_counter() - started) * 1000.0)


def _time_recommend(recommender: Recommender, customers: Sequence[Customer], calls: int, out: InProcess) -> None:
    """``recommend`` with the query embedding cached: a first list, then one steered by its first item liked."""
    import numpy as np

    from retrieval.contract import affinity_key, taught_attributes
    from retrieval.recommender import Preferences

    retriever = recommender.retriever
    for n in range(calls):
        needs = _needs_of(customers[n % len(customers)])
        retriever.embed_query(needs.query_text())  # cached from here on: what remains is search + rerank
        started = time.perf_counter()
        first = recommender.recommend(needs, k=3)
        out.search_first.append((time.perf_counter() - started) * 1000.0)
        if not first.items:
            continue
        liked = first.items[0].product
        vector = recommender.item_vector(liked.id)
        norm = float(np.linalg.norm(vector))
        affinities = {affinity_key(name, value): 1.0 for name, value in taught_attributes(liked).items() if value}
        preferences = Preferences(vector=(vector / norm).astype(np.float32) if norm else None, affinities=affinities)
        shown = [s.product.id for s in first.items]
        started = time.perf_counter()
        recommender.recommend(needs, preferences, k=3, exclude_ids=shown, like_item=liked.id)
        out.search_liked.append((time.perf_counter() - started) * 1000.0)


def _time_database(recommender: Recommender, profiles: ProfileStore, calls: int, out: InProcess) -> None:
    """A turn's database work: ``profiles.snapshot`` and ``record_many`` of three impressions."""
    from store.models import InteractionKind

    items = [p.id for p in list(recommender.catalog)[:3]]
    senders = [f"db-{n % max(1, calls // 3)}" for n in range(calls)]  # each customer comes back a few times
    for n, sender in enumerate(senders):
        started = time.perf_counter()
        profiles.snapshot(sender)
        middle = time.perf_counter()
        profiles.record_many(sender, [(InteractionKind.IMPRESSION, item, rank) for rank, item in
                                      enumerate(items, start=1)], request_id=f"r-bench-{n}")
        ended = time.perf_counter()
        out.snapshot.append((middle - started) * 1000.0)
        out.record.append((ended - middle) * 1000.0)
        out.database.append((ended - started) * 1000.0)


def measure_in_process(customers: Sequence[Customer], calls: int, workdir: Path) -> InProcess:
    """Embedding, search + rerank and database time with the action server's own code."""
    os.environ["SHOPKEEPER_DB_URL"] = f"sqlite:///{workdir / 'in-process.db'}"
    os.environ.pop("SHOPKEEPER_TRACKER_DB_URL", None)
    os.environ.pop("RASA_TRACKER_DB", None)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from actions.services import default_services

    services = default_services()
    recommender, retriever, profiles = services.recommender, services.recommender.retriever, services.profiles
    out = InProcess()

    # warm-up: model, index, SQL statements
    for customer in customers[:3]:
        recommender.recommend(_needs_of(customer), k=3)
        profiles.snapshot(f"warm-{customer.sender}")
    queries = [f"{_needs_of(customers[n % len(customers)]).query_text()} in-process {n}" for n in range(calls)]
    log(f"in process: embed_query on {calls} new texts, then the same texts again (cached)")
    _time_embedding(retriever, queries, out)
    log(f"in process: recommend() with the query embedding cached, {calls} calls each way")
    _time_recommend(recommender, customers, calls, out)
    log(f"in process: profiles.snapshot + record_many(3 impressions), {calls} calls")
    _time_database(recommender, profiles, calls, out)
    return out


# -- options and main ------------------------------------------------------------------------


@dataclass
class Options:
    """Parsed command-line options."""

    customers: int
    warmup: int
    seed: int
    parse_repeats: int
    webhook_calls: int
    in_process_calls: int
    markdown: Path | None
    quick: bool
    command: str
    bare_seconds: float = 30.0


def parse_args(argv: Sequence[str] | None = None) -> Options:
    """Command-line options; ``--quick`` shrinks every count for a smoke run."""
    parser = argparse.ArgumentParser(
        description="End-to-end recommendation turn latency over Rasa's REST channel (warm), against the "
        f"target p95 ≤ {TARGET_P95_MS:.0f} ms, and a breakdown of a turn into NLU, action calls, embedding, "
        "search and database. Starts its own Rasa and action servers. Tables on stdout, progress on stderr.",
    )
    parser.add_argument("--customers", type=int, default=40, help="simulated customers timed (default: 40)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed full conversations first (default: 3)")
    parser.add_argument("--seed", type=int, default=7, help="random seed for the customers (default: 7)")
    parser.add_argument("--parse-repeats", type=int, default=3,
                        help="times each turn's message is sent to /model/parse (default: 3)")
    parser.add_argument("--webhook-calls", type=int, default=40,
                        help="direct /webhook calls timed per action (default: 40)")
    parser.add_argument("--in-process-calls", type=int, default=100,
                        help="calls timed per in-process measurement (default: 100)")
    parser.add_argument("--bare-seconds", type=float, default=30.0,
                        help="seconds per concurrency level beside bare Rasa (default: 30; 0 skips the comparison)")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the tables as markdown to FILE")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 5 customers, 1 warm-up conversation, 10 calls per part")
    args = parser.parse_args(argv)
    opts = Options(
        customers=args.customers, warmup=args.warmup, seed=args.seed, parse_repeats=max(1, args.parse_repeats),
        webhook_calls=args.webhook_calls, in_process_calls=args.in_process_calls, markdown=args.markdown,
        quick=args.quick, bare_seconds=args.bare_seconds,
        command=" ".join([".venv/bin/python -m benchmarks.turns", *(argv if argv is not None else sys.argv[1:])]),
    )
    if args.quick:
        opts.customers, opts.warmup, opts.parse_repeats = min(opts.customers, 5), min(opts.warmup, 1), 1
        opts.webhook_calls, opts.in_process_calls = min(opts.webhook_calls, 10), min(opts.in_process_calls, 10)
        opts.bare_seconds = min(opts.bare_seconds, 8.0)
    if opts.customers < 1 or opts.webhook_calls < 1 or opts.in_process_calls < 1:
        parser.error("--customers, --webhook-calls and --in-process-calls must be positive")
    return opts


@dataclass
class Measured:
    """Everything measured against the running stack and, after it stopped, inside Rasa."""

    conversations: list[Conversation]
    parse: dict[str, list[float]]
    webhooks: dict[str, list[float]]
    tracker_events: int
    body_bytes: int
    rasa: RasaParts
    #: per turn kind: (predicted actions, action server calls) of each inspected conversation
    turn_actions: dict[str, list[tuple[int, int]]]


#: Direct ``/webhook`` timings per turn kind: (key in ``Measured.webhooks``, label). Each turn is one
#: `action_shop` call; the first recommendation's is timed with a query text never embedded before.
WEBHOOK_CALLS: dict[str, tuple[tuple[str, str], ...]] = {
    "first": (("first:new", f"{KIND_ACTIONS['first']}, new query"),),
    "feedback": (("feedback", KIND_ACTIONS["feedback"]),),
    "more": (("more", KIND_ACTIONS["more"]),),
}


def run_stack_part(opts: Options, workdir: Path) -> Measured:
    """Warm up, run the customers, time NLU and the action calls on their own, then probe Rasa in process."""
    log("starting the Rasa server and the action server (loading the model takes a minute or two)")
    with running_stack(workdir / "stack") as stack:
        log(f"up: Rasa {stack.rasa_url}, actions {stack.action_url}")
        customers, conversations = run_customers(stack, opts)

        log("NLU: the same messages to /model/parse")
        texts, parse = time_nlu(stack, opts, customers, conversations)

        log("action calls: trackers from the conversations, replayed on /webhook")
        domain = _get_json(f"{stack.rasa_url}/domain")
        done = [c for c in conversations if not c.failure][: max(1, min(10, len(conversations)))]
        trackers, webhooks, answers = time_action_calls(stack, opts, done, domain)
        recommend_trackers = trackers.get("first") or []
        events = len(recommend_trackers[0]["events"]) if recommend_trackers else 0
        body = len(json.dumps({"next_action": KIND_ACTIONS["first"], "tracker": recommend_trackers[0],
                               "domain": domain}).encode()) if recommend_trackers else 0
        senders = [c.customer.sender for c in done]
        turn_actions = actions_per_turn(stack, senders)
        log("stopping the servers")
    log("Rasa in process (loads the model again): next-action prediction, NLU, SQL tracker store")
    cases = [(t, KIND_ACTIONS[kind]) for kind, found in trackers.items() for t in found]
    rasa = probe_rasa(workdir, cases, texts, answers, stack.tracker_db, senders, opts.webhook_calls)
    return Measured(conversations, parse, webhooks, events, body, rasa, turn_actions)


def run_customers(stack: Stack, opts: Options) -> tuple[list[Customer], list[Conversation]]:
    """The warm-up customers (not kept), then the measured customers and their conversations, over REST."""
    warm = make_customers(opts.warmup, opts.seed + 1000, "warmup")
    for customer in warm:
        conversation = converse(stack.rasa_url, customer)
        log(f"warm-up {customer.sender}: {customer.request!r} → "
            + ", ".join(f"{t.kind} {t.ms:.0f} ms" for t in conversation.turns)
            + (f" ({conversation.failure})" if conversation.failure else ""))
    customers = make_customers(opts.customers, opts.seed, "customer")
    conversations: list[Conversation] = []
    for n, customer in enumerate(customers, start=1):
        conversation = converse(stack.rasa_url, customer)
        conversations.append(conversation)
        log(f"{n}/{len(customers)} {customer.request!r}: {conversation.questions} question(s); "
            + ", ".join(f"{t.kind} {t.ms:.0f} ms ({len(t.cards)} cards)" for t in conversation.turns)
            + (f" FAILED: {conversation.failure}" if conversation.failure else ""))
    return customers, conversations


def time_nlu(stack: Stack, opts: Options, customers: list[Customer],
             conversations: list[Conversation]) -> tuple[dict[str, list[str]], dict[str, list[float]]]:
    """The customers' messages by turn kind (and their opening requests), and ``/model/parse`` timed on each group."""
    time_parse(stack, [customers[0].request, ANSWER, MORE], 2)  # warm-up
    texts: dict[str, list[str]] = {}
    for kind, _ in TURN_KINDS:
        texts[kind] = [t.text for c in conversations for t in c.turns if t.kind == kind]
    texts["request"] = [c.customer.request for c in conversations]
    parse = {kind: time_parse(stack, group, opts.parse_repeats) for kind, group in texts.items()}
    return texts, parse


def time_action_calls(stack: Stack, opts: Options, done: list[Conversation], domain: dict[str, Any]
                      ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[float]], list[dict[str, Any]]]:
    """Replay each turn kind's action call on ``/webhook`` from the trackers of finished conversations.

    Returns:
        The trackers before each turn kind, the timings by key of :data:`WEBHOOK_CALLS` (the first
        recommendation also with a query never embedded), and the action server's answers.
    """
    trackers: dict[str, list[dict[str, Any]]] = {}
    for kind, _ in TURN_KINDS:
        before = [tracker_before(stack, c.customer.sender, kind) for c in done]
        trackers[kind] = [t for t in before if t is not None]
    webhooks: dict[str, list[float]] = {}
    answers: list[dict[str, Any]] = []
    for kind, found in trackers.items():
        action = KIND_ACTIONS[kind]
        if not found:
            log(f"no tracker before {action} ({kind} turn): skipped")
            continue
        time_webhook(stack, action, found, domain, min(3, opts.webhook_calls))  # warm-up
        webhooks[kind] = time_webhook(stack, action, found, domain, opts.webhook_calls, answers=answers)
    recommend_trackers = trackers.get("first") or []
    if recommend_trackers:
        webhooks["first:new"] = time_webhook(
            stack, KIND_ACTIONS["first"], recommend_trackers, domain, opts.webhook_calls,
            transform=with_new_request_text,
        )
    return trackers, webhooks, answers


def actions_per_turn(stack: Stack, senders: list[str]) -> dict[str, list[tuple[int, int]]]:
    """Per turn kind: (predicted actions, action server calls) in each sender's stored conversation."""
    turn_actions: dict[str, list[tuple[int, int]]] = {kind: [] for kind in KIND_ACTIONS}
    for sender in senders:
        full = _get_json(f"{stack.rasa_url}/conversations/{urllib.parse.quote(sender, safe='')}/tracker"
                         "?include_events=ALL")
        for kind, pair in count_turn_actions(full["events"]).items():
            turn_actions[kind].append(pair)
    return turn_actions


#: One long conversation with the shop: requests, answers, refinements, a change of mind, again and again.
LONG_SCRIPT = ("i need a sofa under 1500", "i don't mind", "show me more", "cheaper", "more like the second",
               "not leather", "actually, a lamp instead", "i don't mind", "show me more", "thanks")


def shop_turns(url: str, sender: str, count: int) -> list[float]:
    """``count`` turns of one conversation with the shop, each one's seconds."""
    return [timed(url, sender, LONG_SCRIPT[n % len(LONG_SCRIPT)])[0] for n in range(count)]


def compare_with_bare(opts: Options, workdir: Path, by_kind: dict[str, list[Turn]]) -> list[Table]:
    """Bare Rasa's starter assistant and ours, with the same client, one after the other on this machine.

    Each answers the same load levels (``opts.bare_seconds`` each) and the same long conversations; our
    per-turn-type latencies are the sequential customers' of the main measurement.
    """
    model = ensure_model()
    with running_bare_rasa(workdir / "bare", model) as bare_server:
        url = bare_server.url
        moodbot_turns(url, "bare-warmup", 8)
        bare = measure_side(url, "bare", moodbot_loop, lambda sender, n: moodbot_turns(url, sender, n),
                            LEVELS, opts.bare_seconds, {"rasa": bare_server.pid})
    with running_stack(workdir / "versus") as stack:
        shop_turns(stack.rasa_url, "shop-warmup", 10)
        def shopper(url: str, name: str, stop: threading.Event, record: Callable[[float, bool], None]) -> None:
            customer_loop(f"{url}/webhooks/rest/webhook", name, stop, record)  # it posts to the channel itself

        ours = measure_side(stack.rasa_url, "shopkeeper", shopper,
                            lambda sender, n: shop_turns(stack.rasa_url, sender, n),
                            LEVELS, opts.bare_seconds, dict(stack.pids))
    tables = comparison_tables(ours, bare, [(label, [t.ms for t in by_kind[kind]]) for kind, label in TURN_KINDS])
    tables[1].notes.append(
        f"Each level: that many customers at once for {opts.bare_seconds:.0f} s after a short warm-up, each waiting "
        "for the answer before typing again (benchmarks/load.py `run_level`); bare Rasa's customers repeat "
        "\"hi\", \"i'm sad\", \"yes\", \"bye\"; ours ask for a category with a budget, answer \"i don't mind\", "
        "press 👍 and ask for more (benchmarks/load.py `customer_loop`). Bare Rasa keeps its trackers in memory "
        "and calls no action server: its defaults from `rasa init`.")
    return tables


def _median_count(measured: Measured, kind: str, which: int) -> float:
    """Median over the inspected conversations of a turn kind's predicted actions (0) or action calls (1)."""
    return _pct([float(pair[which]) for pair in measured.turn_actions.get(kind, [])], 50)


def _latency_table(opts: Options, conversations: Sequence[Conversation], by_kind: dict[str, list[Turn]]) -> Table:
    """Turn latency over REST per kind of turn and over all of them."""
    failures = [c for c in conversations if c.failure]
    all_turns = [t for turns in by_kind.values() for t in turns]
    latency = Table("Recommendation turn latency over REST (warm)",
                    ["turn", "turns", "with cards", "p50 ms", "p95 ms", "mean ms", "max ms"])
    for kind, label in TURN_KINDS:
        times = [t.ms for t in by_kind[kind]]
        latency.add(label, len(times), sum(1 for t in by_kind[kind] if t.cards), _ms(_pct(times, 50)),
                    _ms(_pct(times, 95)), _ms(_mean(times)), _ms(max(times) if times else float("nan")))
    overall = [t.ms for t in all_turns]
    latency.add("all recommendation turns", len(overall), sum(1 for t in all_turns if t.cards),
                _ms(_pct(overall, 50)), _ms(_pct(overall, 95)), _ms(_mean(overall)),
                _ms(max(overall) if overall else float("nan")))
    questions = [c.questions for c in conversations if not c.failure]
    latency.notes += [
        f"{len(conversations)} simulated customers (seed {opts.seed}) one after the other, after {opts.warmup} "
        "untimed warm-up conversation(s); each asks for a demo-catalog category with a budget at which at least "
        f"{MIN_FITTING} items fit, answers \"{ANSWER}\" until cards come back "
        f"({_mean([float(q) for q in questions]):.1f} question(s) on average), presses 👍 on the first card, "
        f"then says \"{MORE}\".",
        "A turn = one POST to Rasa's REST channel (`/webhooks/rest/webhook`), new connection each time, until "
        "every bot message of the turn is back; it includes NLU, the dialogue policies, the action server "
        "call(s), the SQLite tracker store and the customer database.",
    ]
    if failures:
        latency.notes.append(f"{len(failures)} conversation(s) got no cards: "
                             + "; ".join(f"{c.customer.request!r} ({c.failure})" for c in failures[:5]))
    return latency


def _targets_table(by_kind: dict[str, list[Turn]]) -> Table:
    """The p95 target, over all recommendation turns and per kind."""
    overall = [t.ms for turns in by_kind.values() for t in turns]
    targets = Table("Target", ["target", "measured", "result"])
    p95 = _pct(overall, 95)
    targets.add(f"recommendation turn p95 ≤ {TARGET_P95_MS:.0f} ms on the demo catalog (warm)",
                f"p95 {_ms(p95)} ms over {len(overall)} turns (p50 {_ms(_pct(overall, 50))} ms)",
                "not measured" if math.isnan(p95) else ("PASS" if p95 <= TARGET_P95_MS else "FAIL"))
    for kind, label in TURN_KINDS:
        kind_p95 = _pct([t.ms for t in by_kind[kind]], 95)
        targets.add(f"… {label} alone", f"p95 {_ms(kind_p95)} ms",
                    "not measured" if math.isnan(kind_p95) else ("PASS" if kind_p95 <= TARGET_P95_MS else "FAIL"))
    return targets


def _per_turn_table(measured: Measured, by_kind: dict[str, list[Turn]]) -> Table:
    """Where each kind of turn's time goes: NLU, action calls, validation, policies, tracker store, remainder."""
    wh, rasa = measured.webhooks, measured.rasa
    policy_p50 = _pct(rasa.predict, 50)
    store_p50 = _pct(rasa.read, 50) + _pct(rasa.save, 50)

    validate_p50 = _pct(rasa.validate, 50)
    per_turn = Table("Where each turn's time goes (p50, ms)",
                     ["turn", "turn", "NLU", "action server call(s)", "answer validation", "policies",
                      "tracker store", "remainder", "remainder share"])
    for kind, label in TURN_KINDS:
        turn_p50 = _pct([t.ms for t in by_kind[kind]], 50)
        nlu = _pct(rasa.parse.get(kind, []), 50)
        calls = [_pct(wh.get(key, []), 50) for key, _ in WEBHOOK_CALLS[kind]]
        action_ms = sum(calls) if calls and not any(math.isnan(c) for c in calls) else float("nan")
        predicted, remote = _median_count(measured, kind, 0), _median_count(measured, kind, 1)
        policies, validation = predicted * policy_p50, remote * validate_p50
        rest = turn_p50 - nlu - action_ms - validation - policies - store_p50
        names = " + ".join(label for _, label in WEBHOOK_CALLS[kind])
        per_turn.add(label, _ms(turn_p50), _ms(nlu), f"{_ms(action_ms)} ({names})",
                     f"{_ms(validation)} ({remote:.0f} × {_ms(validate_p50)})",
                     f"{_ms(policies)} ({predicted:.0f} × {_ms(policy_p50)})", _ms(store_p50), _ms(rest),
                     _share(rest, turn_p50))
    per_turn.notes += [
        "Each part is measured on its own (its own p50), so the parts are approximate and need not add up exactly; "
        "the phases (turns, direct calls, in-process probes) also run minutes apart, and on a shared virtual machine "
        "the speed drifts between them, so the remainder can even come out negative.",
        "NLU: `processor.parse_message` in the Rasa environment on the turn's own messages (over HTTP, "
        f"`/model/parse` p50: first {_ms(_pct(measured.parse.get('first', []), 50))}, 👍 "
        f"{_ms(_pct(measured.parse.get('feedback', []), 50))}, more {_ms(_pct(measured.parse.get('more', []), 50))} "
        "ms). Messages starting with `/` (the 👍 button payload) skip the NLU pipeline.",
        "Action server calls: its `/webhook` POSTed directly (HTTP included, as Rasa's call is) with the tracker "
        "fetched from `GET /conversations/{id}/tracker?until=…` just before that action ran and the domain from "
        "`GET /domain`. Every turn is one call to `action_shop` (the one shopping action: no form, so no separate "
        "call to validate the answer to a question): the first recommendation's call is timed with a query text "
        "never embedded before, as in the measured turns.",
        "Answer validation: Rasa checks every action server answer with `jsonschema.validate` "
        "(`RemoteAction._validate_action_result`), timed in the Rasa environment on real answers; there "
        f"`jsonschema.validate` is `{rasa.validate_impl}` "
        + ("(bot/rasa_speedups.py: the schema is checked and compiled once). "
           if "speedups" in rasa.validate_impl else
           "(jsonschema's own: it re-checks the schema against its metaschema on every call). ")
        + f"With a validator built once, checking an answer takes {_ms(_pct(rasa.instance, 50))} ms.",
        f"Policies: the actions Rasa predicted in the turn (median over {len(measured.turn_actions.get('first', []))} "
        "conversations, the closing `action_listen` included) × one next-action prediction "
        "(`processor._predict_next_with_tracker` in the Rasa environment on the trackers replayed above, "
        f"p50 {_ms(policy_p50)} ms; it chose the action that really ran for {rasa.agree} of {rasa.cases}).",
        f"Tracker store: `SQLTrackerStore.retrieve` (p50 {_ms(_pct(rasa.read, 50))} ms; reads and replays the "
        f"conversation) + `save` of one turn's events (p50 {_ms(_pct(rasa.save, 50))} ms, "
        f"{_pct([float(e) for e in rasa.events_saved], 50):.0f} events) on a copy of the run's SQLite tracker store.",
        "Remainder = turn − the columns before it: Rasa's REST channel and HTTP server, serialising the tracker and "
        f"the domain for each action call (a `/webhook` body here is {measured.body_bytes / 1024:.0f} kB), "
        "applying events, the lock store and the asyncio glue.",
    ]
    return per_turn


def _components_table(opts: Options, measured: Measured, in_process: InProcess,
                      by_kind: dict[str, list[Turn]], conversations: Sequence[Conversation]) -> Table:
    """The parts of a first-recommendation turn, each measured on its own, with their share of the turn."""
    wh, rasa = measured.webhooks, measured.rasa
    policy_p50 = _pct(rasa.predict, 50)
    store_p50 = _pct(rasa.read, 50) + _pct(rasa.save, 50)
    validate_p50 = _pct(rasa.validate, 50)
    first_p50 = _pct([t.ms for t in by_kind["first"]], 50)
    components = Table(
        "Breakdown of a first-recommendation turn",
        ["component", "how measured", "p50 ms", "share of the turn p50", "p95 ms"],
    )

    def row(name: str, how: str, values: Sequence[float]) -> float:
        p50 = _pct(values, 50)
        components.add(name, how, _ms(p50), _share(p50, first_p50), _ms(_pct(values, 95)))
        return p50

    def derived(name: str, how: str, value: float, p95: float = float("nan")) -> None:
        components.add(name, how, _ms(value), _share(value, first_p50), _ms(p95))

    components.add("whole turn (first recommendation)", f"REST, {len(by_kind['first'])} turns", _ms(first_p50),
                   "100%", _ms(_pct([t.ms for t in by_kind["first"]], 95)))
    nlu = row("NLU", "Rasa in process: `processor.parse_message`", rasa.parse.get("first", []))
    recommend_new = row("action call: action_shop (new query text)", "`/webhook` direct", wh.get("first:new", []))
    embed_new = row("… query embedding, new text", "in process: `retriever.embed_query`", in_process.embed_new)
    search = row("… search + rerank (recommend − embedding)", "in process: `recommender.recommend`, query cached",
                 in_process.search_first)
    database = row("… database: snapshot + record_many (3 impressions)",
                   f"in process, SQLite file (snapshot {_ms(_pct(in_process.snapshot, 50))} + record_many "
                   f"{_ms(_pct(in_process.record, 50))})", in_process.database)
    derived("… rest of the call: HTTP, JSON, tracker and domain parsing, slots, cards",
            "action_shop − embedding − search − database", recommend_new - embed_new - search - database)
    remote = _median_count(measured, "first", 1)
    validation = remote * validate_p50
    derived(f"Rasa validating the action server's answers ({remote:.0f} calls)",
            f"{remote:.0f} × `_validate_action_result` p50 {_ms(validate_p50)} (the answer alone: "
            f"{_ms(_pct(rasa.instance, 50))})", validation, remote * _pct(rasa.validate, 95))
    predicted = _median_count(measured, "first", 0)
    policies = predicted * policy_p50
    derived(f"Rasa dialogue policies ({predicted:.0f} next-action predictions)",
            f"{predicted:.0f} × `_predict_next_with_tracker` p50 {_ms(policy_p50)}", policies,
            predicted * _pct(rasa.predict, 95))
    derived("Rasa SQL tracker store (read + save)",
            f"`retrieve` {_ms(_pct(rasa.read, 50))} + `save` {_ms(_pct(rasa.save, 50))}", store_p50,
            _pct(rasa.read, 95) + _pct(rasa.save, 95))
    derived("remainder: REST channel, HTTP, (de)serialisation, glue",
            "turn − every row above without …",
            first_p50 - nlu - recommend_new - validation - policies - store_p50)
    _add_comparisons(components, measured, in_process)
    components.notes += _components_notes(opts, measured, conversations)
    return components


def _add_comparisons(components: Table, measured: Measured, in_process: InProcess) -> None:
    """The breakdown's "for comparison" rows: cached embedding, a 👍-steered search, NLU over HTTP."""

    def compare(name: str, how: str, values: Sequence[float]) -> None:
        components.add(name, how, _ms(_pct(values, 50)), "—", _ms(_pct(values, 95)))

    compare("for comparison: action_shop with the query embedding cached", "`/webhook` direct",
            measured.webhooks.get("first", []))
    compare("for comparison: query embedding, cached", "in process: `retriever.embed_query` again",
            in_process.embed_cached)
    compare("for comparison: search + rerank steered by a liked item (👍 turn)",
            "in process: with like_item + preferences", in_process.search_liked)
    compare("for comparison: NLU over HTTP", "`/model/parse`", measured.parse.get("first", []))


def _components_notes(opts: Options, measured: Measured, conversations: Sequence[Conversation]) -> list[str]:
    """How the breakdown of a first-recommendation turn was measured."""
    return [
        "Shares are approximate: every component is measured separately (its own p50), not inside the same turns. "
        "The p95 column is each part's own p95 (× its count per turn): a guide to which parts have a tail, not "
        "terms that add up. "
        "Rows starting with … are parts of the action call above them. The remainder is Rasa's dialogue "
        "machinery that none of the rows isolates: its REST channel and HTTP server, serialising the tracker and "
        "domain for each action call and reading the answers, applying events.",
        f"Action calls: {opts.webhook_calls} direct `/webhook` calls each, cycling over the trackers of the first "
        f"{min(10, len(conversations))} customers (about {measured.tracker_events} events per tracker). 'New query "
        "text' appends words to the customer's request in the tracker so that the action must embed it.",
        f"In process (action side): {opts.in_process_calls} calls each with `actions.services.default_services()` "
        "(the action server's code and thread settings) on a temporary SQLite database, after the servers stopped.",
        f"In process (Rasa side): the trained model loaded with `Agent.load` in `.venv-rasa`, {opts.webhook_calls} "
        "predictions and store reads/saves, after the servers stopped.",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the stack part, then the in-process part, and print the tables."""
    opts = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    report = Report()
    report.line(f"Command: `{opts.command}`")
    report.line(f"Machine: {machine_line()}")
    report.line(f"Code: {code_version()}")
    load_start = _load_average()
    started_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())

    with tempfile.TemporaryDirectory(prefix="shopkeeper-turns-") as tmp:
        workdir = Path(tmp)
        measured = run_stack_part(opts, workdir)
        customers = [c.customer for c in measured.conversations]
        in_process = measure_in_process(customers, opts.in_process_calls, workdir)
        conversations = measured.conversations
        by_kind = {kind: [t for c in conversations for t in c.turns if t.kind == kind] for kind, _ in TURN_KINDS}
        versus = compare_with_bare(opts, workdir, by_kind) if opts.bare_seconds > 0 else []

    failures = [c for c in conversations if c.failure]
    report.table(_latency_table(opts, conversations, by_kind))
    report.table(_targets_table(by_kind))
    report.table(_per_turn_table(measured, by_kind))
    report.table(_components_table(opts, measured, in_process, by_kind, conversations))
    for table in versus:
        report.table(table)
    elapsed = seconds_since_start()
    report.line(f"Run: started {started_at}, took {elapsed / 60:.1f} min; load average (1/5/15 min) "
                f"{load_start} at start, {_load_average()} at end.")
    report.write(opts.markdown)
    return 1 if len(failures) == len(conversations) else 0


if __name__ == "__main__":
    sys.exit(main())

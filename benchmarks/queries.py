#!/usr/bin/env python3
"""Query benchmark: does a shopper's opening message get the right kind of product?

Run from the repository root, after preparing the foreign catalogs (``make bench-catalogs`` does both)::

    .venv/bin/python -m benchmarks.queries                         # every catalog with a query suite
    .venv/bin/python -m benchmarks.queries --catalogs amazon-2020-sample --no-dialogue
    .venv/bin/python -m benchmarks.queries --markdown out.md

The suites are ``benchmarks/queries/<catalog>.yml``: at least 150 queries per catalog, written as
shoppers type (short, misspelled, brand-, attribute-, use-, gift- and budget-led), each with the
categories that would be an acceptable answer (see benchmarks/queries/README.md). None of them is
in the NLU training data (tests/test_query_suites.py checks).

For each query, four systems answer with three items:

* **dense**: the MiniLM vector of the query, nearest items (FAISS);
* **lexical**: BM25 over the products' words (bm25s);
* **hybrid**: both fused (:func:`retrieval.lexical.fuse`), as the assistant's search does;
* **dialogue**: the whole assistant over REST on the catalog's own trained model: the customer sends
  the query, then answers "I don't mind" to every question until cards come (at most four turns).

hit@3: at least one of the three is of an accepted category; precision@3: the share of the three
that are (a missing card counts as a miss). The dialogue's "we don't carry" answers are counted.

The other side of a shop that reads needs generously: ``benchmarks/queries/off-topic.yml`` holds messages
that ask for no product (small talk, the world, errands, questions for the shop's staff). Each opens a
conversation of its own on every catalog; the dialogue's answer is counted as taken for a need when it
shows cards or its conversation model then holds a kind of product (read from the tracker). Fewer is better.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from actions.parsing import parse_budget
from benchmarks.conversations import CatalogRun, available_runs, rest_sender, servers
from benchmarks.replay import ReplayShop, cached_parses
from benchmarks.reporting import Report, Table, code_version, cpu_model, load_average, log, mem_total_gb
from evaluation.stack import get
from retrieval.contract import CardKey, SlotName, card_ids, cards_in, recommendations_in
from retrieval.filters import Filters
from retrieval.loaders import load_catalog
from retrieval.paths import PROJECT_ROOT as REPO
from retrieval.search import MODES, Retriever
from retrieval.settings import RetrievalSettings

QUERIES = REPO / "benchmarks" / "queries"
#: The sealed suites: written without sight of the code or the dev suites, run only to report (docs/BENCHMARKS.md).
SEALED_QUERIES = REPO / "benchmarks" / "sealed" / "queries"
OFF_TOPIC = QUERIES / "off-topic.yml"
#: The one-shot hybrid search under the budget the words state: the search box the dialogue must beat.
LIMITED = "hybrid+budget"
#: Every one-shot system, as the tables name them.
SYSTEMS = (*MODES, LIMITED)
K = 3
MAX_TURNS = 4
WAIVE = "I don't mind"
NOT_CARRIED = "we don't carry"


@dataclass(frozen=True)
class Query:
    """One shopper query and the categories that answer it."""

    text: str
    style: str
    accept: frozenset[str]


def load_queries(path: Path) -> tuple[str, list[Query]]:
    """The catalog name and queries of one suite file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    queries = [Query(str(q["text"]), str(q["style"]), frozenset(q["accept"])) for q in data["queries"]]
    return str(data["catalog"]), queries


def load_off_topic(path: Path = OFF_TOPIC) -> list[Query]:
    """The messages that ask for no product (no categories accept them)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Query(str(q["text"]), str(q["style"]), frozenset()) for q in data["queries"]]


def taken_for_a_need(reply: Sequence[Mapping[str, Any]], tracker: Mapping[str, Any]) -> bool:
    """Whether the shop answered as if a product was asked for: cards, or a kind of product in its model.

    >>> taken_for_a_need([{"text": "hi"}], {"slots": {"shop_state": {"need": {"scope": []}}}})
    False
    >>> taken_for_a_need([], {"slots": {"shop_state": {"need": {"scope": ["Jackets"]}}}})
    True
    """
    if card_ids(reply):
        return True
    state = (tracker.get("slots") or {}).get(SlotName.SHOP_STATE) or {}
    return bool((state.get("need") or {}).get("scope"))


def off_topic(run_name: str, rasa_url: str, send: Any, messages: Sequence[Query]) -> list[str]:
    """Every off-topic message as an opening; those taken for a need, with what the shop said."""
    taken = []
    for number, message in enumerate(messages, start=1):
        sender = f"o-{run_name}-{number}"
        reply = send(sender, message.text)
        status, body = get(f"{rasa_url}/conversations/{sender}/tracker")
        if status != 200:
            raise RuntimeError(f"the tracker of {sender} could not be read ({status}): {body[:200]}")
        if taken_for_a_need(reply, json.loads(body)):
            said = " / ".join(str(m.get("text", "")) for m in reply if m.get("text"))
            taken.append(f"{message.text!r} ({message.style}) → {said[:120]}")
    return taken


def scores(categories: Sequence[str], accept: frozenset[str]) -> tuple[float, float]:
    """hit@3 and precision@3 of the categories of the items shown, best first."""
    top = list(categories[:K])
    good = sum(c in accept for c in top)
    return float(good > 0), good / K


@dataclass
class Tally:
    """hit@3 and precision@3 summed over queries."""

    hits: float = 0.0
    precision: float = 0.0
    count: int = 0

    def add(self, hit: float, precision: float) -> None:
        self.hits += hit
        self.precision += precision
        self.count += 1

    def cells(self) -> tuple[str, str]:
        n = max(self.count, 1)
        return f"{self.hits / n:.3f}", f"{self.precision / n:.3f}"


@dataclass
class Openings:
    """The dialogue's first lists, scored: overall, by style, its misses and its "we don't carry" answers."""

    overall: Tally = field(default_factory=Tally)
    by_style: defaultdict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    not_carried: list[str] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)

    def add(self, query: Query, shown: Sequence[str], said: Sequence[str]) -> None:
        """One opening: the categories of the cards shown, best first, and what the shop said."""
        if any(NOT_CARRIED in s.lower() for s in said):
            self.not_carried.append(f"{query.text!r} ({query.style})")
        hit, precision = scores(shown, query.accept)
        self.overall.add(hit, precision)
        self.by_style[query.style].add(hit, precision)
        if not hit:
            self.misses.append(f"{query.text!r} ({query.style}) → {', '.join(shown[:K]) or ' / '.join(said)[:120]}")


def one_shot(retriever: Retriever, queries: Sequence[Query]) -> tuple[dict[str, Tally], dict[str, dict[str, Tally]],
                                                                       dict[str, float]]:
    """Every query through each retrieval mode; tallies overall and by style, p95 ms per mode and of embedding."""
    overall = {mode: Tally() for mode in SYSTEMS}
    by_style: dict[str, dict[str, Tally]] = {mode: defaultdict(Tally) for mode in SYSTEMS}
    timings: dict[str, list[float]] = {mode: [] for mode in (*MODES, "embedding")}
    for query in queries:
        started = time.perf_counter()
        retriever.embed_query(query.text)  # then cached: the modes below time search and fusion only
        timings["embedding"].append((time.perf_counter() - started) * 1000)
        for mode in MODES:
            started = time.perf_counter()
            matches = retriever.search(query.text, k=K, mode=mode)
            timings[mode].append((time.perf_counter() - started) * 1000)
            hit, precision = scores([m.product.category for m in matches], query.accept)
            overall[mode].add(hit, precision)
            by_style[mode][query.style].add(hit, precision)
        matches = retriever.search(query.text, stated_limits(query.text), k=K, mode="hybrid")
        hit, precision = scores([m.product.category for m in matches], query.accept)
        overall[LIMITED].add(hit, precision)
        by_style[LIMITED][query.style].add(hit, precision)
    p95 = {mode: sorted(t)[int(0.95 * (len(t) - 1))] for mode, t in timings.items()}
    return overall, by_style, p95


def stated_limits(text: str) -> Filters:
    """The price bounds the words state ("under 500", "max 2k"), read by the shop's amount parser; else none.

    >>> stated_limits("perfume below 60 dollars").max_price, stated_limits("a cheap kite").max_price
    (60.0, None)
    """
    budget = parse_budget(text)
    if budget is None:
        return Filters()
    return Filters(min_price=budget.minimum, max_price=budget.maximum)


def dialogue(run: CatalogRun, queries: Sequence[Query], categories: Mapping[str, str], others: Sequence[Query]
             ) -> tuple[Openings, float, list[str]]:
    """Every query as the opening of a conversation over REST; the first cards shown are scored.

    Then every off-topic message in ``others``: the list of those the shop took for a need.
    """
    openings = Openings()
    turns = 0
    with tempfile.TemporaryDirectory(prefix=f"queries-{run.name}-") as work, servers(run, Path(work)) as rasa_url:
        send = rest_sender(rasa_url)
        for number, query in enumerate(queries, start=1):
            sender = f"q-{run.name}-{number}"
            text, cards, said = query.text, [], []
            for _ in range(MAX_TURNS):
                turns += 1
                reply = send(sender, text)
                said += [str(m.get("text", "")) for m in reply if m.get("text")]
                cards = [card for m in reply for card in cards_in(recommendations_in(m.get("custom")))]
                if cards:
                    break
                text = WAIVE
            openings.add(query, [categories.get(str(c[CardKey.ID]), str(c.get(CardKey.CATEGORY))) for c in cards],
                         said)
            if number % 25 == 0:
                hits = openings.overall.hits / openings.overall.count
                log(f"{run.name}: {number}/{len(queries)} queries, hit@3 so far {hits:.3f}")
        taken = off_topic(run.name, rasa_url, send, others)
    return openings, turns / max(len(queries), 1), taken


def dialogue_in_process(run: CatalogRun, retriever: Retriever, queries: Sequence[Query],
                        categories: Mapping[str, str], others: Sequence[Query]
                        ) -> tuple[Openings, float, list[str]]:
    """As :func:`dialogue`, in the action server's code on the model's cached parses (:mod:`benchmarks.replay`)."""
    parses = cached_parses(run.model, [q.text for q in (*queries, *others)] + [WAIVE])
    replay = ReplayShop(retriever)
    openings = Openings()
    turns = 0
    for query in queries:
        opening = replay.opening(parses, query.text, WAIVE, MAX_TURNS)
        turns += opening.turns
        openings.add(query, [categories.get(i, "?") for i in opening.cards], opening.said)
    taken = []
    for message in others:
        opening = replay.opening(parses, message.text, WAIVE, 1)
        if opening.cards or opening.state.need.scope:
            taken.append(f"{message.text!r} ({message.style}) → {' / '.join(opening.said)[:120]}")
    return openings, turns / max(len(queries), 1), taken


def suites_of(folder: Path) -> dict[str, list[Query]]:
    """The query suites of one folder, by catalog name."""
    return {name: queries for name, queries in (load_queries(p) for p in sorted(folder.glob("*.yml"))
                                                if p != OFF_TOPIC)}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalogs", help="comma-separated build names (default: every one with a query suite)")
    parser.add_argument("--no-dialogue", action="store_true", help="one-shot retrieval only (no servers)")
    parser.add_argument("--markdown", type=Path, help="also write the tables as markdown here")
    parser.add_argument("--misses", type=int, default=40, help="list at most this many dialogue misses per catalog")
    parser.add_argument("--sets", default="dev",
                        help="dev, sealed or dev,sealed: which suites (sealed: benchmarks/sealed/queries, to report)")
    parser.add_argument("--in-process", action="store_true",
                        help="replay the dialogue in the action server's code on cached NLU parses (no servers)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    sets = [s for s in args.sets.split(",") if s]
    if not sets or set(sets) - {"dev", "sealed"}:
        sys.exit(f"--sets takes dev, sealed or both, not {args.sets!r}")
    suites = {"dev": suites_of(QUERIES), "sealed": suites_of(SEALED_QUERIES)}
    others = load_off_topic()
    available = available_runs()
    names = args.catalogs.split(",") if args.catalogs else \
        [n for n in available if any(n in suites[s] for s in sets)]
    problems = [n for n in names if not any(n in suites[s] for s in sets) or n not in available]
    if problems or not names:
        sys.exit(f"no query suite or no prepared catalog for: {', '.join(problems) or '(none prepared)'}; "
                 "prepare with `make bench-catalogs` (or `shopkeeper catalog use FILE --mapping M --no-activate`)")

    report = Report()
    options = " ".join(sys.argv[1:] if argv is None else argv)
    report.line(f"Command: `{' '.join(['.venv/bin/python -m benchmarks.queries', options]).strip()}`")
    report.line(f"Machine: {cpu_model()}, {os.cpu_count()} cores, {mem_total_gb():.0f} GB RAM; {code_version()}")
    report.line(f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {load_average()} at start")

    summary = Table("hit@3 / precision@3 by catalog and system" + (" (dialogue replayed in process)"
                                                                   if args.in_process else ""),
                    ["catalog", "set", "queries", *[f"{m} hit@3 / P@3" for m in SYSTEMS], "dialogue hit@3 / P@3",
                     "dialogue: we don't carry", "dialogue turns per query",
                     f"dialogue: off-topic taken for a need (of {len(others)})"])
    styles: dict[str, Table] = {}
    for name in names:
        for which in (s for s in sets if name in suites[s]):
            row, tables = run_catalog(name, available[name], suites[which][name], others, label=which,
                                      dialogue_too=not args.no_dialogue, misses=args.misses,
                                      in_process=args.in_process)
            styles.update(tables)
            summary.add(row[0], which, *row[1:])
    report.table(summary)
    for table in styles.values():
        report.table(table)
    report.write(args.markdown)
    return 0


def run_catalog(name: str, run: CatalogRun, queries: list[Query], others: list[Query], *, dialogue_too: bool,
                misses: int, label: str = "dev", in_process: bool = False) -> tuple[list[Any], dict[str, Table]]:
    """One catalog's row of the summary, and its tables (by query style; the dialogue's misses), in report order."""
    catalog = load_catalog(run.catalog, strict=False).catalog
    index_dir = Path(run.env.get("SHOPKEEPER_INDEX_DIR", REPO / "build" / "index"))
    retriever = Retriever.load(catalog, RetrievalSettings.from_env({}).make_encoder(), index_dir)
    log(f"{name}: {len(queries)} queries on {len(catalog)} products")
    overall, by_style, p95 = one_shot(retriever, queries)
    row: list[Any] = [name, len(queries), *[" / ".join(overall[m].cells()) for m in SYSTEMS]]
    style_table = Table(f"{name} ({label}): hit@3 / precision@3 by query style",
                        ["style", "queries", *SYSTEMS, *(["dialogue"] if dialogue_too else [])])
    talk: dict[str, Tally] = {}
    tables: dict[str, Table] = {}
    if not dialogue_too:
        row += ["—", "—", "—", "—"]
    else:
        categories = {p.id: p.category for p in catalog}
        openings, turns, taken = (dialogue_in_process(run, retriever, queries, categories, others) if in_process
                                  else dialogue(run, queries, categories, others))
        talk = dict(openings.by_style)
        row += [" / ".join(openings.overall.cells()), len(openings.not_carried), f"{turns:.2f}", len(taken)]
        tables = dialogue_tables(f"{name} ({label})", taken, openings.misses[:misses], len(openings.misses),
                                 openings.not_carried)
    for style in sorted(by_style["hybrid"]):
        cells = [" / ".join(by_style[m][style].cells()) for m in SYSTEMS]
        if talk:
            cells.append(" / ".join(talk[style].cells()))
        style_table.add(style, by_style["hybrid"][style].count, *cells)
    style_table.notes.append("p95 per query: embedding the query " + f"{p95['embedding']:.1f} ms; then search "
                             + ", ".join(f"{m} {p95[m]:.2f} ms" for m in MODES))
    tables[f"{name}-{label}"] = style_table
    return row, tables


def dialogue_tables(name: str, taken: list[str], misses: list[str], missed: int,
                    not_carried: list[str]) -> dict[str, Table]:
    """The dialogue's listings for one catalog: off-topic messages taken for a need, misses, "we don't carry"."""
    tables: dict[str, Table] = {}
    if taken:
        listing = Table(f"{name}: off-topic messages taken for a need ({len(taken)})",
                        ["message (style) → what the shop said"])
        for line in taken:
            listing.add(line)
        tables[f"{name}-off-topic"] = listing
    listing = Table(f"{name}: dialogue misses ({missed})", ["query (style) → categories shown"])
    for line in misses:
        listing.add(line)
    tables[f"{name}-misses"] = listing
    if not_carried:
        answered = Table(f"{name}: \"we don't carry\" answers ({len(not_carried)})", ["query (style)"])
        for line in not_carried:
            answered.add(line)
        tables[f"{name}-not-carried"] = answered
    return tables


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The conversation suites (tests/conversations) played over REST, on the demo catalog and on foreign ones.

Run from the repository root (the demo index and model must exist: ``make index model``)::

    .venv/bin/python -m benchmarks.conversations                          # demo + every prepared catalog
    .venv/bin/python -m benchmarks.conversations --catalogs demo --markdown /tmp/conv.md
    .venv/bin/python -m benchmarks.conversations --in-process          # the quick loop: no servers

``--in-process`` answers each message in the action server's own code (``benchmarks/replay.py``): the
catalog's model parses every message of the suites once (cached beside the model), each intent goes to
its rule's action, the slots are kept per sender. The REST run stays the measure a release reports.

Tables go to stdout, progress to stderr. For each catalog the Rasa server and the action server
start on free loopback ports with their own SQLite databases in a temporary folder, every
conversation that applies to the catalog is played under a fresh sender id
(``evaluation.conversations.play_suites``), and the pass rate of the checks is reported per
catalog and per move (suite file), followed by every failing check.

Catalogs: ``demo`` (``data/catalog/products.jsonl``, ``build/index``, ``models/shopkeeper.tar.gz``)
and, when ``../shared/catalogs`` exists, every catalog prepared under ``build/catalogs/NAME/`` by
``shopkeeper catalog use FILE --mapping MAPPING --no-activate`` (its ``catalog.env`` and model).
Only conversations marked ``catalogs: [any]`` (or naming the catalog) run on a foreign catalog.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.reporting import Report, Table, code_version, cpu_model, load_average, log, mem_total_gb
from evaluation.conversations import (
    ConversationResult,
    Suite,
    failures,
    load_suites,
    pass_rate,
    play_suites,
)
from evaluation.stack import StackError, running_stack
from retrieval.paths import PROJECT_ROOT as REPO
from shopkeeper_cli.main import read_catalog_env

RASA = REPO / ".venv-rasa" / "bin" / "rasa"
SHARED_CATALOGS = REPO.parent / "shared" / "catalogs"
CATALOG_BUILDS = REPO / "build" / "catalogs"


@dataclass(frozen=True)
class CatalogRun:
    """One catalog to play on: its products, index and model, and the environment that serves it."""

    name: str
    catalog: Path
    model: Path
    env: dict[str, str]


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines (``catalog.env``), paths made absolute against the repository."""
    env = read_catalog_env(path)
    for key in ("SHOPKEEPER_CATALOG", "SHOPKEEPER_INDEX_DIR", "SHOPKEEPER_NLU_LOOKUPS", "SHOPKEEPER_RASA_MODEL"):
        if env.get(key) and not Path(env[key]).is_absolute():
            env[key] = str(REPO / env[key])
    return env


def available_runs() -> dict[str, CatalogRun]:
    """The demo catalog and every foreign catalog prepared under build/catalogs (when ../shared/catalogs exists)."""
    runs = {"demo": CatalogRun("demo", REPO / "data/catalog/products.jsonl", REPO / "models/shopkeeper.tar.gz",
                               {"SHOPKEEPER_CATALOG": str(REPO / "data/catalog/products.jsonl"),
                                "SHOPKEEPER_INDEX_DIR": str(REPO / "build/index")})}
    if SHARED_CATALOGS.is_dir() and CATALOG_BUILDS.is_dir():
        for home in sorted(p for p in CATALOG_BUILDS.iterdir() if (p / "catalog.env").exists()):
            env = read_env_file(home / "catalog.env")
            model = Path(env.get("SHOPKEEPER_RASA_MODEL", home / "models" / "shopkeeper.tar.gz"))
            runs[home.name] = CatalogRun(home.name, Path(env.get("SHOPKEEPER_CATALOG", home / "products.jsonl")),
                                         model, env)
    return runs


def read_products(path: Path) -> list[dict[str, Any]]:
    """The catalog's products as dicts (the native JSONL format)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# --- the servers --------------------------------------------------------------------------------------------------
@contextmanager
def servers(run: CatalogRun, work: Path) -> Iterator[str]:
    """Run the action server and the Rasa server for ``run``; yield Rasa's URL; stop both on exit."""
    try:
        with running_stack(work, extra_env={**run.env, "SHOPKEEPER_CATALOG_MAPPING": ""}, model=run.model) as stack:
            yield stack.rasa_url
    except StackError as exc:
        sys.exit(str(exc))


def rest_sender(rasa_url: str) -> Any:
    """``send(sender, text)`` over Rasa's REST channel."""
    def send(sender: str, text: str) -> list[dict[str, Any]]:
        body = json.dumps({"sender": sender, "message": text}).encode()
        request = urllib.request.Request(f"{rasa_url}/webhooks/rest/webhook", body,
                                         {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=120) as response:
            reply = json.loads(response.read())
        if not isinstance(reply, list):
            raise ValueError(f"unexpected REST answer: {reply!r}")
        return reply
    return send


def in_process_sender(run: CatalogRun, suites: Sequence[Suite], products: Sequence[dict[str, Any]]) -> Any:
    """``send(sender, text)`` answered in this process (:class:`benchmarks.replay.ReplayBot`) on cached parses.

    The messages of the conversations that run on the catalog are read first (a dry run records them; they do
    not depend on the replies) and parsed once with the catalog's model.
    """
    from benchmarks.replay import ReplayBot, cached_parses
    from retrieval.loaders import load_catalog
    from retrieval.search import Retriever
    from retrieval.settings import RetrievalSettings

    said: list[str] = []

    def record(sender: str, text: str) -> list[dict[str, Any]]:
        said.append(text)
        return []

    play_suites(suites, record, products, catalog_name=run.name)
    catalog = load_catalog(run.catalog, strict=False).catalog
    index_dir = Path(run.env.get("SHOPKEEPER_INDEX_DIR", REPO / "build" / "index"))
    retriever = Retriever.load(catalog, RetrievalSettings.from_env({}).make_encoder(), index_dir)
    return ReplayBot(retriever, cached_parses(run.model, said)).send


# --- the report ---------------------------------------------------------------------------------------------------


def _rate(results: Sequence[ConversationResult]) -> tuple[str, str, str]:
    checks = [c for r in results for c in r.checks]
    passed = sum(c.passed for c in checks)
    whole = sum(r.passed for r in results)
    return f"{pass_rate(results):.3f}", f"{passed}/{len(checks)}", f"{whole}/{len(results)}"


def play_catalog(run: CatalogRun, suites: Sequence[Suite], args: argparse.Namespace,
                 report: Report) -> list[ConversationResult]:
    """Play every applicable conversation on one catalog and print its table of moves."""
    products = read_products(run.catalog)
    count = [0]

    def progress(result: ConversationResult) -> None:
        count[0] += 1
        failed = sum(not c.passed for c in result.checks)
        log(f"{run.name} {count[0]}: {result.suite} / {result.name}: "
            + ("ok" if not failed else f"{failed} of {len(result.checks)} checks failed"))

    if args.in_process:
        send = in_process_sender(run, suites, products)
        played = time.perf_counter()
        results = play_suites(suites, send, products, catalog_name=run.name, sender_prefix=f"bench-{run.name}",
                              progress=progress)
        minutes = (time.perf_counter() - played) / 60
    else:
        started = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix=f"conv-{run.name}-") as work, \
                servers(run, Path(work)) as rasa_url:
            log(f"{run.name}: servers up after {time.perf_counter() - started:.0f}s")
            played = time.perf_counter()
            results = play_suites(suites, rest_sender(rasa_url), products, catalog_name=run.name,
                                  sender_prefix=f"bench-{run.name}", progress=progress)
            minutes = (time.perf_counter() - played) / 60
    by_move: dict[str, list[ConversationResult]] = defaultdict(list)
    for result in results:
        by_move[result.suite].append(result)
    table = Table(f"{run.name}: {len(results)} conversations, pass rate of checks by move",
                  ["move", "conversations", "checks passed", "pass rate", "conversations passed"])
    for move, moved in sorted(by_move.items()):
        rate, checks, whole = _rate(moved)
        table.add(move, len(moved), checks, rate, whole)
    rate, checks, whole = _rate(results)
    table.add("all", len(results), checks, rate, whole)
    table.notes.append(f"Catalog {run.catalog} ({len(products)} products); model {run.model}; "
                       f"played in {minutes:.1f} min " + ("in process, on cached NLU parses." if args.in_process
                                                          else "over REST."))
    report.table(table)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalogs", help="comma-separated: demo and/or build names (default: every one prepared)")
    parser.add_argument("--suites", type=Path, default=REPO / "tests" / "conversations",
                        help="folder of suite files (default tests/conversations)")
    parser.add_argument("--markdown", type=Path, help="also write the tables as markdown here")
    parser.add_argument("--failures", type=int, default=200, help="list at most this many failing checks")
    parser.add_argument("--in-process", action="store_true",
                        help="answer in the action server's code on cached NLU parses (no servers; the quick loop)")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    suites = load_suites(args.suites)
    available = available_runs()
    names = args.catalogs.split(",") if args.catalogs else list(available)
    unknown = [n for n in names if n not in available]
    if unknown:
        sys.exit(f"unknown or unprepared catalogs: {', '.join(unknown)} (prepared: {', '.join(available)}); "
                 "prepare one with `shopkeeper catalog use FILE --mapping MAPPING --no-activate`")
    runs = [available[n] for n in names]
    missing = [f"{r.name}: {p}" for r in runs for p in (r.catalog, r.model) if not p.exists()]
    if not RASA.exists():  # the REST run serves with it; the in-process one parses with its Python
        missing.append(str(RASA))
    if missing:
        sys.exit("missing — build them first (`make index model`, or `shopkeeper catalog use`):\n  "
                 + "\n  ".join(missing))

    report = Report()
    options = " ".join(sys.argv[1:] if argv is None else argv)
    report.line(f"Command: `{' '.join(['.venv/bin/python -m benchmarks.conversations', options]).strip()}`")
    report.line(f"Machine: {cpu_model()}, {os.cpu_count()} cores, {mem_total_gb():.0f} GB RAM; {code_version()}")
    report.line(f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {load_average()} at start")
    total = sum(len(s.conversations) for s in suites)
    where = args.suites.resolve().relative_to(REPO) if args.suites.resolve().is_relative_to(REPO) else args.suites
    report.line(f"Suites: {len(suites)} files, {total} conversations in {where}")

    every: dict[str, list[ConversationResult]] = {}
    for run in runs:
        every[run.name] = play_catalog(run, suites, args, report)

    summary = Table("Pass rate of checks by catalog", ["catalog", "conversations", "checks passed", "pass rate",
                                                        "conversations passed"])
    for name, results in every.items():
        rate, checks, whole = _rate(results)
        summary.add(name, len(results), checks, rate, whole)
    report.table(summary)

    failing = [f"{name}: {line}" for name, results in every.items() for line in failures(results)]
    shown = failing[:args.failures]
    listing = Table(f"Failing checks ({len(failing)})", ["catalog: move / conversation / turn (said) / check: seen"])
    for line in shown:
        listing.add(line)
    if len(failing) > len(shown):
        listing.notes.append(f"{len(failing) - len(shown)} more not listed (--failures).")
    report.table(listing)
    report.write(args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())

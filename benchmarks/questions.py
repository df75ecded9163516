#!/usr/bin/env python3
"""Question benchmark: are shoppers' questions about an item on screen answered from that item's facts?

Run from the repository root (the foreign catalogs prepared by ``make foreign-catalogs``)::

    .venv/bin/python -m benchmarks.questions                          # dev suites, every prepared catalog
    .venv/bin/python -m benchmarks.questions --sets dev,sealed --markdown out.md

The suites are ``benchmarks/questions/<catalog>.yml`` (dev) and ``benchmarks/sealed/questions/<catalog>.yml``
(sealed: written without sight of the code or the dev suites, run only to report). Each case names an item
of the catalog, the card it sits on (1 to 3), the question as a shopper types it, and what a right answer
holds (see benchmarks/questions/README.md). The item is shown as a list with two others of its category
around it (alone when the question says "it" and names no card); the question is read by the catalog's own
model (parses cached beside it) and answered by the action server's code in this process.

A case passes when the reply is an answer (not a list, a critique or a rejection), leaves the need, the
rejections and the lists as they were, speaks of the asked item, and holds what the case expects: the
field's catalog value, the quoted words of the supporting sentence, "Yes"/"No" leading a settled yes/no,
"doesn't say" for what neither the fields nor the description say.

Latency: each answer turn is timed in process beside a recommendation turn (a search for words not
searched before: the item's category and title), so the two are comparable on this machine. Text is
embedded as the action server embeds it (ONNX Runtime, its serving threads); an item's description
sentences come from the sentence index built with the catalog's index (retrieval/sentences.py).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from actions.conversation import Move, Need, Reply, State, apply
from actions.parsing import question_positions
from benchmarks.conversations import available_runs
from benchmarks.replay import ReplayShop, cached_parses
from benchmarks.reporting import Report, Table, code_version, cpu_model, load_average, log, percentile
from retrieval.catalog import Catalog, Product
from retrieval.explain import product_price
from retrieval.loaders import load_catalog
from retrieval.paths import PROJECT_ROOT as REPO
from retrieval.search import Retriever
from retrieval.settings import RetrievalSettings

QUESTIONS = REPO / "benchmarks" / "questions"
SEALED_QUESTIONS = REPO / "benchmarks" / "sealed" / "questions"
KINDS = ("field", "field_yes_no", "description", "unknown")
#: What an answer says when neither the fields nor the description say (actions/texts.py ANSWER_UNKNOWN).
UNKNOWN_MARK = "doesn't say"


@dataclass(frozen=True)
class Case:
    """One question about one item."""

    item: str
    position: int
    ask: str
    kind: str
    expect: Mapping[str, str]


def load_cases(path: Path) -> tuple[str, list[Case]]:
    """The catalog name and the cases of one suite file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = [Case(str(q["item"]), int(q["position"]), str(q["ask"]), str(q["kind"]),
                  {str(k): str(v) for k, v in dict(q.get("expect") or {}).items()}) for q in data["questions"]]
    return str(data["catalog"]), cases


def suites_of(folder: Path) -> dict[str, list[Case]]:
    """Every suite in a folder, by catalog."""
    return dict(load_cases(p) for p in sorted(folder.glob("*.yml")))


def field_value(product: Product, name: str) -> str | None:
    """The catalog's value of a field of an item, as a case names it."""
    if name == "price":
        return product_price(product)
    if name == "rating":
        return None if product.rating is None else f"{product.rating:.1f}"
    if name == "stock":
        return None if product.stock is None else ("out of stock" if product.stock <= 0 else str(product.stock))
    if name == "category":
        return product.category
    if name in ("colour", "material", "brand", "size", "style", "use", "audience"):
        return product.attribute(name)
    value = (product.extra or {}).get(name)
    return str(value) if value else None


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[,\u2019'’]", "", text.lower()).split())


def failures(case: Case, product: Product, before: State, after: State, reply: Reply) -> list[str]:
    """Why the reply fails the case (empty: it passes)."""
    said = " ".join(reply.lines)
    found: list[str] = []
    if reply.kind != "answer" or reply.cards:
        return [f"not an answer ({reply.kind}): {said or reply.intro}"[:200]]
    if after.need != before.need or after.rejected != before.rejected or after.lists != before.lists:
        found.append("the need, rejections or lists changed")
    if product.title.lower() not in said.lower():
        found.append("does not speak of the asked item")
    line = next((ln for ln in reply.lines if product.title.lower() in ln.lower()), said)
    expect = case.expect
    if "field" in expect:
        value = field_value(product, expect["field"])
        if value is None or _plain(value) not in _plain(line):
            found.append(f"{expect['field']} {value!r} not stated")
    if "quote" in expect and _plain(expect["quote"]) not in _plain(line):
        found.append(f"quote {expect['quote']!r} missing")
    says = expect.get("says")
    if says in ("yes", "no") and not line.lower().startswith(says):
        found.append(f"does not say {says}")
    if says == "unknown" and (UNKNOWN_MARK not in line or line.lower().startswith(("yes", "no"))):
        found.append("does not say the description doesn't say")
    return found


def shown_for(case: Case, product: Product, catalog: Catalog) -> tuple[str, ...]:
    """The list the case is asked over: the item alone for "it", else at its position among two of its kind."""
    if case.position == 1 and not question_positions(case.ask):
        return (product.id,)
    others = [p.id for p in catalog if p.category == product.category and p.id != product.id][:2]
    others += [p.id for p in catalog if p.id != product.id and p.id not in others][: 2 - len(others)]
    return (*others[: case.position - 1], product.id, *others[case.position - 1:])


@dataclass
class Outcome:
    """One catalog's results on one suite."""

    passed: Counter[str]
    total: Counter[str]
    misread: int
    failed: list[str]
    answer_ms: list[float]
    recommend_ms: list[float]


def run_suite(replay: ReplayShop, parses: Mapping[str, Any], cases: Sequence[Case]) -> Outcome:
    """Every case of a suite, asked and checked."""
    outcome = Outcome(Counter(), Counter(), 0, [], [], [])
    for case in cases:
        product = replay.catalog.get(case.item)
        if product is None:
            raise SystemExit(f"{case.item!r} is not in the catalog (a suite for another catalog?)")
        state = State(need=Need(scope=(product.category,), scope_words=product.category.lower()),
                      lists=(shown_for(case, product, replay.catalog),), seen=())
        start = time.perf_counter()
        after, reply = replay.turn(state, parses[case.ask])
        outcome.answer_ms.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()  # a recommendation turn beside it: a search for words not searched before
        apply(State(), Move("browse", text=f"{product.category} like the {product.title}"), replay.shop)
        outcome.recommend_ms.append((time.perf_counter() - start) * 1000)
        problems = failures(case, product, state, after, reply)
        outcome.total[case.kind] += 1
        if not problems:
            outcome.passed[case.kind] += 1
            continue
        if reply.kind in ("cards", "nothing_fits", "offer_relax") or after.rejected != state.rejected:
            outcome.misread += 1
        outcome.failed.append(f"{case.ask!r} ({case.kind}) → {'; '.join(problems)}")
    return outcome


def rate(passed: int, total: int) -> str:
    """"7/10 (0.70)", or a dash for none."""
    return f"{passed}/{total} ({passed / total:.2f})" if total else "—"


def failures_table(name: str, failed: Sequence[str], limit: int) -> Table:
    """A catalog's failed dev questions, at most ``limit`` of them (sealed ones are never listed)."""
    listing = Table(f"{name} (dev): failed questions ({len(failed)})", ["question → why"])
    for line in failed[:limit]:
        listing.add(line)
    return listing


def suite_arguments(description: str, argv: Sequence[str] | None) -> argparse.Namespace:
    """The options of a benchmark over dev and sealed suites per catalog (this one's and the catalog questions')."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--catalogs", default="", help="comma-separated names (default: all with a suite)")
    parser.add_argument("--sets", default="dev", help="dev, sealed or dev,sealed (sealed: to report only)")
    parser.add_argument("--failures", type=int, default=30, help="list at most this many failed dev cases per catalog")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the report as markdown here")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    args.sets = [s for s in args.sets.split(",") if s]
    if not args.sets or set(args.sets) - {"dev", "sealed"}:
        sys.exit(f"--sets takes dev, sealed or both, not {','.join(args.sets)!r}")
    return args


def chosen_runs(args: argparse.Namespace, suites: Mapping[str, Mapping[str, Any]]) -> tuple[list[str], dict[str, Any]]:
    """The catalogs to run (those asked for, else every prepared one with a suite) and every prepared run."""
    available = available_runs()
    names = args.catalogs.split(",") if args.catalogs else \
        [n for n in available if any(n in suites[s] for s in args.sets)]
    missing = [n for n in names if n not in available]
    if missing or not names:
        sys.exit(f"not prepared: {', '.join(missing) or '(none)'}; prepare with `make foreign-catalogs`")
    return names, available


def main(argv: Sequence[str] | None = None) -> int:
    args = suite_arguments(__doc__.split("\n\n")[0], argv)
    sets = args.sets
    suites = {"dev": suites_of(QUESTIONS), "sealed": suites_of(SEALED_QUESTIONS)}
    names, available = chosen_runs(args, suites)

    report = Report()
    report.line(f"Command: `{' '.join(['.venv/bin/python -m benchmarks.questions', *(argv or sys.argv[1:])])}`")
    report.line(f"Machine: {cpu_model()}, {os.cpu_count()} cores; {code_version()}")
    report.line(f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {load_average()} at start")
    summary = Table("questions about an item on screen: checks passed (in process, each catalog's own model)",
                    ["catalog", "set", *KINDS, "all", "read as a list, critique or rejection",
                     "answer turn p50 / p95 ms", "recommendation turn p50 / p95 ms"])
    listings: list[Table] = []
    settings = RetrievalSettings.from_env({})
    settings.limit_serving_threads()  # as the action server embeds: ONNX Runtime, its serving threads
    for name in names:
        run = available[name]
        catalog = load_catalog(run.catalog, strict=False).catalog
        index_dir = Path(run.env.get("SHOPKEEPER_INDEX_DIR", REPO / "build" / "index"))
        replay = ReplayShop(Retriever.load(catalog, settings.make_query_encoder(), index_dir))
        replay.shop.answer(catalog[0], "warm up", {})  # as the action server does at start: field examples embedded
        for which in (s for s in sets if name in suites[s]):
            cases = suites[which][name]
            log(f"{name} ({which}): {len(cases)} questions")
            outcome = run_suite(replay, cached_parses(run.model, [c.ask for c in cases]), cases)
            summary.add(name, which, *[rate(outcome.passed[k], outcome.total[k]) for k in KINDS],
                        rate(sum(outcome.passed.values()), sum(outcome.total.values())), outcome.misread,
                        *[f"{percentile(ms, 50):.1f} / {percentile(ms, 95):.1f}"
                          for ms in (outcome.answer_ms, outcome.recommend_ms)])
            if which == "dev" and outcome.failed:
                listings.append(failures_table(name, outcome.failed, args.failures))
    report.table(summary)
    for listing in listings:
        report.table(listing)
    report.write(args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())

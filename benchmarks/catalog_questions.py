#!/usr/bin/env python3
"""Catalog-question benchmark: how many of a kind, which brands or colours, and another colour of a shown item.

Run from the repository root (the foreign catalogs prepared by ``make foreign-catalogs``)::

    .venv/bin/python -m benchmarks.catalog_questions                          # dev suites, every prepared catalog
    .venv/bin/python -m benchmarks.catalog_questions --sets dev,sealed --markdown out.md

The suites are ``benchmarks/catalog_questions/<catalog>.yml`` (dev) and
``benchmarks/sealed/catalog_questions/<catalog>.yml`` (sealed: written without sight of the code or the dev
suites, run only to report); benchmarks/catalog_questions/README.md gives the format and what passes. The
truth of each case is computed here from the catalog's own fields; the question is read by the catalog's own
model (parses cached beside it) and answered by the action server's code in this process, a count or
values question in a fresh conversation, another colour over the item shown as the suite says.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from actions.conversation import Need, Reply, State
from benchmarks.questions import chosen_runs, failures_table, rate, shown_for, suite_arguments
from benchmarks.replay import ReplayShop, cached_parses
from benchmarks.reporting import Report, Table, code_version, cpu_model, load_average, log
from retrieval.catalog import Catalog, Product
from retrieval.loaders import load_catalog
from retrieval.paths import PROJECT_ROOT as REPO
from retrieval.search import Retriever
from retrieval.settings import RetrievalSettings

SUITES = REPO / "benchmarks" / "catalog_questions"
SEALED_SUITES = REPO / "benchmarks" / "sealed" / "catalog_questions"
KINDS = ("count", "values", "other_colour")
#: A field's values all named when the kind has at most this many (README).
ALL_NAMED_UP_TO = 8
#: A number in an answer that is a price, not a count.
_PRICE = re.compile(r"[$₹€£]\s?[\d,]+(?:\.\d+)?|[\d,]+(?:\.\d+)?\s?(?:rs|inr|usd)\b", re.IGNORECASE)
_NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?![\w.])")
#: Words that say the shop does not have something.
_NOT_HAVE = re.compile(r"\b(no|not|don't|do not|haven't|none|nothing)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Case:
    """One question and the truth it is checked against."""

    ask: str
    kind: str
    expect: Mapping[str, Any]
    item: str | None = None
    position: int = 1


def load_cases(path: Path) -> tuple[str, list[Case]]:
    """The catalog name and the cases of one suite file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    cases = [Case(str(q["ask"]), str(q["kind"]), dict(q.get("expect") or {}),
                  str(q["item"]) if q.get("item") is not None else None, int(q.get("position") or 1))
             for q in data["questions"]]
    return str(data["catalog"]), cases


def suites_of(folder: Path) -> dict[str, list[Case]]:
    """Every suite in a folder, by catalog."""
    return dict(load_cases(p) for p in sorted(folder.glob("*.yml")))


def _folded(values: Iterable[Any]) -> set[str]:
    return {str(v).casefold() for v in values}


def matching(catalog: Iterable[Product], expect: Mapping[str, Any], *, also: bool, in_stock: bool) -> list[Product]:
    """The items a case's truth names: its categories (and ``also``), within every constraint it states."""
    categories = _folded([*expect.get("categories", []), *(expect.get("also", []) if also else [])])
    constraints = {"colour": _folded(expect.get("colours", [])), "audience": _folded(expect.get("audience", [])),
                   "brand": _folded(expect.get("brands", []))}
    low, high = expect.get("min_price"), expect.get("max_price")
    found = []
    for product in catalog:
        if product.category.casefold() not in categories or (in_stock and not product.in_stock):
            continue
        if (low is not None and product.price < float(low)) or (high is not None and product.price > float(high)):
            continue
        if any(wanted and (product.attribute(name) or "").casefold() not in wanted
               for name, wanted in constraints.items()):
            continue
        found.append(product)
    return found


def stated_count(reply: Reply) -> int | None:
    """The count an answer states: its first number that is not a price; 0 when it says nothing fits."""
    if reply.kind in ("nothing_fits", "offer_relax"):
        return 0
    for line in reply.lines:
        numbers = _NUMBER.findall(_PRICE.sub(" ", line))
        if numbers:
            return int(numbers[0].replace(",", ""))
    return None


def _count_failures(case: Case, catalog: Catalog, reply: Reply) -> list[str]:
    stated = stated_count(reply)
    ranges = [(len(matching(catalog, case.expect, also=False, in_stock=s)),
               len(matching(catalog, case.expect, also=True, in_stock=s))) for s in (False, True)]
    if stated is None or not any(low <= stated <= high for low, high in ranges):
        return [f"states {stated}, true {ranges[0][0]}–{ranges[0][1]} (in stock {ranges[1][0]}–{ranges[1][1]}): "
                f"{' '.join(reply.lines)[:160]}"]
    return []


def _values_failures(case: Case, catalog: Catalog, reply: Reply) -> list[str]:
    field = str(case.expect["field"])
    said = " ".join(reply.lines).casefold()
    every = {v for p in catalog if (v := p.attribute(field))}
    # the values offered as buttons are the ones named, exactly; without buttons, the catalog's values the text
    # holds (a brand called "AND" is not named by "A, B and C")
    named = {title.casefold() for title, _ in reply.buttons} & {v.casefold() for v in every} if reply.buttons else \
        {v.casefold() for v in every if re.search(rf"(?<!\w){re.escape(v.casefold())}(?!\w)", said)}
    allowed = _folded(p.attribute(field) for p in matching(catalog, case.expect, also=True, in_stock=False)
                      if p.attribute(field))
    required = _folded(p.attribute(field) for p in matching(catalog, case.expect, also=False, in_stock=True)
                       if p.attribute(field))
    found = []
    wrong = named - allowed
    if wrong:
        found.append(f"names {sorted(wrong)[:4]} not among the kind's {field}s")
    if len(required) <= ALL_NAMED_UP_TO and not required <= named:
        found.append(f"misses {sorted(required - named)[:4]}")
    if not named and not found:
        found.append(f"names no {field}: {said[:160]}")
    return found


def _colour_failures(case: Case, product: Product, catalog: Catalog, reply: Reply) -> list[str]:
    colours = _folded(case.expect.get("colours", []))
    exists = any(p.category == product.category and p.id != product.id and (p.colour or "").casefold() in colours
                 for p in catalog)
    cards = [s.product for s in reply.cards]
    if exists:
        if not cards or cards[0].category != product.category or (cards[0].colour or "").casefold() not in colours:
            first = f"{cards[0].title} ({cards[0].colour})" if cards else f"no card: {' '.join(reply.lines)[:120]}"
            return [f"the kind exists in {sorted(colours)[:2]}, first shown {first}"]
        return []
    found = []
    if not any(_NOT_HAVE.search(line) for line in (*reply.lines, reply.intro)):
        found.append(f"does not say there is none: {' '.join(reply.lines)[:120]}")
    wrong = [c.title for c in cards if (c.colour or "").casefold() not in colours]
    if wrong:
        found.append(f"shows cards in other colours ({wrong[0]})")
    return found


def run_case(replay: ReplayShop, parses: Mapping[str, Any], case: Case) -> list[str]:
    """Ask one case's question and say why its answer fails (empty: it passes)."""
    catalog = replay.catalog
    state = State()
    product = catalog.get(case.item) if case.item else None
    if case.kind == "other_colour":
        if product is None:
            raise SystemExit(f"{case.item!r} is not in the catalog (a suite for another catalog?)")
        state = State(need=Need(scope=(product.category,), scope_words=product.category.lower()),
                      lists=(shown_for(case, product, catalog),), seen=())  # type: ignore[arg-type]
    _, reply = replay.turn(state, parses[case.ask])
    if case.kind == "count":
        return _count_failures(case, catalog, reply)
    if case.kind == "values":
        return _values_failures(case, catalog, reply)
    assert product is not None
    return _colour_failures(case, product, catalog, reply)


def main(argv: Sequence[str] | None = None) -> int:
    args = suite_arguments(__doc__.split("\n\n")[0], argv)
    sets = args.sets
    suites = {"dev": suites_of(SUITES), "sealed": suites_of(SEALED_SUITES)}
    names, available = chosen_runs(args, suites)
    report = Report()
    report.line(f"Command: `{' '.join(['.venv/bin/python -m benchmarks.catalog_questions', *(argv or sys.argv[1:])])}`")
    report.line(f"Machine: {cpu_model()}, {os.cpu_count()} cores; {code_version()}")
    report.line(f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {load_average()} at start")
    summary = Table("questions about the catalog and another colour: checks passed (in process, each catalog's model)",
                    ["catalog", "set", *KINDS, "all"])
    listings: list[Table] = []
    settings = RetrievalSettings.from_env({})
    settings.limit_serving_threads()
    for name in names:
        run = available[name]
        catalog = load_catalog(run.catalog, strict=False).catalog
        index_dir = Path(run.env.get("SHOPKEEPER_INDEX_DIR", REPO / "build" / "index"))
        replay = ReplayShop(Retriever.load(catalog, settings.make_query_encoder(), index_dir))
        for which in (s for s in sets if name in suites[s]):
            cases = suites[which][name]
            log(f"{name} ({which}): {len(cases)} questions")
            parses = cached_parses(run.model, [c.ask for c in cases])
            passed, total, failed = Counter[str](), Counter[str](), []
            for case in cases:
                problems = run_case(replay, parses, case)
                total[case.kind] += 1
                passed[case.kind] += not problems
                if problems:
                    failed.append(f"{case.ask!r} ({case.kind}, read as {parses[case.ask]['intent']['name']}) → "
                                  f"{'; '.join(problems)}")
            summary.add(name, which, *[rate(passed[k], total[k]) for k in KINDS],
                        rate(sum(passed.values()), sum(total.values())))
            if which == "dev" and failed:
                listings.append(failures_table(name, failed, args.failures))
    report.table(summary)
    for listing in listings:
        report.table(listing)
    report.write(args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())

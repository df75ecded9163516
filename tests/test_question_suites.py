"""The product-question suites (benchmarks/questions, benchmarks/sealed/questions): their form only.

Dev suites are tuned against; sealed ones were written without sight of the code or the dev suites and run
only to report (``.venv/bin/python -m benchmarks.questions --sets dev,sealed``). These tests check that each
case can be asked on its catalog (the item exists, the field it expects is set, the quote is in the item's
description) and that no question is an NLU training example; never their results.
"""

from __future__ import annotations

from collections import Counter
from functools import cache

import pytest

from benchmarks.questions import KINDS, QUESTIONS, SEALED_QUESTIONS, Case, field_value, load_cases
from retrieval.catalog import Catalog
from retrieval.loaders import load_catalog
from tests.conftest import ROOT
from tests.test_conversations import nlu_examples, normalised
from tests.test_query_suites import CATALOGS, imported

SUITES = {f"{which}/{p.stem}": p for which, folder in (("dev", QUESTIONS), ("sealed", SEALED_QUESTIONS))
          for p in sorted(folder.glob("*.yml"))}
MIN_CASES = 30
SHARED = ROOT.parent / "shared" / "catalogs"


@cache
def catalog_named(name: str) -> Catalog:
    if name == "demo":
        return load_catalog(ROOT / "data" / "catalog" / "products.jsonl").catalog
    return imported(name)


def test_every_catalog_has_a_dev_and_a_sealed_question_suite() -> None:
    expected = {"demo", *CATALOGS}
    assert {p.stem for p in QUESTIONS.glob("*.yml")} == expected
    assert {p.stem for p in SEALED_QUESTIONS.glob("*.yml")} == expected


@pytest.mark.parametrize("key", sorted(SUITES))
def test_a_suite_is_well_formed(key: str) -> None:
    name, cases = load_cases(SUITES[key])
    assert name == key.split("/", 1)[1]
    assert len(cases) >= MIN_CASES
    assert {c.kind for c in cases} <= set(KINDS)
    assert all(1 <= c.position <= 3 for c in cases)
    kinds = Counter(c.kind for c in cases)
    assert all(kinds[k] >= 4 for k in KINDS), kinds
    for case in cases:
        assert set(case.expect) <= {"field", "quote", "says"}, case
        assert case.expect.get("says", "yes") in ("yes", "no", "unknown"), case
        assert case.expect or case.kind == "unknown", case


def _answerable(case: Case, catalog: Catalog) -> list[str]:
    product = catalog.get(case.item)
    if product is None:
        return [f"{case.item}: not in the catalog"]
    problems = []
    if "field" in case.expect and not field_value(product, case.expect["field"]):
        problems.append(f"{case.ask!r}: {case.expect['field']} is not set for {case.item}")
    quote = " ".join(case.expect.get("quote", "").lower().split())
    if quote and quote not in " ".join(product.description.lower().split()):
        problems.append(f"{case.ask!r}: the quote is not in {case.item}'s description")
    return problems


@pytest.mark.parametrize("key", sorted(SUITES))
def test_every_case_can_be_answered_from_its_catalog(key: str) -> None:
    name, cases = load_cases(SUITES[key])
    if name != "demo" and not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not here: the foreign catalogs are read from ../shared")
    catalog = catalog_named(name)
    problems = [p for c in cases for p in _answerable(c, catalog)]
    assert not problems, "\n".join(problems)


def test_dev_and_sealed_ask_about_different_items() -> None:
    for name in {p.stem for p in QUESTIONS.glob("*.yml")}:
        dev = {c.item for c in load_cases(QUESTIONS / f"{name}.yml")[1]}
        sealed = {c.item for c in load_cases(SEALED_QUESTIONS / f"{name}.yml")[1]}
        assert not dev & sealed, name


def test_no_question_is_a_training_example() -> None:
    examples = nlu_examples()
    copied = [f"{key}: {c.ask!r}" for key, path in SUITES.items() for c in load_cases(path)[1]
              if normalised(c.ask) in examples]
    assert not copied, "written like the training data, so they measure nothing new:\n" + "\n".join(copied)

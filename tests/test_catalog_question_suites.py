"""The catalog-question suites (benchmarks/catalog_questions, benchmarks/sealed/catalog_questions): their form only.

Dev suites are tuned against; sealed ones were written without sight of the code or the dev suites and run
only to report (``.venv/bin/python -m benchmarks.catalog_questions --sets dev,sealed``). These tests check
that every truth can be computed on its catalog (the categories, colours, audiences and brands it names
exist, the item exists) and that no question is an NLU training example; never their results.
"""

from __future__ import annotations

from collections import Counter

import pytest

from benchmarks.catalog_questions import KINDS, SEALED_SUITES, SUITES, Case, load_cases, matching
from retrieval.catalog import Catalog
from tests.test_conversations import nlu_examples, normalised
from tests.test_query_suites import CATALOGS
from tests.test_question_suites import SHARED, catalog_named

FILES = {f"{which}/{p.stem}": p for which, folder in (("dev", SUITES), ("sealed", SEALED_SUITES))
         for p in sorted(folder.glob("*.yml"))}
#: The fields a case's ``expect`` may name, per kind.
EXPECTED = {"count": {"categories", "also", "max_price", "min_price", "colours", "audience", "brands"},
            "values": {"field", "categories", "also", "max_price", "min_price", "colours", "audience", "brands"},
            "other_colour": {"colours", "categories"}}


def test_every_catalog_has_a_dev_and_a_sealed_catalog_question_suite() -> None:
    expected = {"demo", *CATALOGS}
    assert {p.stem for p in SUITES.glob("*.yml")} == expected
    assert {p.stem for p in SEALED_SUITES.glob("*.yml")} == expected


@pytest.mark.parametrize("key", sorted(FILES))
def test_a_suite_is_well_formed(key: str) -> None:
    name, cases = load_cases(FILES[key])
    assert name == key.split("/", 1)[1]
    assert len(cases) == 20
    kinds = Counter(c.kind for c in cases)
    assert set(kinds) <= set(KINDS) and kinds["count"] >= 8 and kinds["values"] >= 6, kinds
    for number, case in enumerate(cases, 1):  # a failure names the case by number: sealed cases stay unread
        assert set(case.expect) <= EXPECTED[case.kind], (key, number, sorted(case.expect))
        assert case.kind != "values" or case.expect["field"] in ("brand", "colour", "material"), (key, number)
        assert (case.item is not None) == (case.kind == "other_colour"), (key, number)
        assert 1 <= case.position <= 3, (key, number)


def _computable(case: Case, catalog: Catalog) -> list[str]:
    if case.kind == "other_colour":
        product = catalog.get(case.item or "")
        known = {(p.colour or "").casefold() for p in catalog}
        if product is None:
            return [f"{case.item}: not in the catalog"]
        return [f"{case.ask!r}: no item has colour {c!r}" for c in case.expect["colours"] if c.casefold() not in known]
    problems = []
    categories = {c.casefold() for c in catalog.categories()}
    for category in [*case.expect.get("categories", []), *case.expect.get("also", [])]:
        if category.casefold() not in categories:
            problems.append(f"{case.ask!r}: no category {category!r}")
    for field, key in (("colour", "colours"), ("audience", "audience"), ("brand", "brands")):
        values = {(p.attribute(field) or "").casefold() for p in catalog}
        problems += [f"{case.ask!r}: no {field} {v!r}" for v in case.expect.get(key, []) if v.casefold() not in values]
    if case.kind == "values" and not matching(catalog, case.expect, also=True, in_stock=False):
        problems.append(f"{case.ask!r}: no item to name a value of")
    return problems


@pytest.mark.parametrize("key", sorted(FILES))
def test_every_truth_can_be_computed_on_its_catalog(key: str) -> None:
    name, cases = load_cases(FILES[key])
    if name != "demo" and not SHARED.is_dir():
        pytest.skip(f"{SHARED} is not here: the foreign catalogs are read from ../shared")
    catalog = catalog_named(name)
    problems = [p for c in cases for p in _computable(c, catalog)]
    assert not problems, "\n".join(problems)


def test_dev_and_sealed_ask_about_different_items() -> None:
    for name in {p.stem for p in SUITES.glob("*.yml")}:
        dev = {c.item for c in load_cases(SUITES / f"{name}.yml")[1] if c.item}
        sealed = {c.item for c in load_cases(SEALED_SUITES / f"{name}.yml")[1] if c.item}
        assert not dev & sealed, name


def test_no_question_is_a_training_example() -> None:
    examples = nlu_examples()
    copied = [f"{key}: {c.ask!r}" for key, path in FILES.items() for c in load_cases(path)[1]
              if normalised(c.ask) in examples]
    assert not copied, "written like the training data, so they measure nothing new:\n" + "\n".join(copied)

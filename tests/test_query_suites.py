"""The search query suites: their schema, their styles, their independence from the training data and
(marker ``shared``) their answers in the foreign catalogs they were written for.

Two sets of suites: the dev suites in ``benchmarks/queries`` (tuned against) and the sealed ones in
``benchmarks/sealed/queries`` (written without sight of the code or the dev suites, run only to report).
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from retrieval.catalog import Catalog
from retrieval.loaders import load_catalog
from retrieval.mapping import load_mapping
from tests.conftest import ROOT
from tests.test_conversations import NLU, nlu_examples, normalised

QUERIES = ROOT / "benchmarks" / "queries"
SEALED = ROOT / "benchmarks" / "sealed" / "queries"
MAPPINGS = ROOT / "data" / "catalog" / "mappings"
#: Each catalog (its file name in ../shared/catalogs, without suffix) and the mapping that imports it.
CATALOGS = {
    "flipkart-sample": ("flipkart-sample.csv", "flipkart.toml"),
    "dummyjson-products": ("dummyjson-products.json", "dummyjson.toml"),
    "amazon-2020-sample": ("amazon-2020-sample.csv", "amazon.toml"),
    "myntra-products": ("myntra-products.csv", "myntra.toml"),
}
#: Every suite, as "dev/<catalog>" or "sealed/<catalog>", and its file.
SUITES = {
    **{f"dev/{stem}": QUERIES / f"{stem}.yml" for stem in CATALOGS},
    **{f"sealed/{stem}": SEALED / f"{stem}.yml" for stem in CATALOGS},
}
#: A category with at least this many products must be the answer to some query of the set.
SIZEABLE = {"dev": 5, "sealed": 10}
STYLES = {"short", "misspelled", "brand", "attribute", "use", "gift", "budget", "vague"}
MIN_QUERIES = 150
MIN_PER_STYLE = 15
#: "under 500", "below rs 1500", "less than $5", "no more than 500", "car under 30k".
LIMIT = re.compile(r"\b(?:under|below|less than|within|no more than|max|up to|upto)\s*(?:rs\.?\s*|₹|\$)?"
                   r"(\d[\d,]*(?:\.\d+)?)\s*(k\b)?", re.IGNORECASE)


@pytest.fixture(scope="module")
def suites() -> dict[str, dict[str, Any]]:
    return {key: yaml.safe_load(path.read_text(encoding="utf-8")) for key, path in SUITES.items()}


def catalog_of(key: str) -> str:
    return key.split("/", 1)[1]


@cache
def imported(stem: str) -> Catalog:
    """The catalog as ``shopkeeper catalog import --lenient`` reads it through its mapping."""
    source, mapping = CATALOGS[stem]
    catalogs = ROOT.parent / "shared" / "catalogs"
    return load_catalog(catalogs / source, load_mapping(MAPPINGS / mapping), strict=False).catalog


def price_limit(text: str) -> float | None:
    """The most a budget query will pay, when it says a number.

    >>> price_limit("jeans below rs 1,500"), price_limit("car under 30k"), price_limit("cheap earrings")
    (1500.0, 30000.0, None)
    """
    found = LIMIT.search(text)
    if not found:
        return None
    return float(found.group(1).replace(",", "")) * (1000 if found.group(2) else 1)


def lookup_values() -> set[str]:
    """The lookup and synonym entries of the NLU data (``nlu_examples`` reads only the intents')."""
    values = set()
    for path in sorted(NLU.glob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if "intent" in item:
                continue
            for line in str(item.get("examples", "")).splitlines():
                if line.strip().startswith("- "):
                    values.add(normalised(line.strip()[2:]))
    return values


# --- the suites ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", SUITES)
def test_each_suite_parses_into_enough_well_formed_queries(suites: dict[str, dict[str, Any]], stem: str) -> None:
    suite = suites[stem]
    assert suite["catalog"] == catalog_of(stem)
    queries = suite["queries"]
    assert len(queries) >= MIN_QUERIES
    for query in queries:
        assert set(query) == {"text", "style", "accept"}, query
        assert isinstance(query["text"], str) and query["text"].strip(), query
        assert query["style"] in STYLES, query
        accept = query["accept"]
        assert isinstance(accept, list) and accept, query
        assert all(isinstance(c, str) and c.strip() for c in accept) and len(set(accept)) == len(accept), query
    seen = Counter(" ".join(q["text"].lower().split()) for q in queries)
    assert not [t for t, n in seen.items() if n > 1], "asked twice"


@pytest.mark.parametrize("stem", SUITES)
def test_every_style_is_asked_often_enough(suites: dict[str, dict[str, Any]], stem: str) -> None:
    # The Amazon mapping has no brand column: its "brand" queries name makers and franchises from the titles.
    styles = Counter(q["style"] for q in suites[stem]["queries"])
    assert {s: n for s, n in styles.items() if n < MIN_PER_STYLE} == {}
    assert set(styles) == STYLES


def test_no_query_is_a_training_example(suites: dict[str, dict[str, Any]]) -> None:
    examples = nlu_examples()
    assert len(examples) > 500, "the NLU training data was not read"
    examples |= lookup_values()
    copied = []
    for stem, suite in suites.items():
        for query in suite["queries"]:
            text = normalised(query["text"])
            inside = len(text.split()) >= 3 and any(text in example for example in examples)
            if text in examples or inside:
                copied.append(f"{stem}: {query['text']!r}")
    assert not copied, "written like the training data, so they measure nothing new:\n" + "\n".join(copied)


def test_the_off_topic_messages_are_varied_and_not_training_examples() -> None:
    suite = yaml.safe_load((QUERIES / "off-topic.yml").read_text(encoding="utf-8"))
    queries = suite["queries"]
    assert suite["catalog"] == "any" and len(queries) >= 50
    assert all(set(q) == {"text", "style"} and str(q["text"]).strip() for q in queries), queries
    styles = Counter(q["style"] for q in queries)
    assert set(styles) == {"chat", "world", "errand", "service", "noise"} and min(styles.values()) >= 4
    texts = [normalised(q["text"]) for q in queries]
    assert len(set(texts)) == len(texts), "a message is there twice"
    copied = [q["text"] for q in queries if normalised(q["text"]) in nlu_examples()]
    assert not copied, "written like the training data, so they measure nothing new: " + ", ".join(copied)


# --- against the catalogs -----------------------------------------------------------------------------------------


@pytest.mark.shared
@pytest.mark.parametrize("stem", SUITES)
def test_every_accepted_category_is_in_the_imported_catalog(
        shared_catalogs: Path, suites: dict[str, dict[str, Any]], stem: str) -> None:
    categories = set(imported(catalog_of(stem)).categories())
    unknown = sorted({c for q in suites[stem]["queries"] for c in q["accept"]} - categories)
    assert not unknown, f"not categories of {stem}: {unknown}"


@pytest.mark.shared
@pytest.mark.parametrize("stem", SUITES)
def test_every_sizeable_category_is_the_answer_to_some_query(
        shared_catalogs: Path, suites: dict[str, dict[str, Any]], stem: str) -> None:
    sizes = Counter(p.category for p in imported(catalog_of(stem)))
    asked = {c for q in suites[stem]["queries"] for c in q["accept"]}
    sizeable = SIZEABLE[stem.split("/", 1)[0]]
    assert sorted(c for c, n in sizes.items() if n >= sizeable and c not in asked) == []


@pytest.mark.shared
@pytest.mark.parametrize("stem", SUITES)
def test_a_budget_query_can_be_met(shared_catalogs: Path, suites: dict[str, dict[str, Any]], stem: str) -> None:
    """Where a query names its limit, some product of an accepted category costs no more."""
    catalog = imported(catalog_of(stem))
    unmet = []
    for query in suites[stem]["queries"]:
        limit = price_limit(query["text"])
        if limit is None:
            continue
        cheapest = min((p.price for p in catalog if p.category in query["accept"]), default=None)
        if cheapest is None or cheapest > limit:
            unmet.append(f"{query['text']!r}: cheapest in {query['accept']} is {cheapest}")
    assert not unmet, "\n".join(unmet)

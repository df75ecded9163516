"""The sealed conversation suites (benchmarks/sealed/conversations): well formed, one per foreign catalog.

They were written without sight of the code or the dev suites and are run only to report
(``make bench-sealed``); these tests check their form, never their results. The sealed query suites are
checked with the dev ones in ``tests/test_query_suites.py``.
"""

from __future__ import annotations

from collections import Counter

from evaluation.conversations import load_suites
from tests.conftest import ROOT
from tests.test_query_suites import CATALOGS, SEALED

SEALED_CONVERSATIONS = ROOT / "benchmarks" / "sealed" / "conversations"
MIN_CONVERSATIONS = 40


def test_every_foreign_catalog_has_a_sealed_query_suite_and_conversation_suite() -> None:
    assert {p.stem for p in SEALED.glob("*.yml")} == set(CATALOGS)
    assert {p.stem for p in SEALED_CONVERSATIONS.glob("*.yml")} == set(CATALOGS)


def test_the_sealed_conversations_load_and_each_runs_on_its_own_catalog() -> None:
    suites = load_suites(SEALED_CONVERSATIONS)  # refuses unknown checks, bad values and a name used twice
    for suite in suites:
        assert len(suite.conversations) >= MIN_CONVERSATIONS, suite.name
        assert {c.catalogs for c in suite.conversations} == {(suite.name,)}, suite.name
        assert all(c.turns for c in suite.conversations), suite.name
        quiet = sum(1 for c in suite.conversations if all(t.expect.get("cards") is False for t in c.turns))
        assert quiet >= 3, f"{suite.name}: too few conversations that must get no cards"
        openings = Counter(c.turns[0].say.lower() for c in suite.conversations)
        assert max(openings.values()) == 1, f"{suite.name}: an opening is used twice"

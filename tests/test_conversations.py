"""The conversation suites in tests/conversations: their schema, their independence from the training
data, the check evaluator on hand-made replies, and (marker ``e2e``) every demo conversation played
over Rasa's REST channel against the trained model.
"""

from __future__ import annotations

import doctest
import json
import re
import string
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

import evaluation.conversations
from evaluation.conversations import (
    CHECKS,
    REPHRASE_MARKER,
    Conversation,
    Suite,
    SuiteError,
    Turn,
    catalog_by_id,
    catalog_placeholders,
    evaluate_turn,
    failures,
    load_suite,
    load_suites,
    pass_rate,
    play,
    play_suites,
)
from evaluation.stack import Stack, StackError, running_stack, say
from retrieval.loaders import load_catalog
from retrieval.mapping import load_mapping
from retrieval.vocabulary import read_nlu_examples
from tests.conftest import MAPPINGS, ROOT

SUITES = ROOT / "tests" / "conversations"
NLU = ROOT / "data" / "nlu"
DEMO_PRODUCTS = ROOT / "data" / "catalog" / "products.jsonl"
#: The share of checks that must pass when every demo conversation is played end to end.
PASS_RATE = 0.97
#: The moves the suites must cover, one file each.
MOVES = {"needs", "corrections", "drop_constraint", "new_need", "reject", "feedback", "critiques", "dont_mind",
         "browse", "show_more_and_more_like", "why_compare_choose", "start_over", "unclear", "privacy"}
#: Single-card checks: those a catalog item can satisfy on its own.
CARD_CHECKS = ("cards_kind", "max_price", "min_price", "attribute", "not_attribute")
#: The foreign catalogs a conversation may name, by build name: their file in ../shared/catalogs and their mapping.
FOREIGN_CATALOGS = {
    "flipkart-sample": ("flipkart-sample.csv", "flipkart.toml"),
    "dummyjson-products": ("dummyjson-products.json", "dummyjson.toml"),
    "amazon-2020-sample": ("amazon-2020-sample.csv", "amazon.toml"),
    "myntra-products": ("myntra-products.csv", "myntra.toml"),
}


def demo_products() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DEMO_PRODUCTS.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def suites() -> list[Suite]:
    return load_suites(SUITES)


@pytest.fixture(scope="module")
def products() -> list[dict[str, Any]]:
    return demo_products()


def conversations_of(suites: Sequence[Suite]) -> list[Conversation]:
    return [c for s in suites for c in s.conversations]


# --- the suites ---------------------------------------------------------------------------------------------------


def test_every_suite_loads_and_covers_every_move(suites: list[Suite]) -> None:
    conversations = conversations_of(suites)
    assert {s.name for s in suites} >= MOVES
    assert len(conversations) >= 120
    assert sum("any" in c.catalogs for c in conversations) >= 30
    assert all(s.conversations for s in suites)


def test_the_readme_documents_every_check() -> None:
    readme = (SUITES / "README.md").read_text(encoding="utf-8")
    module = evaluation.conversations.__doc__ or ""
    for name in CHECKS:
        assert f"`{name}" in readme, name
        assert f"``{name}" in module, name


@pytest.mark.parametrize("bad, problem", [
    ({"turns": [{"say": "hi", "expect": {"replied": True}}]}, "'name'"),
    ({"name": "x", "turns": []}, "'turns'"),
    ({"name": "x", "turns": [{"say": "hi", "expect": {"repleid": True}}]}, "unknown check 'repleid'"),
    ({"name": "x", "turns": [{"say": "hi", "expect": {}}]}, "'expect'"),
    ({"name": "x", "turns": [{"say": 500, "expect": {"replied": True}}]}, "'say'"),
    ({"name": "x", "turns": [{"say": "hi", "expect": {"replied": True}, "note": 1}]}, "unknown keys"),
    ({"name": "x", "turns": [{"say": "a {colour} sofa", "expect": {"replied": True}}]}, "placeholder {colour}"),
    ({"name": "x", "turns": [{"say": "hi", "expect": {"max_price": "cheap"}}]}, "max_price"),
    ({"name": "x", "turns": [{"say": "hi", "expect": {"cheaper_than": {"turn": 1, "rank": 1}}}]},
     "not an earlier turn"),
    ({"name": "x", "turns": [{"say": "hi", "expect": {"not_repeated_from": [2]}}]}, "come before"),
    ({"name": "x", "turns": [{"say": "hi", "expect": {"never_again_from": 2}}]}, "never_again_from"),
    ({"name": "x", "turns": [{"say": "hi", "expect": {"says": "("}}]}, "regular expression"),
    ({"name": "x", "turns": [{"say": "hi", "expect": {"asks": False}}]}, "must be true"),
    ({"name": "x", "turns": [{"say": "hi", "expect": {"any_of": [{"asks": True}, {"cardz": True}]}}]},
     "unknown check 'cardz'"),
    ({"name": "x", "turns": [{"say": "hi", "expect": {"attribute": {"colour": 3}}}]}, "attribute"),
    ({"name": "x", "catalogs": "any", "turns": [{"say": "hi", "expect": {"replied": True}}]}, "'catalogs'"),
])
def test_malformed_suites_are_refused_with_the_reason(tmp_path: Path, bad: dict[str, Any], problem: str) -> None:
    path = tmp_path / "bad.yml"
    path.write_text(yaml.safe_dump({"conversations": [bad]}), encoding="utf-8")
    with pytest.raises(SuiteError, match=re.escape(problem)):
        load_suite(path)


def test_a_conversation_name_is_used_once(tmp_path: Path) -> None:
    conversation = {"name": "twice", "turns": [{"say": "hi", "expect": {"replied": True}}]}
    for name in ("a.yml", "b.yml"):
        (tmp_path / name).write_text(yaml.safe_dump({"conversations": [conversation]}), encoding="utf-8")
    with pytest.raises(SuiteError, match=re.escape("also used in a.yml")):
        load_suites(tmp_path)


def normalised(text: str) -> str:
    """Lower case, punctuation replaced by spaces, whitespace collapsed."""
    table = str.maketrans({c: " " for c in string.punctuation})
    return " ".join(text.lower().translate(table).split())


def nlu_examples() -> set[str]:
    """Every intent example of the NLU training data, normalised."""
    return {normalised(e) for examples in read_nlu_examples(sorted(NLU.glob("*.yml"))).values() for e in examples}


def test_no_conversation_text_is_a_training_example(suites: list[Suite], products: list[dict[str, Any]]) -> None:
    examples = nlu_examples()
    assert len(examples) > 500, "the NLU training data was not read"
    placeholders = catalog_placeholders(products)
    copied = [f"{c.suite} / {c.name}: {t.say!r}" for c in conversations_of(suites)
              for t in c.filled(placeholders).turns if normalised(t.say) in examples]
    assert not copied, "written like the training data, so they measure nothing new:\n" + "\n".join(copied)


def _card_expectations(expect: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The single-card checks of a turn, and of each of its ``any_of`` alternatives that shows cards."""
    own = {k: v for k, v in expect.items() if k in CARD_CHECKS}
    if own:
        yield own
    for alternative in expect.get("any_of", []):
        yield from _card_expectations(alternative)


def unmet_card_checks(conversations: Sequence[Conversation], products: Sequence[dict[str, Any]]) -> list[str]:
    """The turns whose "every card is…" checks too few products of the catalog meet: three when they name
    attributes, one otherwise (budgets and categories are hard limits, one fitting item is enough to hold to
    them; a wished attribute must be possible on all three cards)."""
    placeholders, by_id = catalog_placeholders(products), catalog_by_id(products)
    alone = [_reply([p]) for p in products]
    fits: dict[str, int] = {}
    unmet = []
    for conversation in conversations:
        for number, turn in enumerate(conversation.filled(placeholders).turns, start=1):
            for expect in _card_expectations(turn.expect):
                needed = 3 if {"attribute", "not_attribute"} & set(expect) else 1
                key = json.dumps(expect, sort_keys=True)
                if key not in fits:  # counted up to three: enough to tell
                    fitting = (r for r in alone if all(c.passed for c in evaluate_turn(expect, r, catalog=by_id)))
                    fits[key] = sum(1 for _ in zip(range(3), fitting, strict=False))
                if fits[key] < needed:
                    unmet.append(f"{conversation.name}, turn {number}: {expect} fits {fits[key]} products")
    return unmet


def test_card_checks_are_true_of_the_demo_catalog(suites: list[Suite], products: list[dict[str, Any]]) -> None:
    """Every turn's "every card is…" checks are met by demo products: three when they name attributes."""
    unmet = unmet_card_checks([c for c in conversations_of(suites) if c.runs_on("demo")], products)
    assert not unmet, "\n".join(unmet)


def test_every_catalog_named_is_the_demo_or_a_foreign_one(suites: list[Suite]) -> None:
    known = {"demo", "any", *FOREIGN_CATALOGS}
    unknown = [f"{c.suite} / {c.name}: {sorted(set(c.catalogs) - known)}" for c in conversations_of(suites)
               if not set(c.catalogs) <= known]
    assert not unknown, f"catalogs other than {sorted(known)}:\n" + "\n".join(unknown)


@pytest.mark.shared
@pytest.mark.parametrize("name", sorted(FOREIGN_CATALOGS))
def test_card_checks_are_true_of_their_foreign_catalog(name: str, suites: list[Suite], shared_catalogs: Path,
                                                       tmp_path: Path) -> None:
    """The conversations that run on a foreign catalog (naming it, or ``any``), checked as the demo ones against
    that catalog as imported."""
    source, mapping = FOREIGN_CATALOGS[name]
    if not (shared_catalogs / source).is_file():
        pytest.skip(f"{source} not found in {shared_catalogs}")
    imported = tmp_path / "products.jsonl"  # as `shopkeeper catalog use` imports it
    load_catalog(shared_catalogs / source, load_mapping(MAPPINGS / mapping), strict=False).catalog.write_jsonl(imported)
    products = [json.loads(line) for line in imported.read_text(encoding="utf-8").splitlines() if line.strip()]
    unmet = unmet_card_checks([c for c in conversations_of(suites) if c.runs_on(name)], products)
    assert not unmet, "\n".join(unmet)


# --- the evaluator ------------------------------------------------------------------------------------------------


def _card(product_id: str, price: float, category: str = "Sofas", title: str = "Halden Sofa") -> dict[str, Any]:
    return {"id": product_id, "title": title, "price": price, "category": category}


def _reply(cards: Sequence[Mapping[str, Any]] = (), text: str = "Here are a few things you might like:",
           buttons: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"recipient_id": "t", "text": text}] if text else []
    if buttons:
        messages[-1]["buttons"] = list(buttons)
    if cards:
        messages.append({"recipient_id": "t", "custom": {"data": {
            "type": "recommendations", "request_id": "r-1", "items": [dict(c) for c in cards]}}})
    return messages


SOFAS = [_card("S1", 900), _card("S2", 1200, title="Juno Corner Sofa"), _card("S3", 650)]
LAMPS = [_card("L1", 80, "Lamps", "Arc Floor Lamp"), _card("L2", 45, "Lamps", "Dot Lamp")]
CATALOG = {
    "S1": {"id": "S1", "colour": "grey", "material": "linen", "price": 900},
    "S2": {"id": "S2", "colour": "grey", "material": "leather", "price": 1200},
    "S3": {"id": "S3", "colour": "Dark Grey", "material": "velvet", "price": 650},
    "L1": {"id": "L1", "colour": "black", "material": "metal", "price": 80},
    "L2": {"id": "L2", "colour": "white", "material": "linen", "price": 45},
}
REPHRASE = f"{REPHRASE_MARKER}. Did you mean one of these?"

#: (check, value, earlier turns' replies, a reply it passes on, a reply it fails on)
CASES: list[tuple[str, Any, list[list[dict[str, Any]]], list[dict[str, Any]], list[dict[str, Any]]]] = [
    ("cards", True, [], _reply(SOFAS), _reply()),
    ("cards", False, [], _reply(text="What's your budget?"), _reply(SOFAS)),
    ("min_cards", 3, [], _reply(SOFAS), _reply(SOFAS[:2])),
    ("cards_kind", ["sofa"], [], _reply(SOFAS), _reply([*SOFAS[:2], LAMPS[0]])),
    ("cards_kind", ["lamps"], [], _reply(LAMPS), _reply(SOFAS[:1])),
    ("cards_kind", ["corner sofa"], [], _reply(SOFAS[1:2]), _reply(SOFAS[:1])),
    ("cards_kind", ["sofa"], [], _reply(SOFAS), _reply(text="Any colour?")),
    ("max_price", 1200, [], _reply(SOFAS), _reply([_card("S9", 1300)])),
    ("max_price", "1000", [], _reply([SOFAS[0], SOFAS[2]]), _reply(SOFAS)),
    ("min_price", 600, [], _reply(SOFAS), _reply(LAMPS)),
    ("cheaper_than", {"turn": 1, "rank": 2}, [_reply(SOFAS)], _reply([SOFAS[0], SOFAS[2]]), _reply(SOFAS)),
    ("pricier_than", {"turn": 1, "rank": 1}, [_reply(SOFAS)], _reply(SOFAS[1:2]), _reply(SOFAS)),
    ("not_repeated_from", [1], [_reply(SOFAS[:1]), _reply(SOFAS[1:2])], _reply(SOFAS[1:]), _reply(SOFAS)),
    ("fresh", True, [_reply(SOFAS[:1]), _reply(SOFAS[1:2])], _reply(SOFAS[2:]), _reply(SOFAS[1:])),
    ("attribute", {"colour": "grey"}, [], _reply(SOFAS), _reply([SOFAS[0], LAMPS[0]])),
    ("attribute", {"material": ["linen", "velvet"]}, [], _reply([SOFAS[0], SOFAS[2]]), _reply(SOFAS)),
    ("not_attribute", {"material": "leather"}, [], _reply([SOFAS[0], SOFAS[2]]), _reply(SOFAS)),
    ("no_rephrase", True, [], _reply(text="Any colour you have in mind?"), _reply(text=REPHRASE)),
    ("says", r"under \$?612", [], _reply(text="Let's look under $612."), _reply(text="Here are more:")),
    ("not_says", "budget", [], _reply(text="Why the Arc: rated 4.8."), _reply(text="Why: within your budget.")),
    ("nothing_fits", True, [], _reply(text="That's everything I have that fits."), _reply(SOFAS)),
    ("asks", True, [], _reply(text="What's your budget?"), _reply(SOFAS)),
    ("asks", True, [], _reply(text="Pick one:", buttons=[{"title": "Grey", "payload": "grey"}]), _reply(text="Ok.")),
    ("replied", True, [], _reply(text="Hello!"), []),
    ("any_of", [{"cards": True, "max_price": 1000}, {"nothing_fits": True}], [],
     _reply(text="Sorry, nothing under $100 fits."), _reply(SOFAS)),
]


@pytest.mark.parametrize("check, value, history, good, bad", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_check_passes_on_a_good_reply_and_fails_on_a_bad_one(
        check: str, value: Any, history: list[list[dict[str, Any]]],
        good: list[dict[str, Any]], bad: list[dict[str, Any]]) -> None:
    passed = evaluate_turn({check: value}, good, history=history, catalog=CATALOG)
    failed = evaluate_turn({check: value}, bad, history=history, catalog=CATALOG)
    assert [r.passed for r in passed] == [True], passed
    assert [r.passed for r in failed] == [False], failed
    assert failed[0].message and failed[0].check == check


def test_a_failure_says_what_was_seen() -> None:
    [result] = evaluate_turn({"max_price": 1000}, _reply(SOFAS))
    assert not result.passed and "S2" in result.message and "1200" in result.message
    [result] = evaluate_turn({"no_rephrase": True}, _reply(text=REPHRASE))
    assert REPHRASE_MARKER in result.message


def scripted(replies: Sequence[list[dict[str, Any]]]) -> Any:
    """A ``send`` that answers each message with the next scripted reply, and records what it got."""
    queue = list(replies)
    said: list[tuple[str, str]] = []

    def send(sender: str, text: str) -> list[dict[str, Any]]:
        said.append((sender, text))
        return queue.pop(0)

    send.said = said  # type: ignore[attr-defined]
    return send


def test_never_again_is_checked_over_the_rest_of_the_conversation() -> None:
    conversation = Conversation("reject", "reject", (
        Turn("sofa", {"cards": True}),
        Turn("none of these", {"never_again_from": 1, "replied": True}),
        Turn("more", {"cards": True}),
    ))
    clean = play(conversation, scripted([_reply(SOFAS[:2]), _reply([SOFAS[2]]), _reply(LAMPS)]), sender="a")
    assert clean.passed and [c.check for c in clean.final] == ["never_again_from"]
    back = play(conversation, scripted([_reply(SOFAS[:2]), _reply([SOFAS[2]]), _reply([SOFAS[1]])]), sender="b")
    assert not back.passed
    [line] = failures([back])
    assert "turn 2" in line and "never_again_from" in line and "S2 (turn 3)" in line


def test_play_fills_placeholders_and_uses_one_sender_per_conversation(products: list[dict[str, Any]]) -> None:
    suite = Suite("needs", SUITES / "needs.yml", (
        Conversation("any", "needs", (Turn("a {category} under {cheap_price}", {"max_price": "{cheap_price}"}),),
                     ("any",)),
        Conversation("demo only", "needs", (Turn("hello", {"replied": True}),)),
        Conversation("elsewhere", "needs", (Turn("hello", {"replied": True}),), ("flipkart-sample",)),
    ))
    placeholders = catalog_placeholders(products)
    cheap = float(placeholders["cheap_price"])
    send = scripted([_reply([_card("A1", cheap - 1, "Armchairs")]), _reply(text="Hi!")])
    results = play_suites([suite], send, products)
    assert [r.name for r in results] == ["any", "demo only"]
    assert send.said[0][1] == f"a {placeholders['category']} under {placeholders['cheap_price']}"
    assert send.said[0][0] != send.said[1][0]
    assert pass_rate(results) == 1.0


def test_a_send_that_fails_is_a_failed_check_not_a_crash() -> None:
    def broken(sender: str, text: str) -> list[dict[str, Any]]:
        raise OSError("connection refused")

    result = play(Conversation("x", "needs", (Turn("hi", {"replied": True}),)), broken)
    assert not result.passed and "connection refused" in failures([result])[0]


def test_placeholders_of_the_demo_catalog(products: list[dict[str, Any]]) -> None:
    placeholders = catalog_placeholders(products)
    category = placeholders["category"]
    prices = sorted(p["price"] for p in products if p["category"].lower().startswith(category))
    assert prices and placeholders["category2"] != category
    assert prices[0] < float(placeholders["cheap_price"]) < float(placeholders["mid_price"]) < prices[-1]


def test_the_module_examples_run() -> None:
    outcome = doctest.testmod(evaluation.conversations)
    assert outcome.attempted and not outcome.failed


# --- end to end ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    try:
        with running_stack(tmp_path_factory.mktemp("conversations")) as stack:
            yield stack
    except StackError as exc:
        pytest.fail(str(exc))


@pytest.mark.e2e
def test_demo_conversations_hold_up_over_rest(running: Stack, suites: list[Suite],
                                              products: list[dict[str, Any]]) -> None:
    results = play_suites(suites, lambda sender, text: say(running.rasa_url, sender, text), products,
                          sender_prefix="conv-e2e")
    assert results
    rate = pass_rate(results)
    failing = failures(results)
    assert rate >= PASS_RATE, (
        f"{rate:.1%} of checks passed over {len(results)} conversations (need {PASS_RATE:.0%}); "
        f"{len(failing)} failed:\n" + "\n".join(failing)
    )

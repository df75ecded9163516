"""The contract (``retrieval/contract.py``) against the Rasa domain, and nobody spelling its names twice."""

from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from retrieval.catalog import Product
from retrieval.contract import (
    ASKED_ATTRIBUTES,
    ATTRIBUTES,
    PRODUCT_ATTRIBUTES,
    ActionName,
    Awaiting,
    CardKey,
    CardProduct,
    DataExportPayload,
    PayloadKey,
    PayloadType,
    RasaAction,
    RecommendationItem,
    RecommendationPayload,
    SlotName,
    affinity_key,
    affinity_parts,
    names_of,
    taught_attributes,
)
from retrieval.recommender import SOFT_ATTRIBUTES
from tests.conftest import ROOT

CONTRACT = Path("retrieval/contract.py")


def _domain() -> dict[str, object]:
    merged: dict[str, object] = {}
    for path in sorted((ROOT / "bot" / "domain").glob("*.yml")):
        for key, value in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).items():
            if isinstance(value, list) and isinstance(merged.get(key), list):
                merged[key] = [*merged[key], *value]  # type: ignore[misc]
            else:
                merged[key] = value
    return merged


DOMAIN = _domain()
SLOTS: dict[str, dict[str, object]] = DOMAIN["slots"]  # type: ignore[assignment]
ENTITIES = {e if isinstance(e, str) else next(iter(e)) for e in DOMAIN["entities"]}  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------ the domain


def test_slot_names_are_the_domains() -> None:
    assert sorted(names_of(SlotName)) == sorted(SLOTS)


def test_awaiting_values_are_the_slots_categories() -> None:
    assert list(names_of(Awaiting)) == SLOTS[SlotName.AWAITING]["values"]


def test_action_names_are_the_domains() -> None:
    assert sorted(names_of(ActionName)) == sorted(DOMAIN["actions"])  # type: ignore[arg-type]


def test_rasas_own_actions_are_not_in_the_domain() -> None:
    assert all(name.startswith("action_") for name in names_of(RasaAction))
    assert not set(names_of(RasaAction)) & set(DOMAIN["actions"])  # type: ignore[arg-type]


def test_attributes_are_entities_and_slots_and_product_fields() -> None:
    assert set(ATTRIBUTES) <= ENTITIES and set(ATTRIBUTES) <= set(SLOTS)
    assert set(ASKED_ATTRIBUTES) <= set(ATTRIBUTES)
    assert set(PRODUCT_ATTRIBUTES) == {*ATTRIBUTES, "size", "audience"}
    fields = {f.name for f in dataclasses.fields(Product)}
    assert set(PRODUCT_ATTRIBUTES) <= fields


# ----------------------------------------------------------------------------- the payload


def test_card_keys_are_the_cards() -> None:
    assert names_of(CardKey) == tuple(RecommendationItem.__annotations__)
    card_fields = [name for name in dir(CardProduct) if not name.startswith("_")]
    assert set(card_fields) == set(names_of(CardKey)) - {CardKey.RANK, CardKey.REASON}
    assert set(card_fields) <= {f.name for f in dataclasses.fields(Product)}


def test_payload_keys_are_the_payloads() -> None:
    keys = {*RecommendationPayload.__annotations__, *DataExportPayload.__annotations__}
    assert set(names_of(PayloadKey)) == keys


def test_what_a_product_teaches_is_what_the_recommender_scores() -> None:
    product = Product("A", "Grey linen sofa", 700.0, "USD", "Sofas", colour="Grey", material="Linen", use="Lounge")
    taught = taught_attributes(product)
    assert set(taught) == {"category", *SOFT_ATTRIBUTES}
    assert taught["colour"] == "Grey" and taught["brand"] is None
    assert affinity_parts(affinity_key("colour", "Grey")) == ("colour", "grey")


def test_the_contract_imports_nothing_heavy() -> None:
    code = "import sys, retrieval.contract; print(' '.join(sorted(sys.modules)))"
    loaded = set(subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True,
                                text=True).stdout.split())
    heavy = {"numpy", "faiss", "sqlalchemy", "rasa_sdk", "yaml", "bm25s", "torch", "store", "actions", "web"}
    assert not loaded & heavy


# ---------------------------------------------------------------------- no name spelled twice

#: Names that mean nothing else in this code base: spelled as a literal outside the contract, they fail.
#: The slots that mirror an entity or a need (``category``, ``colour``, ``budget_max`` …) share their
#: names with the attributes and the conversation model, so only their use as a slot is checked
#: (see :func:`_slot_literals`); the card keys that are also product fields (``id``, ``title``,
#: ``price`` …) are checked through the contract's builders and parsers and the widget test.
EXCLUSIVE = {
    *(set(names_of(SlotName)) - {SlotName.CATEGORY, SlotName.BUDGET, *ATTRIBUTES, SlotName.BUDGET_MIN,
                                  SlotName.BUDGET_MAX, SlotName.EXCLUSIONS}),
    *names_of(PayloadType),
    CardKey.REASON,
    CardKey.RANK,
}
#: Any literal that looks like an action name.
ACTION = re.compile(r"^action_[a-z_]+$")
#: Payload keys that are everyday words elsewhere: they fail only where a mapping is read with them.
READ_KEYS = {PayloadKey.ITEMS}

#: Literals that spell a contract name but mean something else, or live where the contract cannot
#: reach yet: (file, literal) → why.
ALLOWED: dict[tuple[str, str], str] = {
    ("store/models.py", "request_id"): "a column of the interactions table, indexed",
    ("store/export.py", "request_id"): "a key of the customer's data export document",
    ("store/export.py", "rank"): "a key of the customer's data export document (an interaction's rank)",
    ("store/tracker.py", "action_name"): "a column of Rasa's events table",
    ("web/console/routes.py", "recommendations"): "the console's count of card lists in a conversation",
    ("evaluation/conversations.py", "rank"): "a key of a suite's cheaper_than/pricier_than check",
    ("benchmarks/collaborative.py", "rank"): "a column of the top-10 file the interactions' README specifies",
}

#: Code outside the packages the contract reaches: the two modules loaded into the Rasa server run in
#: Rasa's own environment, where our packages are not installed.
OUTSIDE = {"bot/rasa_components.py", "bot/rasa_speedups.py"}


def _python_files() -> Iterator[Path]:
    folders = ("actions", "retrieval", "store", "web", "shopkeeper_cli", "evaluation", "benchmarks", "scripts", "bot")
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if "migrations" in relative.parts or relative == CONTRACT or str(relative) in OUTSIDE:
                continue
            yield relative
    # The tests' support modules; the tests themselves may spell values they mean to check.
    for path in sorted((ROOT / "tests").glob("*.py")):
        if not path.name.startswith("test_"):
            yield path.relative_to(ROOT)


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _read_key(node: ast.AST) -> str | None:
    """The literal a mapping is read with: ``x["k"]`` or ``x.get("k", …)``."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return node.slice.value if isinstance(node.slice.value, str) else None
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get"
            and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
        return node.args[0].value
    return None


def _slot_literals(node: ast.AST) -> str | None:
    """A slot named by a literal: ``SlotSet("x", …)`` or ``tracker.get_slot("x")``."""
    if not isinstance(node, ast.Call) or not node.args:
        return None
    name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
    first = node.args[0]
    if name in ("SlotSet", "get_slot") and isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def spelled_names(relative: Path) -> Iterator[tuple[int, str, str]]:
    """(line, literal, what it names) for every contract name the file spells itself."""
    tree = ast.parse((ROOT / relative).read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if node.value in EXCLUSIVE:
                yield node.lineno, node.value, "a shared name"
            elif ACTION.match(node.value):
                yield node.lineno, node.value, "an action name"
        if (key := _read_key(node)) in READ_KEYS:
            yield node.lineno, str(key), "a payload key"
        if (slot := _slot_literals(node)) is not None:
            yield node.lineno, slot, "a slot"


def test_no_shared_name_is_spelled_outside_the_contract() -> None:
    found = [f"{path}:{line}: {literal!r} ({what}) — import it from retrieval.contract"
             for path in _python_files() for line, literal, what in spelled_names(path)
             if (str(path), literal) not in ALLOWED]
    assert not found, "\n".join(found)


def test_every_allowance_is_still_needed() -> None:
    used = {(str(path), literal) for path in _python_files() for _, literal, _ in spelled_names(path)}
    assert set(ALLOWED) <= used, f"no longer needed: {sorted(set(ALLOWED) - used)}"


@pytest.mark.parametrize("code, found", [
    ('SlotSet("category", "Sofas")', ["category"]),
    ('tracker.get_slot("awaiting")', ["awaiting", "awaiting"]),
    ('FollowupAction("action_listen")', ["action_listen"]),
    ('payload.get("items")', ["items"]),
    ('{"kind": "items"}', []),
    ('def f():\n    """About shop_state and action_shop."""', []),
])
def test_the_scan_finds_what_it_should(tmp_path: Path, code: str, found: list[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    (tmp_path / "example.py").write_text(code, encoding="utf-8")
    assert [literal for _, literal, _ in spelled_names(Path("example.py"))] == found

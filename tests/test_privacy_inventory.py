"""docs/PRIVACY.md lists every table and column of our models, and nothing that does not exist."""

from __future__ import annotations

import re

from store.migrate import target_metadata
from tests.conftest import ROOT

INVENTORY = ROOT / "docs" / "PRIVACY.md"


def documented_columns(text: str) -> dict[str, set[str]]:
    """``table → columns`` from the ``### `table`, `table` `` sections and their ``| `column` |`` rows."""
    found: dict[str, set[str]] = {}
    tables: list[str] = []
    for line in text.splitlines():
        if line.startswith("#"):
            tables = re.findall(r"`([a-z_]+)`", line) if line.startswith("### ") else []
            for table in tables:
                found.setdefault(table, set())
        elif tables and line.startswith("| `"):
            first_cell = line.split("|")[1]
            for table in tables:
                found[table].update(re.findall(r"`([a-z_]+)`", first_cell))
    return found


def test_every_column_of_our_models_is_in_the_inventory() -> None:
    documented = documented_columns(INVENTORY.read_text(encoding="utf-8"))
    missing = {
        table.name: sorted({c.name for c in table.columns} - documented.get(table.name, set()))
        for table in target_metadata().sorted_tables
    }
    assert {t: cols for t, cols in missing.items() if cols} == {}
    assert set(documented) == set(target_metadata().tables), "the inventory names a table that does not exist"


def test_the_inventory_lists_no_column_that_does_not_exist() -> None:
    documented = documented_columns(INVENTORY.read_text(encoding="utf-8"))
    tables = target_metadata().tables
    for name, columns in documented.items():
        # a section about several tables lists the union of their columns
        section = {n for n, cols in documented.items() if cols == columns}
        real = set().union(*({c.name for c in tables[t].columns} for t in section if t in tables))
        assert columns <= real, f"{name}: {sorted(columns - real)} are not columns"


def test_the_parser_sees_a_missing_column() -> None:
    text = "### `customers`\n\n| column | holds |\n|---|---|\n| `id` | x |\n| `sender_id`, `consent` | y |\n"
    assert documented_columns(text) == {"customers": {"id", "sender_id", "consent"}}

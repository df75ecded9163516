"""A shop's own record of what its customers bought or rated, read through a mapping.

An order or rating export names its columns in its own way; a small TOML mapping says which column is
the customer, the item, the time and (when there is one) the quantity, the order or the rating::

    format = "csv"                 # csv | json | jsonl (default: from the file's extension)
    time_format = "%Y-%m-%d %H:%M" # optional: strptime format; default ISO 8601
    min_rating = 4                 # optional: a rating below this is not a liking

    [fields]
    customer = "customer_id"
    item = "item_id"
    time = "timestamp"
    quantity = "quantity"          # optional
    order = "order_id"             # optional
    rating = "stars"               # optional

Each row is kept or refused with its reason (no customer, an item the catalog lacks, an unreadable
time, a quantity or rating that is no number); the caller stores what was kept.
"""

from __future__ import annotations

import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from retrieval.errors import CatalogError, RowError
from retrieval.loaders import read_records

__all__ = ["InteractionMapping", "InteractionReport", "Taken", "load_interaction_mapping", "read_interactions"]

_FIELDS = ("customer", "item", "time", "quantity", "order", "rating")
_REQUIRED = ("customer", "item", "time")


@dataclass(frozen=True)
class InteractionMapping:
    """Which columns of a shop's export hold what."""

    columns: Mapping[str, str]
    format: str = ""
    time_format: str = ""
    min_rating: float | None = None


@dataclass(frozen=True)
class Taken:
    """One item a customer bought or rated well."""

    customer: str
    item: str
    at: datetime
    quantity: float | None = None
    order: str | None = None
    rating: float | None = None


@dataclass
class InteractionReport:
    """What a read produced: the rows kept, and each refused row with its reason."""

    kept: list[Taken] = field(default_factory=list)
    refused: list[RowError] = field(default_factory=list)
    rows_read: int = 0

    def summary(self) -> str:
        """One line for people."""
        customers = len({t.customer for t in self.kept})
        return (f"{len(self.kept):,} interaction(s) of {customers:,} customer(s) read from {self.rows_read:,} row(s); "
                f"{len(self.refused):,} row(s) refused")


def load_interaction_mapping(path: str | Path) -> InteractionMapping:
    """The mapping in a TOML file; a clear :class:`CatalogError` when it is not one."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise CatalogError(f"{path}: not a readable TOML mapping: {exc}") from None
    columns = data.get("fields")
    if not isinstance(columns, dict) or not all(isinstance(v, str) and v for v in columns.values()):
        raise CatalogError(f"{path}: [fields] must name a column for customer, item and time")
    unknown = sorted(set(columns) - set(_FIELDS))
    missing = [f for f in _REQUIRED if f not in columns]
    if unknown or missing:
        raise CatalogError(f"{path}: " + "; ".join(
            ([f"unknown field(s) {', '.join(unknown)} (known: {', '.join(_FIELDS)})"] if unknown else [])
            + ([f"missing {', '.join(missing)}"] if missing else [])))
    min_rating = data.get("min_rating")
    if min_rating is not None and not isinstance(min_rating, int | float):
        raise CatalogError(f"{path}: min_rating must be a number")
    return InteractionMapping(dict(columns), str(data.get("format") or ""), str(data.get("time_format") or ""),
                              None if min_rating is None else float(min_rating))


def read_interactions(path: Path, mapping: InteractionMapping, items: Collection[str]) -> InteractionReport:
    """Every row of the export, kept or refused; ``items`` are the catalog's ids."""
    fmt = mapping.format or {".json": "json", ".jsonl": "jsonl"}.get(path.suffix.lower(), "csv")
    report = InteractionReport()
    for row, record in read_records(path, fmt):
        report.rows_read += 1
        taken = _row(row, record, mapping, items)
        if isinstance(taken, RowError):
            report.refused.append(taken)
        elif taken is not None:
            report.kept.append(taken)
    return report


def _text(record: Mapping[str, Any], column: str | None) -> str:
    value = record.get(column) if column else None
    return "" if value is None else str(value).strip()


def _row(row: int, record: Mapping[str, Any], mapping: InteractionMapping,
         items: Collection[str]) -> Taken | RowError | None:
    """One row as an interaction, its problem, or ``None`` for a rating below the mapping's liking."""
    values = {name: _text(record, mapping.columns.get(name)) for name in _FIELDS}
    for name in _REQUIRED:
        if not values[name]:
            return RowError(row, name, "", f"no {name}")
    if values["item"] not in items:
        return RowError(row, "item", values["item"][:40], "not in the catalog")
    try:
        at = (datetime.strptime(values["time"], mapping.time_format) if mapping.time_format
              else datetime.fromisoformat(values["time"]))
    except ValueError:
        expected = mapping.time_format or "ISO 8601"
        return RowError(row, "time", values["time"][:40], f"unreadable time (expected {expected})")
    numbers: dict[str, float | None] = {}
    for name in ("quantity", "rating"):
        try:
            numbers[name] = float(values[name]) if values[name] else None
        except ValueError:
            return RowError(row, name, values[name][:40], f"{name} is not a number")
    if numbers["quantity"] is not None and not numbers["quantity"] > 0:
        return RowError(row, "quantity", values["quantity"], "a quantity must be above 0 (returns are not purchases)")
    if numbers["rating"] is not None and mapping.min_rating is not None and numbers["rating"] < mapping.min_rating:
        return None
    return Taken(values["customer"], values["item"], at if at.tzinfo else at.replace(tzinfo=UTC),
                 numbers["quantity"], values["order"] or None, numbers["rating"])

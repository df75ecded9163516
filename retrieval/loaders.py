"""Loading catalogs from JSONL, JSON and CSV, with per-row validation.

>>> report = load_catalog("data/catalog/products.jsonl")      # doctest: +SKIP
>>> len(report.catalog), report.errors                          # doctest: +SKIP
(600, [])

Foreign catalogs go through a :class:`~retrieval.mapping.CatalogMapping`::

    load_catalog("../shared/catalogs/flipkart-sample.csv",
                 mapping=load_mapping("data/catalog/mappings/flipkart.toml"),
                 strict=False)

In **strict** mode any invalid row raises :class:`CatalogValidationError`
listing every problem; in **lenient** mode invalid rows are skipped and listed
in :attr:`LoadReport.errors`, and an untidy price ("$6.94 $ 6 . 94", page
styling pasted after it) is read from its first marked amount, with a warning.
A price range ("$74.99 - $249.99") is its lower end in both modes
(:attr:`Product.price_from`). Warnings (a blank description, an unreadable
optional value that was dropped) never stop a load.

A mapping's ``infer`` attributes (by default the colour and material when it
has no column for them) are read from the title and description of the rows
that have no value of their own (:mod:`retrieval.attributes`), and counted in
:attr:`LoadReport.inferred`. The native format is read as it is.
"""

from __future__ import annotations

import csv
import json
import math
import re
import sys
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from retrieval.attributes import infer_attributes
from retrieval.catalog import Catalog, Product
from retrieval.errors import CatalogError, CatalogValidationError, RowError
from retrieval.kinds import kinds_from_names
from retrieval.mapping import KIND_OF_NAME, CatalogMapping
from retrieval.prices import PriceError, parse_price, salvage_price

__all__ = ["LoadReport", "load_catalog", "read_records"]

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TEXT_FIELDS = ("title", "category", "description", "brand", "colour", "material",
                "style", "size", "use", "audience", "image_url", "url")
_MAX_TEXT = {"title": 300, "category": 120}


@dataclass
class LoadReport:
    """What a load produced.

    Attributes:
        catalog: the valid products.
        errors: rows skipped (lenient mode) with the reason.
        warnings: rows kept with a field dropped or defaulted.
        rows_read: source rows seen.
        inferred: for each attribute the mapping infers, how many products got
            their value from their title or description; empty when none is inferred.
    """

    catalog: Catalog
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    rows_read: int = 0
    inferred: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for people: kept, skipped and warned counts, and what was read from the text."""
        line = (
            f"{len(self.catalog)} product(s) loaded from {self.rows_read} row(s); "
            f"{len(self.errors)} row(s) skipped, {len(self.warnings)} warning(s)"
        )
        if self.inferred:
            counts = ", ".join(f"{name} for {count}" for name, count in self.inferred.items())
            line += f"; read from titles and descriptions: {counts}"
        return line


def read_records(path: Path, fmt: str, records_path: str = "") -> Iterator[tuple[int, Mapping[str, Any]]]:
    """Yield ``(row_number, record)`` pairs from a catalog file.

    Args:
        path: the file.
        fmt: ``"csv"``, ``"json"`` or ``"jsonl"``.
        records_path: for JSON, a dotted path to the list of products inside
            the document (``"products"``); empty for a top-level list.

    Raises:
        CatalogError: on an empty or undecodable file or a broken document.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CatalogError(f"catalog file not found: {str(path)!r}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        bad_line = raw.count(b"\n", 0, exc.start) + 1
        raise CatalogError(
            f"{path}: not UTF-8 (byte {raw[exc.start]:#04x} on line {bad_line}, offset {exc.start}); "
            "re-save the file as UTF-8"
        ) from None
    if not text.strip():
        raise CatalogError(f"{path}: the file is empty")
    if fmt == "csv":
        yield from _csv_records(path, text)
    elif fmt == "jsonl":
        yield from _jsonl_records(path, text)
    elif fmt == "json":
        yield from _json_records(path, text, records_path)
    else:
        raise CatalogError(f"unknown catalog format {fmt!r}; use csv, json or jsonl")


def _jsonl_records(path: Path, text: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise CatalogError(f"{path}: line {number} is not valid JSON: {exc}") from None
        except RecursionError:
            raise CatalogError(f"{path}: line {number} is nested too deeply to be a product") from None
        if not isinstance(record, dict):
            raise CatalogError(f"{path}: line {number} is not a JSON object")
        yield number, record


def _json_records(path: Path, text: str, records_path: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise CatalogError(f"{path}: not valid JSON: {exc}") from None
    except RecursionError:
        raise CatalogError(f"{path}: the JSON is nested too deeply to be a catalog") from None
    items = document
    for part in [p for p in records_path.split(".") if p]:
        items = items.get(part) if isinstance(items, dict) else None
    if isinstance(items, dict) and not records_path and "products" in items:
        items = items["products"]
    if not isinstance(items, list):
        where = f" at {records_path!r}" if records_path else ""
        raise CatalogError(f"{path}: expected a list of products{where}")
    if not items:
        raise CatalogError(f"{path}: the file holds no products")
    for number, record in enumerate(items, start=1):
        if not isinstance(record, dict):
            raise CatalogError(f"{path}: product {number} is not a JSON object")
        yield number, record


def _csv_records(path: Path, text: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    reader = csv.DictReader(text.splitlines(keepends=True))
    if not reader.fieldnames or not any(n.strip() for n in reader.fieldnames):
        raise CatalogError(f"{path}: the CSV has no header row")
    row_start = 2
    any_row = False
    for record in reader:
        any_row = True
        yield row_start, {k.strip(): v for k, v in record.items() if k is not None}
        row_start = reader.line_num + 1
    if not any_row:
        raise CatalogError(f"{path}: the CSV has a header but no rows")


def _guess_format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix in ("csv", "json", "jsonl"):
        return suffix
    if suffix == "ndjson":
        return "jsonl"
    raise CatalogError(f"{path}: cannot tell the format from {path.suffix!r}; give format in the mapping")


def load_catalog(
    path: str | Path,
    mapping: CatalogMapping | None = None,
    *,
    strict: bool = True,
) -> LoadReport:
    """Load and validate a catalog file.

    Args:
        path: a ``.jsonl``, ``.json`` or ``.csv`` file.
        mapping: how source columns become fields; ``None`` for the native
            format (field names as columns).
        strict: raise on any invalid row (``True``) or skip and report it.

    Returns:
        A :class:`LoadReport` with the catalog, skipped rows and warnings.

    Raises:
        CatalogError: for file-level problems (missing, empty, undecodable,
            columns the mapping needs are absent).
        CatalogValidationError: in strict mode, when any row is invalid.
    """
    path = Path(path)
    mapping = mapping or CatalogMapping.native()
    fmt = mapping.format or _guess_format(path)
    products: list[Product] = []
    errors: list[RowError] = []
    warnings: list[RowError] = []
    first_row_of: dict[str, int] = {}
    inferred = dict.fromkeys(mapping.infer, 0)
    rows_read = 0
    checked_header = False
    for row, record in read_records(path, fmt, mapping.records):
        rows_read += 1
        if fmt == "csv" and not checked_header:
            _check_columns(path, mapping, record)
            checked_header = True
        product, row_errors, row_warnings = _convert(row, record, mapping, lenient=not strict)
        warnings += row_warnings
        if product is not None and product.id in first_row_of:
            row_errors.append(RowError(row, "id", product.id,
                                       f"duplicate id (first seen in row {first_row_of[product.id]})"))
        if row_errors or product is None:
            errors += row_errors
            continue
        first_row_of[product.id] = row
        if mapping.infer:
            product = _with_inferred(product, mapping.infer, inferred)
        products.append(product)
    if strict and errors:
        raise CatalogValidationError(str(path), errors)
    category = mapping.fields.get("category")
    if category is not None and category.transform == KIND_OF_NAME:
        colours = {p.colour for p in products if p.colour}  # a colour ends many names, yet is no kind
        products = [replace(p, category=kind) for p, kind in
                    zip(products, kinds_from_names([p.category for p in products], not_kinds=colours), strict=True)]
    if not products:
        detail = f": {errors[0]}" if errors else ""
        raise CatalogError(f"{path}: no valid products{detail}")
    return LoadReport(Catalog(products), errors, warnings, rows_read, inferred)


def _with_inferred(product: Product, attributes: tuple[str, ...], counts: dict[str, int]) -> Product:
    """The product with the attributes it lacks read from its words; a catalog's own value is kept."""
    missing = [name for name in attributes if not getattr(product, name)]
    if not missing:
        return product
    found = infer_attributes(product.title, product.description, brand=product.brand, attributes=missing)
    for name in found:
        counts[name] += 1
    if not found:
        return product
    return replace(product, colour=found.get("colour", product.colour),
                   material=found.get("material", product.material))


def _check_columns(path: Path, mapping: CatalogMapping, record: Mapping[str, Any]) -> None:
    missing = mapping.missing_columns(record.keys())
    if missing:
        raise CatalogError(
            f"{path}: column(s) {missing} named by mapping {mapping.source} are not in the file; "
            f"columns present: {sorted(record)}"
        )


def _clean_text(value: Any) -> str:
    text = value if isinstance(value, str) else str(value)
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else text[:77] + "…"


def _convert(
    row: int, record: Mapping[str, Any], mapping: CatalogMapping, *, lenient: bool = False
) -> tuple[Product | None, list[RowError], list[RowError]]:
    errors: list[RowError] = []
    warnings: list[RowError] = []
    raw: dict[str, Any] = {name: spec.extract(record) for name, spec in mapping.fields.items()}
    values: dict[str, Any] = {}

    category = mapping.fields.get("category")
    # a category read from the name is a name until the whole catalog is read: held to the title's length
    limits = {**_MAX_TEXT, "category": _MAX_TEXT["title"]} if category and category.transform == KIND_OF_NAME \
        else _MAX_TEXT
    _required_texts(row, raw, values, errors, limits)
    _price_and_currency(row, raw, mapping, values, errors, warnings, lenient=lenient)
    _optional_texts(row, raw, values, warnings)
    _number(row, raw, "rating", float, values, warnings, lo=0.0, hi=5.0)
    _number(row, raw, "rating_count", int, values, warnings, lo=0)
    _number(row, raw, "stock", int, values, warnings, lo=0)

    tags = raw.get("tags")
    if tags is not None:
        items = tags if isinstance(tags, list) else re.split(r"[,;|]", str(tags))
        values["tags"] = tuple(t for t in (_clean_text(i).lower() for i in items) if t)
    values["extra"] = _extra(record, mapping)

    if errors:
        return None, errors, warnings
    return Product(**values), errors, warnings


def _required_texts(row: int, raw: Mapping[str, Any], values: dict[str, Any], errors: list[RowError],
                    limits: Mapping[str, int] = _MAX_TEXT) -> None:
    """Id, title and category into ``values``; an error for each that is empty or longer than its limit."""
    for name in ("id", "title", "category"):
        value = raw.get(name)
        text = _clean_text(value) if value is not None else ""
        if not text:
            errors.append(RowError(row, name, _short(value or ""), f"{name} is empty"))
        elif len(text) > limits.get(name, 10_000):
            errors.append(RowError(row, name, _short(text), f"{name} longer than {limits[name]} characters"))
        values[name] = text


def _price_and_currency(row: int, raw: Mapping[str, Any], mapping: CatalogMapping, values: dict[str, Any],
                        errors: list[RowError], warnings: list[RowError], *, lenient: bool) -> None:
    """Price, ``price_from`` and currency into ``values``.

    An unreadable price is an error; with ``lenient``, an untidy one that :func:`salvage_price`
    reads is a warning instead. The currency column wins over the price's marker, which wins over
    the mapping's default.
    """
    price_raw = raw.get("price")
    currency = mapping.currency
    if price_raw is None:
        errors.append(RowError(row, "price", "", "price is empty"))
    else:
        try:
            price = parse_price(price_raw)
        except PriceError as exc:
            price = None
            if lenient and isinstance(price_raw, str):
                try:
                    price = salvage_price(price_raw)
                    warnings.append(RowError(row, "price", _short(price_raw),
                                             f"untidy price; read as {price.amount:g}"))
                except PriceError:
                    pass  # the parser's own message says more ("negative price")
            if price is None:
                errors.append(RowError(row, "price", _short(price_raw), str(exc)))
        if price is not None:
            values["price"] = price.amount
            values["price_from"] = price.lower_bound or _is_true(raw.get("price_from"))
            currency = price.currency or currency
    if raw.get("currency"):
        currency = _clean_text(raw["currency"]).upper()
    values["currency"] = currency


def _optional_texts(row: int, raw: Mapping[str, Any], values: dict[str, Any], warnings: list[RowError]) -> None:
    """The other text fields into ``values``: a list or mapping is dropped with a warning, as is a blank description."""
    for name in _TEXT_FIELDS:
        if name in values or name not in raw:
            continue
        value = raw[name]
        if value is None:
            continue
        if isinstance(value, list | dict):
            warnings.append(RowError(row, name, _short(value), "expected text, got a list; dropped"))
            continue
        text = _clean_text(value)
        if text:
            values[name] = text
    if not values.get("description"):
        warnings.append(RowError(row, "description", "", "description is blank"))


def _extra(record: Mapping[str, Any], mapping: CatalogMapping) -> dict[str, str]:
    """The record's extra columns as cleaned text (a native JSONL's own ``extra`` first, then the mapping's)."""
    extra = {}
    native_extra = record.get("extra") if mapping.source == "<native>" else None
    if isinstance(native_extra, Mapping):  # the native JSONL keeps a foreign catalog's extras
        extra.update({str(k): text for k, v in native_extra.items()
                      if not isinstance(v, list | dict) and v is not None and (text := _clean_text(v))})
    for name, spec in mapping.extra.items():
        value = spec.extract(record)
        if value is not None and not isinstance(value, list | dict) and (text := _clean_text(value)):
            extra[name] = text
    return extra


def _is_true(value: Any) -> bool:
    return value is True or str(value).strip().lower() in ("true", "1", "yes")


def _number(
    row: int,
    raw: Mapping[str, Any],
    name: str,
    kind: type[int] | type[float],
    values: dict[str, Any],
    warnings: list[RowError],
    *,
    lo: float,
    hi: float | None = None,
) -> None:
    value = raw.get(name)
    if value is None:
        return
    try:
        number = float(str(value).replace(",", "").strip())
        if not math.isfinite(number):
            raise ValueError
    except ValueError:
        warnings.append(RowError(row, name, _short(value), f"{name} is not a number; dropped"))
        return
    if number < lo or (hi is not None and number > hi):
        bounds = f"{lo}–{hi}" if hi is not None else f"≥ {lo}"
        warnings.append(RowError(row, name, _short(value), f"{name} outside {bounds}; dropped"))
        return
    values[name] = kind(number) if kind is float else round(number)

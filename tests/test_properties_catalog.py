"""Properties of catalog import: any mapping and any file end in a catalog or a CatalogError.

A shop imports its own export (CSV, JSON, JSONL) through a TOML mapping it wrote
(``retrieval/mapping.py``, ``retrieval/loaders.py``). Neither is vetted: a typo in the mapping,
an untidy cell, a broken file must give a message that names it, never a traceback; the rows
that are kept must be sound; and an import that is refused writes nothing.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

from retrieval.errors import CatalogError, CatalogValidationError, MappingError
from retrieval.loaders import LoadReport, load_catalog
from retrieval.mapping import PRODUCT_FIELDS, REQUIRED_FIELDS, CatalogMapping, load_mapping, mapping_from_dict
from shopkeeper_cli.main import main
from tests.conftest import MAPPINGS
from tests.properties_support import json_values, messy_text, scaled

# ------------------------------------------------------------------------------------- TOML mappings

_TOML_SCALARS = st.one_of(st.text(max_size=12), st.integers(min_value=-(2**63), max_value=2**63 - 1),
                          st.floats(), st.booleans())
toml_values: st.SearchStrategy[Any] = st.recursive(
    _TOML_SCALARS, lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children,
                                                                                      max_size=3),
    max_leaves=8)

_COLUMNS = ["sku", "name", "cost", "type", "about", "images", "specs", "a.b", "tags", "cur"]
#: A field as mappings write it: a column name, or a table of options with plausible or wrong values.
_FIELD_SPECS = st.one_of(
    st.sampled_from(_COLUMNS),
    st.fixed_dictionaries({"column": st.one_of(st.sampled_from(_COLUMNS), st.lists(st.sampled_from(_COLUMNS),
                                                                                    max_size=3), toml_values)},
                          optional={"item": st.one_of(st.integers(-3, 3), toml_values),
                                    "spec": st.one_of(st.sampled_from(["Colour", "material"]), toml_values),
                                    "split": st.one_of(st.sampled_from(["|", ",", ">", ""]), toml_values),
                                    "missing": st.one_of(st.lists(st.sampled_from(["0", "", "n/a"])), toml_values),
                                    "transform": st.one_of(st.sampled_from(["title", "lower", "strip_brackets",
                                                                            "kind_of_name", "upper"]), toml_values),
                                    "other": toml_values}),
    toml_values,
)
_FIELD_NAMES = st.sampled_from([*PRODUCT_FIELDS, "colour", "price_from", "weight"])
mappings = st.fixed_dictionaries(
    {"fields": st.one_of(
        st.fixed_dictionaries({name: _FIELD_SPECS for name in REQUIRED_FIELDS},
                              optional={name: _FIELD_SPECS for name in ("description", "colour", "tags", "rating",
                                                                        "stock", "image_url", "currency")}),
        st.dictionaries(_FIELD_NAMES, _FIELD_SPECS, max_size=6),
        toml_values)},
    optional={"format": st.one_of(st.sampled_from(["csv", "json", "jsonl", "xml"]), toml_values),
              "records": st.one_of(st.sampled_from(["", "products", "data.items"]), toml_values),
              "currency": st.one_of(st.sampled_from(["USD", "INR", "usd", "DOLLARS"]), toml_values),
              "shop_name": st.one_of(st.text(max_size=100), toml_values),
              "infer": st.one_of(st.lists(st.sampled_from(["colour", "material", "size"]), max_size=2), toml_values),
              "extra": st.one_of(st.dictionaries(st.sampled_from(["warranty", "weight"]), _FIELD_SPECS, max_size=2),
                                 toml_values),
              "surprise": toml_values},
)


def _toml_string(text: str) -> str:
    escaped = "".join(c if c not in '"\\' and (" " <= c != "\x7f") else f"\\u{ord(c):04x}" for c in text)
    return f'"{escaped}"'


def _toml(value: Any) -> str:
    """A value as inline TOML (the subset the generated mappings use)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{" + ", ".join(f"{_toml_string(k)} = {_toml(v)}" for k, v in value.items()) + "}"


def _toml_document(data: Mapping[str, Any]) -> str:
    return "".join(f"{_toml_string(key)} = {_toml(value)}\n" for key, value in data.items())


def _outcome(build: Any) -> CatalogMapping | str:
    """The mapping built, or the kind of refusal (every refusal must be a MappingError)."""
    try:
        return build()  # type: ignore[no-any-return]
    except MappingError as error:
        assert str(error)
        return "refused"


@given(mappings)
@example({"fields": {"id": "sku", "title": "name", "price": "cost", "category": {"column": "type", "spec": 5}}})
@example({"fields": {"id": "sku", "title": "name", "price": "cost", "category": {"column": 7}}})
@example({"fields": {"id": "sku", "title": "name", "price": "cost", "category": {"column": "type", "missing": 0}}})
def test_a_mapping_is_built_or_refused_by_name_and_reads_any_record(data: dict[str, Any]) -> None:
    mapping = _outcome(lambda: mapping_from_dict(data))
    if isinstance(mapping, str):
        return
    records: list[dict[str, Any]] = [
        {"sku": "A-1", "name": "Oak desk", "cost": "Rs. 1,299", "type": "Desks | Office | Tables",
         "images": '["a.jpg", "b.jpg"]', "specs": [{"key": "colour", "value": "oak"}], "a": {"b": 3}},
        {column: "[" * 3000 + "]" * 3000 for column in _COLUMNS},
        {"sku": None, "name": ["x"], "cost": {"y": 1}, "type": 10**30, "images": "(1, 2", "specs": "{'Colour': 'red'}"},
    ]
    for record in records:
        for spec in (*mapping.fields.values(), *mapping.extra.values()):
            spec.extract(record)


@given(mappings)
def test_a_mapping_file_says_what_its_dict_says(data: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mapping.toml"
        path.write_text(_toml_document(data), encoding="utf-8")
        from_file = _outcome(lambda: load_mapping(path))
    from_dict = _outcome(lambda: mapping_from_dict(data))
    if isinstance(from_file, CatalogMapping) and isinstance(from_dict, CatalogMapping):
        assert from_file.fields == from_dict.fields and from_file.currency == from_dict.currency
    else:
        assert from_file == from_dict


_SHIPPED = sorted(MAPPINGS.glob("*.toml"))


@given(st.sampled_from(_SHIPPED), st.data())
@example(_SHIPPED[0], None)
def test_a_damaged_mapping_file_is_a_mapping_error(shipped: Path, data: st.DataObject | None) -> None:
    raw = bytearray(shipped.read_bytes())
    if data is None:  # a byte that is no UTF-8, as a Latin-1 editor saves "é"
        raw[10:10] = b"\xe9"
    else:
        for _ in range(data.draw(st.integers(1, 4))):
            at = data.draw(st.integers(0, len(raw)))
            if data.draw(st.booleans()):
                raw[at:at] = data.draw(st.binary(min_size=1, max_size=6))
            else:
                del raw[at:at + data.draw(st.integers(1, 12))]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mapping.toml"
        path.write_bytes(bytes(raw))
        _outcome(lambda: load_mapping(path))


# ------------------------------------------------------------------------------------- catalog files

#: Cells as exports hold them: prices, lists, key/value specs, nested brackets, anything.
_CELLS = st.one_of(
    messy_text,
    st.sampled_from(["Rs. 1,299", "$74.99 - $249.99", "$6.94 $ 6 . 94", "-5", "0", "nan", "inf", "1e400",
                     "No rating available", "Desks | Office", '["a.jpg"]', "[{'key': 'Colour', 'value': 'red'}]",
                     "4.5", "10000", "true", ""]),
    st.integers(min_value=1, max_value=3000).map(lambda depth: "[" * depth + "]" * depth),
)
_CSV_MAPPING = {"fields": {"id": "sku", "title": "name", "price": "cost", "category": "type", "description": "about",
                           "rating": {"column": "rating", "missing": ["No rating available"]},
                           "image_url": {"column": "images", "item": 0},
                           "tags": {"column": "type", "split": "|"}}}
_JSON_MAPPING = {**_CSV_MAPPING, "format": "json",
                 "fields": {**_CSV_MAPPING["fields"], "colour": {"column": "specs", "spec": ["Colour"]},
                            "category": {"column": ["type", "name"], "transform": "kind_of_name"}}}
_HEADER = ["sku", "name", "cost", "type", "about", "rating", "images"]


def _check_report(report: LoadReport, strict: bool) -> None:
    ids = [product.id for product in report.catalog]
    assert len(ids) == len(set(ids)) and ids
    for product in report.catalog:
        assert product.id and product.title and product.category
        assert math.isfinite(product.price) and product.price >= 0
        assert product.rating is None or 0 <= product.rating <= 5
    if strict:
        assert report.errors == []
    assert len(report.catalog) + len({error.row for error in report.errors}) == report.rows_read


def _load(path: Path, mapping: CatalogMapping | None, strict: bool) -> None:
    try:
        report = load_catalog(path, mapping, strict=strict)
    except CatalogError as error:
        assert str(error)
        if isinstance(error, CatalogValidationError):
            assert strict and error.errors
        return
    _check_report(report, strict)


@given(st.lists(st.sampled_from([*_HEADER, "", "sku"]), min_size=1, max_size=8),
       st.lists(st.lists(_CELLS, max_size=9), max_size=6), st.sampled_from(["\n", "\r\n", "\r"]), st.booleans())
@example(_HEADER, [["A", "Desk", "10", "Desks", "oak", "[" * 3000 + "]" * 3000, "x"]], "\n", False)
def test_any_csv_file_gives_sound_products_or_a_catalog_error(header: list[str], rows: list[list[str]],
                                                             newline: str, strict: bool) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "catalog.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8")
        _load(path, mapping_from_dict(_CSV_MAPPING), strict)


@given(st.binary(max_size=300), st.booleans())
@example(b"sku,name,cost,type\nA,Desk,\xff10,Desks\n", False)
def test_any_bytes_as_a_csv_file_are_read_or_refused(raw: bytes, strict: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "catalog.csv"
        path.write_bytes(b"sku,name,cost,type,about\n" + raw)
        _load(path, mapping_from_dict(_CSV_MAPPING), strict)


_RECORDS = st.lists(st.one_of(
    st.fixed_dictionaries({}, optional={key: st.one_of(_CELLS, json_values) for key in [*_HEADER, "specs"]}),
    json_values), max_size=5)


@given(st.one_of(_RECORDS, _RECORDS.map(lambda records: {"products": records}), json_values), st.booleans())
@example([{"sku": "A", "name": "Desk", "cost": 10**400, "type": "Desks"}], False)
@example('[{"sku": "A", "name": "Desk", "cost": 10, "type": "Desks", "rating": 1' + "0" * 5000 + "}]", False)
@example("[" * 100_000 + "]" * 100_000, False)
def test_any_json_document_gives_sound_products_or_a_catalog_error(document: Any, strict: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "catalog.json"
        path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
        _load(path, mapping_from_dict(_JSON_MAPPING), strict)


@given(st.lists(st.one_of(
    st.fixed_dictionaries({"id": _CELLS, "title": _CELLS, "price": st.one_of(_CELLS, json_values),
                           "category": _CELLS},
                          optional={name: json_values for name in PRODUCT_FIELDS if name not in REQUIRED_FIELDS}),
    json_values), max_size=5), st.booleans())
def test_any_native_jsonl_gives_sound_products_or_a_catalog_error(records: list[Any], strict: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "catalog.jsonl"
        path.write_text("\n".join(json.dumps(record) for record in records), encoding="utf-8")
        _load(path, None, strict)


@scaled(0.3)
@given(st.lists(st.lists(_CELLS, min_size=4, max_size=5), min_size=1, max_size=4), st.booleans())
def test_a_refused_import_writes_nothing(rows: list[list[str]], lenient: bool) -> None:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([["id", "title", "price", "category", "description"], *rows])
    with tempfile.TemporaryDirectory() as folder:
        source, out = Path(folder) / "in.csv", Path(folder) / "out.jsonl"
        source.write_text(buffer.getvalue(), encoding="utf-8")
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as errors:
            code = main(["catalog", "import", str(source), "--out", str(out), *(["--lenient"] if lenient else [])])
        assert code in (0, 2)
        if code == 2:
            assert not out.exists() and errors.getvalue().startswith("error:")
        else:
            written = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
            assert written and all(product["id"] == product["id"].strip() for product in written)

"""Column mappings: how a foreign catalog's columns become Product fields.

A mapping is a small TOML file, so a new catalog is imported by writing a
mapping, not code. Example (``data/catalog/mappings/dummyjson.toml``)::

    format = "json"          # csv | json | jsonl; default: from the file name
    currency = "USD"         # used when a price carries no currency marker
    shop_name = "DummyJSON"  # the shop page's title (optional)
    infer = ["colour", "material"]   # read from title and description where a row has none;
                                     # the default here, since [fields] maps neither

    [fields]
    id = "id"                # a plain string names the column (or JSON key)
    title = "title"
    price = "price"
    category = { column = "category", transform = "title" }
    image_url = { column = "images", item = 0 }   # first element of a list
    tags = { column = "tags" }                    # lists become tags

    [extra]
    warranty = "warrantyInformation"              # kept in Product.extra

A field table accepts:

* ``column``: a column name, a dotted path into nested JSON
  (``"dimensions.width"``, ``"images.0"``), or a list of them: the first
  non-empty one wins (``["discounted_price", "retail_price"]``).
* ``item``: the cell holds a list (JSON or Python literal): take this element;
  negative counts from the end.
* ``spec``: the cell holds key/value pairs (a dict, or a list of
  ``{"key": …, "value": …}``): take the value of the first key listed.
* ``split``: split a text cell on this separator, before ``item`` picks an
  element: ``{ column = "Category", split = "|", item = 1 }`` takes the second
  level of a path such as ``"Toys & Games | Puzzles | Jigsaw Puzzles"``;
  without ``item`` the parts become a list (for ``tags``).
* ``missing``: cell values that mean "not given" (``["0", "0.0", "No rating available"]``).
* ``transform``: ``"title"``, ``"lower"``, ``"strip_brackets"``, or ``"kind_of_name"`` for a
  category read from a product name where the catalog has no category column:
  ``category = { column = "Product_Name", transform = "kind_of_name" }`` files
  "Roadster Men Navy Casual Shirt" under "Shirt", the kind being the last word of
  the name's head phrase that ends many of the catalog's names (:mod:`retrieval.kinds`).

``infer`` lists the attributes (``"colour"``, ``"material"``) to read from a
row's title and description when the row has no value of its own
(:mod:`retrieval.attributes`; a value the catalog gives is never replaced).
Without the key, a mapping infers those of the two that ``[fields]`` does not
map; ``infer = []`` turns it off. The native format never infers.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
from collections.abc import Collection
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from retrieval.attributes import INFERABLE_ATTRIBUTES
from retrieval.errors import MappingError

__all__ = [
    "KIND_OF_NAME",
    "PRODUCT_FIELDS",
    "REQUIRED_FIELDS",
    "CatalogMapping",
    "FieldSpec",
    "load_mapping",
]

#: Product fields a mapping may fill.
PRODUCT_FIELDS: tuple[str, ...] = (
    "id", "title", "price", "currency", "category", "description", "brand", "colour",
    "material", "style", "size", "use", "audience", "rating", "rating_count", "stock", "image_url",
    "url", "tags", "price_from",
)
#: Fields every row must have.
REQUIRED_FIELDS: tuple[str, ...] = ("id", "title", "price", "category")
#: ``kind_of_name`` is applied to the whole catalog once every row is read (:mod:`retrieval.kinds`).
_TRANSFORMS = ("title", "lower", "strip_brackets", "kind_of_name")
KIND_OF_NAME = "kind_of_name"
_FORMATS = ("csv", "json", "jsonl")


@dataclass(frozen=True)
class FieldSpec:
    """How one Product field is read from a source record."""

    columns: tuple[str, ...]
    item: int | None = None
    spec: tuple[str, ...] = ()
    split: str | None = None
    missing: frozenset[str] = frozenset()
    transform: str | None = None

    def extract(self, record: MappingABC[str, Any]) -> Any:
        """Return the field's raw value from a record, or ``None`` when absent.

        Args:
            record: one source row (CSV dict or JSON object).

        Returns:
            A string, number or list (for ``tags``); ``None`` where empty.
        """
        for column in self.columns:
            value = self._extract_one(record, column)
            if value not in (None, "", [], ()):
                return value
        return None

    def _extract_one(self, record: MappingABC[str, Any], column: str) -> Any:
        value = _lookup(record, column)
        if value is None:
            return None
        if self.split is not None and isinstance(value, str):
            value = [part.strip() for part in value.split(self.split) if part.strip()]
        if self.item is not None:
            items = _as_list(value)
            if items is None or not -len(items) <= self.item < len(items):
                return None
            value = items[self.item]
        if self.spec:
            value = _spec_value(value, self.spec)
            if value is None:
                return None
        if isinstance(value, str):
            value = value.strip()
            if value in self.missing:
                return None
            value = self._transform(value)
        elif isinstance(value, int | float) and not isinstance(value, bool) and str(value) in self.missing:
            return None
        return value

    def _transform(self, value: str) -> str:
        if self.transform == "title":
            return " ".join(w[:1].upper() + w[1:] for w in re.split(r"[\s_-]+", value) if w)
        if self.transform == "lower":
            return value.lower()
        if self.transform == "strip_brackets":
            return re.sub(r"\s*[\(\[].*?[\)\]]\s*", " ", value).strip()
        return value


@dataclass(frozen=True)
class CatalogMapping:
    """A whole mapping: source format, default currency and field specs."""

    fields: dict[str, FieldSpec]
    extra: dict[str, FieldSpec] = field(default_factory=dict)
    format: str | None = None
    records: str = ""
    currency: str = "USD"
    #: The shop's name for its page; empty: derived from the file name.
    shop_name: str = ""
    #: Attributes read from the title and description where a row has none
    #: (:data:`~retrieval.attributes.INFERABLE_ATTRIBUTES`); empty: none.
    infer: tuple[str, ...] = ()
    source: str = "<built-in>"
    #: A written mapping names columns on purpose, so each must exist; the
    #: native mapping names every field and only needs the required ones.
    all_columns_required: bool = True

    def missing_columns(self, present: Collection[str]) -> list[str]:
        """Columns the mapping needs that a file lacks (to check a CSV header).

        A field with fallbacks (``column = ["a", "b"]``) is satisfied by any of them.

        Args:
            present: the file's column names.

        Returns:
            The unsatisfied column names (each field's alternatives joined by
            ``" or "``), sorted; empty when the file fits.
        """
        specs = (
            [*self.fields.values(), *self.extra.values()]
            if self.all_columns_required
            else [self.fields[f] for f in REQUIRED_FIELDS]
        )
        missing = set()
        for spec in specs:
            roots = [c.split(".", 1)[0] for c in spec.columns]
            if not any(r in present for r in roots):
                missing.add(" or ".join(roots))
        return sorted(missing)

    @classmethod
    def native(cls) -> CatalogMapping:
        """The identity mapping for Shopkeeper's own JSONL/CSV format."""
        specs = {name: FieldSpec(columns=(name,)) for name in PRODUCT_FIELDS}
        return cls(fields=specs, source="<native>", all_columns_required=False)


def load_mapping(path: str | Path) -> CatalogMapping:
    """Read a TOML mapping file.

    Args:
        path: the ``.toml`` file.

    Returns:
        The parsed mapping.

    Raises:
        MappingError: when the file is missing, not TOML, lacks a required
            field, names an unknown field or transform, or has a bad option.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MappingError(f"mapping file not found: {str(path)!r}") from None
    except UnicodeDecodeError as exc:
        raise MappingError(f"{path}: not UTF-8 (byte {exc.object[exc.start]:#04x} at offset {exc.start}); "
                           "re-save the file as UTF-8") from None
    except OSError as exc:
        raise MappingError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"{path}: not valid TOML: {exc}") from exc
    return mapping_from_dict(data, source=str(path))


def mapping_from_dict(data: MappingABC[str, Any], source: str = "<dict>") -> CatalogMapping:
    """Build a mapping from already-parsed TOML data (see :func:`load_mapping`)."""
    unknown_keys = set(data) - {"format", "records", "currency", "shop_name", "infer", "fields", "extra"}
    if unknown_keys:
        raise MappingError(f"{source}: unknown top-level key(s) {sorted(unknown_keys)}")
    fmt = data.get("format")
    if fmt is not None and fmt not in _FORMATS:
        raise MappingError(f"{source}: format must be one of {_FORMATS}, not {fmt!r}")
    raw_fields = data.get("fields")
    if not isinstance(raw_fields, dict):
        raise MappingError(f"{source}: a [fields] table is required")
    unknown = set(raw_fields) - set(PRODUCT_FIELDS)
    if unknown:
        raise MappingError(
            f"{source}: unknown field(s) {sorted(unknown)}; known: {', '.join(PRODUCT_FIELDS)}"
        )
    missing = [f for f in REQUIRED_FIELDS if f not in raw_fields]
    if missing:
        raise MappingError(f"{source}: required field(s) not mapped: {missing}")
    fields = {name: _field_spec(name, spec, source) for name, spec in raw_fields.items()}
    extra_raw = data.get("extra", {})
    if not isinstance(extra_raw, dict):
        raise MappingError(f"{source}: [extra] must be a table")
    extra = {name: _field_spec(name, spec, source) for name, spec in extra_raw.items()}
    currency = data.get("currency", "USD")
    if not (isinstance(currency, str) and re.fullmatch(r"[A-Z]{3}", currency)):
        raise MappingError(f"{source}: currency must be an ISO code like 'USD', not {currency!r}")
    shop_name = data.get("shop_name", "")
    if not isinstance(shop_name, str) or len(shop_name) > 80:
        raise MappingError(f"{source}: shop_name must be a text of at most 80 characters, not {shop_name!r}")
    records = data.get("records", "")
    if not isinstance(records, str):
        raise MappingError(f"{source}: records must be a dotted path such as \"products\", not {records!r}")
    return CatalogMapping(
        fields=fields, extra=extra, format=fmt, records=records,
        currency=currency, shop_name=shop_name.strip(), infer=_infer(data, fields, source), source=source,
    )


def _infer(data: MappingABC[str, Any], fields: MappingABC[str, FieldSpec], source: str) -> tuple[str, ...]:
    """The attributes to read from the text: as listed, or by default those the mapping has no column for."""
    if "infer" not in data:
        return tuple(name for name in INFERABLE_ATTRIBUTES if name not in fields)
    listed = data["infer"]
    if not isinstance(listed, list) or not all(isinstance(name, str) for name in listed):
        raise MappingError(
            f"{source}: infer must be a list of attribute names such as [\"colour\", \"material\"], not {listed!r}"
        )
    unknown = sorted(set(listed) - set(INFERABLE_ATTRIBUTES))
    if unknown:
        raise MappingError(
            f"{source}: infer names {unknown}; only {', '.join(INFERABLE_ATTRIBUTES)} can be read from the text"
        )
    return tuple(name for name in INFERABLE_ATTRIBUTES if name in listed)


def _field_spec(name: str, raw: Any, source: str) -> FieldSpec:
    if isinstance(raw, str):
        return FieldSpec(columns=(raw,))
    if not isinstance(raw, dict):
        raise MappingError(f"{source}: field {name!r} must be a column name or a table, not {raw!r}")
    allowed = {"column", "item", "spec", "split", "missing", "transform"}
    bad = set(raw) - allowed
    if bad:
        raise MappingError(f"{source}: field {name!r} has unknown option(s) {sorted(bad)}")
    columns = _names(raw.get("column"))
    if not columns:
        raise MappingError(f"{source}: field {name!r} needs a column (a name or a list of names), "
                           f"not {raw.get('column')!r}")
    item = raw.get("item")
    if item is not None and (not isinstance(item, int) or isinstance(item, bool)):
        raise MappingError(f"{source}: field {name!r}: item must be an integer, not {item!r}")
    spec = _names(raw.get("spec", []))
    if spec is None:
        raise MappingError(f"{source}: field {name!r}: spec must be a key or a list of keys, not {raw['spec']!r}")
    split = raw.get("split")
    if split is not None and not (isinstance(split, str) and split):
        raise MappingError(f"{source}: field {name!r}: split must be a separator such as \"|\", not {split!r}")
    transform = raw.get("transform")
    if transform is not None and transform not in _TRANSFORMS:
        raise MappingError(
            f"{source}: field {name!r}: transform must be one of {_TRANSFORMS}, not {transform!r}"
        )
    missing = raw.get("missing", [])
    missing = [missing] if isinstance(missing, str) else missing
    if not isinstance(missing, list) or not all(isinstance(m, str | int | float) for m in missing):
        raise MappingError(f"{source}: field {name!r}: missing must be a list of cell values such as [\"0\", "
                           f"\"n/a\"], not {raw['missing']!r}")
    return FieldSpec(
        columns=columns, item=item, spec=spec, split=split,
        missing=frozenset(str(m) for m in missing), transform=transform,
    )


def _names(value: Any) -> tuple[str, ...] | None:
    """A name or a list of names as a tuple; ``None`` for anything else (an empty name included)."""
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        return None
    return tuple(names)


def _lookup(record: MappingABC[str, Any], path: str) -> Any:
    if path in record:
        return record[path]
    value: Any = record
    for part in path.split("."):
        if isinstance(value, MappingABC) and part in value:
            value = value[part]
        elif isinstance(value, list) and re.fullmatch(r"-?\d+", part):
            index = int(part)
            if not -len(value) <= index < len(value):
                return None
            value = value[index]
        else:
            return None
    return value


def _as_list(value: Any) -> list[Any] | None:
    if isinstance(value, list | tuple):
        return list(value)
    if not isinstance(value, str):
        return None
    parsed = _parse_literal(value)
    return list(parsed) if isinstance(parsed, list | tuple) else None


def _spec_value(value: Any, keys: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        value = _parse_literal(value)
    pairs: dict[str, Any] = {}
    if isinstance(value, dict):
        pairs = {str(k).casefold(): v for k, v in value.items()}
    elif isinstance(value, list | tuple):
        for entry in value:
            if isinstance(entry, dict) and "key" in entry and "value" in entry:
                pairs.setdefault(str(entry["key"]).casefold(), entry["value"])
    for key in keys:
        if key.casefold() in pairs:
            return pairs[key.casefold()]
    return None


def _parse_literal(text: str) -> Any:
    """Parse a JSON or Python literal cell (catalog exports use both)."""
    text = text.strip()
    if not text or text[0] not in "[{(":
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # brackets nested past the parser's depth are no list either
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


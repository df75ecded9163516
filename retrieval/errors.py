"""Named errors raised by the retrieval package.

The hierarchy::

    RetrievalError
    ├── CatalogError                 a catalog could not be read or is invalid
    │   ├── MappingError             a column-mapping file is wrong
    │   └── CatalogValidationError   rows failed validation (carries every RowError)
    ├── PriceError                   a text is not a price the parser understands (also a ValueError)
    ├── EncoderError                 the embedding model could not be loaded or used
    └── VectorIndexError             problems with the vector index
        ├── IndexNotBuiltError       no index at the given path
        └── IndexMismatchError       the saved index does not fit the catalog or model

Every message says what was wrong and with which value. An error that was a built-in
``ValueError`` before it joined the tree still is one, so older callers keep catching it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CatalogError",
    "CatalogValidationError",
    "EncoderError",
    "IndexMismatchError",
    "IndexNotBuiltError",
    "MappingError",
    "PriceError",
    "RetrievalError",
    "RowError",
    "VectorIndexError",
]


class RetrievalError(Exception):
    """Base class of every error raised by ``retrieval``."""


class CatalogError(RetrievalError):
    """A catalog file could not be read or is unusable as a whole."""


class MappingError(CatalogError):
    """A column-mapping file is missing, malformed or refers to unknown fields."""


@dataclass(frozen=True)
class RowError:
    """One problem found in one row of a catalog file.

    Attributes:
        row: 1-based row number as a person counts it (the CSV header is row 1,
            so the first product is row 2; JSON and JSONL count products from 1).
        field: the catalog field (or source column) that was wrong.
        value: the offending value, shortened for display.
        message: what was wrong with it.
    """

    row: int
    field: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, field {self.field!r}: {self.message} (value: {self.value!r})"


class CatalogValidationError(CatalogError):
    """Raised in strict mode when one or more rows are invalid."""

    def __init__(self, source: str, errors: list[RowError]) -> None:
        self.source = source
        self.errors = errors
        shown = "\n  ".join(str(e) for e in errors[:20])
        more = f"\n  … and {len(errors) - 20} more" if len(errors) > 20 else ""
        super().__init__(f"{source}: {len(errors)} invalid row(s):\n  {shown}{more}")


class PriceError(RetrievalError, ValueError):
    """The text is not a price this parser understands (see :func:`retrieval.prices.parse_price`)."""


class EncoderError(RetrievalError):
    """The embedding model could not be found, loaded or run."""


class VectorIndexError(RetrievalError):
    """Base class for problems with the vector index."""


class IndexNotBuiltError(VectorIndexError):
    """No saved index exists where one was expected."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"no vector index at {path!r}; build it with `shopkeeper index build`"
        )


class IndexMismatchError(VectorIndexError):
    """A saved index was built for another model, dimension or catalog."""

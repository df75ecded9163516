"""The catalog's vocabulary: categories and attribute values, and how customers say them.

Used twice: to generate the NLU lookup tables and synonyms
(``shopkeeper nlu lookups``), so that importing another catalog teaches the
assistant its words; and by the dialogue to map an answer ("a couple of
sofas", "gray") to a value the catalog really has.

>>> from retrieval.catalog import Catalog, Product
>>> vocab = CatalogVocabulary(Catalog([Product("a", "Oak desk", 1.0, "USD", "Office Chairs", colour="grey")]))
>>> vocab.match("category", "i need an office chair")
'Office Chairs'
>>> vocab.match("colour", "GREY please")
'grey'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import yaml

from retrieval.catalog import Catalog

__all__ = ["LOOKUP_ATTRIBUTES", "CatalogVocabulary", "read_nlu_synonyms", "singular_phrase", "variants"]

#: What gets a lookup table in the NLU data.
LOOKUP_ATTRIBUTES: tuple[str, ...] = ("category", "colour", "material", "style", "brand")
_WORD = re.compile(r"[\w'-]+")


def _singular(word: str) -> str:
    for suffix, replacement in (("ies", "y"), ("ches", "ch"), ("shes", "sh"), ("xes", "x"), ("sses", "ss")):
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            return word[: -len(suffix)] + replacement
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        return word[:-1]
    return word


def _plural(word: str) -> str:
    if word.endswith(("s", "x", "ch", "sh")):
        return word + "es"
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


def singular_phrase(value: str) -> str:
    """A category as one item, lower case: ``"Office Chairs"`` → ``"office chair"``."""
    head, _, last = " ".join(value.lower().split()).rpartition(" ")
    return f"{head} {_singular(last)}".strip()


def variants(value: str, *, inflect: bool = True) -> set[str]:
    """Lower-case ways of writing a value.

    The value itself and, with ``inflect``, the singular and plural of its last word
    (for categories; colours have no plural worth teaching).

    >>> sorted(variants("Office Chairs"))
    ['office chair', 'office chairs']
    """
    text = " ".join(value.lower().split())
    if not inflect:
        return {text} if text else set()
    head, _, last = text.rpartition(" ")
    forms = {text}
    for form in (_singular(last), _plural(_singular(last))):
        forms.add(f"{head} {form}".strip())
    return {f for f in forms if f}


class CatalogVocabulary:
    """Categories and attribute values of one catalog, with their spoken variants.

    Args:
        catalog: the products.
        synonyms: extra ``text → value`` pairs (the NLU data's synonyms), used
            when the value is one the catalog has.
    """

    def __init__(self, catalog: Catalog, synonyms: Mapping[str, str] | None = None) -> None:
        self.values: dict[str, list[str]] = {"category": catalog.categories()}
        for name in ("colour", "material", "style", "brand", "use"):
            self.values[name] = catalog.attribute_values(name)
        self._index: dict[str, dict[str, str]] = {
            name: {form: value for value in values for form in variants(value, inflect=name == "category")}
            for name, values in self.values.items()
        }
        for text, value in (synonyms or {}).items():
            for name, values in self.values.items():
                canonical = next((v for v in values if v.casefold() == value.casefold()), None)
                if canonical is not None:
                    for form in variants(text, inflect=name == "category"):
                        self._index[name].setdefault(form, canonical)

    def match(self, attribute: str, text: str) -> str | None:
        """The catalog value of ``attribute`` that the text names, or ``None``.

        The longest match wins ("office chair" over "chair"); matching is on
        whole words, case-insensitive, singular or plural.
        """
        index = self._index.get(attribute, {})
        words = [w.lower() for w in _WORD.findall(text)]
        best: tuple[int, str] | None = None
        for size in range(min(5, len(words)), 0, -1):
            for start in range(len(words) - size + 1):
                phrase = " ".join(words[start : start + size])
                value = index.get(phrase)
                if value is not None and (best is None or size > best[0]):
                    best = (size, value)
            if best is not None:
                return best[1]
        return None

    def lookup_tables(self) -> dict[str, list[str]]:
        """Lookup-table entries per attribute: every value in every variant, sorted."""
        return {
            name: sorted({form for value in self.values[name] for form in variants(value, inflect=name == "category")})
            for name in LOOKUP_ATTRIBUTES
            if self.values.get(name)
        }

    def synonyms(self) -> dict[str, list[str]]:
        """Canonical value → the variants that differ from it (for the EntitySynonymMapper)."""
        result: dict[str, list[str]] = {}
        for name in LOOKUP_ATTRIBUTES:
            for value in self.values.get(name, []):
                others = sorted(form for form in variants(value, inflect=name == "category") if form != value)
                if others:
                    result.setdefault(value, [])
                    result[value] = sorted(set(result[value]) | set(others))
        return result

    def nlu_yaml(self, source: str, exclude_synonym_texts: Iterable[str] = ()) -> str:
        """Rasa NLU YAML with the lookup tables and synonyms.

        Args:
            source: the catalog path, named in the file's header.
            exclude_synonym_texts: synonym texts already defined elsewhere in the
                training data (Rasa refuses one text mapped to two values).
        """
        taken = {t.lower() for t in exclude_synonym_texts}
        lines = [
            "# Generated from the catalog by `shopkeeper nlu lookups`; do not edit by hand.",
            f"# Source: {source}",
            'version: "3.1"',
            "",
            "nlu:",
        ]
        for name, entries in self.lookup_tables().items():
            lines.append(f"  - lookup: {name}")
            lines.append("    examples: |")
            lines += [f"      - {_yaml_text(e)}" for e in entries]
        for value, forms in sorted(self.synonyms().items()):
            forms = [f for f in forms if f not in taken]
            if not forms:
                continue
            lines.append(f"  - synonym: {_yaml_scalar(value)}")
            lines.append("    examples: |")
            lines += [f"      - {_yaml_text(f)}" for f in forms]
        return "\n".join(lines) + "\n"


def read_nlu_synonyms(paths: Iterable[Path]) -> dict[str, str]:
    """``text → value`` from the ``synonym`` blocks of Rasa NLU YAML files.

    Inline synonyms (``[gray]{"entity": "colour", "value": "grey"}``) are read too.
    Unreadable files are skipped: synonyms only widen matching.
    """
    found: dict[str, str] = {}
    for path in paths:
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        for block in document.get("nlu", []) or []:
            if not isinstance(block, dict):
                continue
            if "synonym" in block:
                for line in str(block.get("examples", "")).splitlines():
                    text = line.strip().removeprefix("- ").strip()
                    if text:
                        found[text.lower()] = str(block["synonym"])
            for match in _INLINE_SYNONYM.finditer(str(block.get("examples", ""))):
                found[match.group(1).lower()] = match.group(2)
    return found


_INLINE_SYNONYM = re.compile(r'\[([^\]]+)\]\{[^}]*"value":\s*"([^"]+)"[^}]*\}')


def _yaml_scalar(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _yaml_text(value: str) -> str:
    # Inside a block scalar only line breaks matter.
    return " ".join(value.split())

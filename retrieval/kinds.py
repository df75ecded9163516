"""The kind of product a name ends with, for catalogs that have no category column.

Shops such as Myntra put the kind only in the product's name, after the brand, the gender, the colour
and the cut: "DKNY Unisex Black & Grey Printed Medium Trolley Bag", "Roadster Men Navy Solid Casual Shirt",
"Kurta with Palazzos & Dupatta". English product names are head-final: the kind is the last noun of the
name's head phrase, the part before a connector that adds what comes with it or whom it is for (" with ",
" for ", " - ", a bracket, a comma). A plural and its singular are one kind, named as most names say it.
Which word that is follows from the catalog itself rather than from a list of kinds: a word is a kind when
many names of the catalog end their head phrase with it (``MIN_KIND_NAMES``); a name whose head
ends with a style code, a quantity or a model's name ("Bras Afreen", "Eau de Parfum 100 ml", "Watch NT-98")
takes the rightmost word that is a kind elsewhere in the catalog.

Two closed sets are written by hand, as ARCHITECTURE.md records: the connectors above and the units of a
quantity (``ml``, ``g``...), which say how much, never what.

>>> kinds_from_names(["Roadster Men Navy Casual Shirt", "HRX Men Black Shirt", "Nike Men Shirt Afreen",
...                   "Puma Women Pink Sneakers", "Red Tape Men Sneakers", "Mast Sneakers with Laces"],
...                  min_names=2)
['Shirt', 'Shirt', 'Shirt', 'Sneakers', 'Sneakers', 'Sneakers']
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Sequence

__all__ = ["MIN_KIND_NAMES", "head_words", "kinds_from_names"]

#: A word ends this many names' head phrases before it counts as a kind of product of the catalog.
MIN_KIND_NAMES = 5
#: Where a name's head phrase ends: what follows adds parts or details ("Kurta with Palazzos", "Perfume - 100 ml").
_CONNECTOR = re.compile(r"\s+(?:with|for|-|–|—|\+)\s+|\s*[(\[|,;/]")
#: Units of a quantity: they say how much of the thing, never what it is.
_UNITS = frozenset(("ml", "l", "ltr", "g", "gm", "gms", "kg", "cm", "mm", "m", "oz", "inch", "inches", "pcs", "pc"))
_WORD = re.compile(r"^[^\W\d_][\w'-]*[^\W\d_]$|^[^\W\d_]$")


def head_words(name: str) -> list[str]:
    """The words of a name's head phrase that could name a kind: alphabetic, no code, no unit.

    >>> head_words("Eau de Parfum - 100 ml"), head_words("Set of 2 Door Curtains (213 cm)")
    (['Eau', 'de', 'Parfum'], ['Set', 'of', 'Door', 'Curtains'])
    """
    head = _CONNECTOR.split(name, maxsplit=1)[0]
    return [w for w in head.split() if _WORD.match(w) and w.lower() not in _UNITS and not any(c.isdigit() for c in w)]


def _kind_name(word: str) -> str:
    return word[:1].upper() + word[1:].lower()


def kinds_from_names(names: Sequence[str], *, min_names: int = MIN_KIND_NAMES,
                     not_kinds: Collection[str] = ()) -> list[str]:
    """The kind of each name, as a category: the rightmost word of its head phrase that is a kind of the catalog.

    Args:
        names: every product name of the catalog, in order.
        min_names: how many names must end their head phrase with a word before it is a kind.
        not_kinds: words that are never a kind, whatever the names say: the catalog's own values of an
            attribute such as colour ("DODO & MOA Pink" names a pink bag, not a kind called Pink).

    >>> kinds_from_names(["Moa Pink", "Dodo Pink", "Lumo Bag Pink", "Roadster Bag", "Nike Bag"], min_names=2,
    ...                  not_kinds={"pink"})
    ['Moa', 'Dodo', 'Bag', 'Bag', 'Bag']

    Returns:
        One category per name, the word capitalised ("T-shirt", "Jeans"); the head phrase's last word when
        none of its words is a kind of the catalog, and the name's last word when its head has no word at all.
    """
    excluded = {w.lower() for w in not_kinds}
    heads = [[w for w in head_words(name) if w.lower() not in excluded] for name in names]
    ends = Counter(h[-1].lower() for h in heads if h)
    kinds: list[str] = []
    for name, head in zip(names, heads, strict=True):
        known = [w for w in head if ends[w.lower()] >= min_names]
        if known:
            kinds.append(_kind_name(known[-1]))
        elif head:
            kinds.append(_kind_name(head[-1]))
        else:
            kinds.append(_kind_name(name.split()[-1]) if name.split() else name)
    return _one_number(kinds)


def _one_number(kinds: list[str]) -> list[str]:
    """Each kind named as most of its names say it, singular or plural ("Curtain" and "Curtains" are one).

    >>> _one_number(["Curtains", "Curtains", "Curtain", "Dress", "Dresses", "Dresses", "T-shirt", "T-shirt", "Tshirt"])
    ['Curtains', 'Curtains', 'Curtains', 'Dresses', 'Dresses', 'Dresses', 'T-shirt', 'T-shirt', 'T-shirt']
    """
    counts = Counter(kinds)
    spellings: dict[str, list[str]] = {}
    for kind in counts:  # "T-shirt" and "Tshirt" are one word
        spellings.setdefault(kind.lower().replace("-", ""), []).append(kind)
    chosen: dict[str, str] = {}
    for kind in counts:
        key = kind.lower().replace("-", "")
        forms = [f for k in (key, key + "s", key + "es", key[:-1], key[:-2]) for f in spellings.get(k, ())]
        chosen[kind] = max(forms, key=lambda f: (counts[f], f))
    return [chosen[k] for k in kinds]

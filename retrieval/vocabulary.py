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
>>> vocab.match("category", "an office chiar")
'Office Chairs'
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import process
from rapidfuzz.distance import OSA

from retrieval.audience import suits
from retrieval.catalog import Catalog, Product
from retrieval.contract import ATTRIBUTES, AUDIENCE, NAMED_ATTRIBUTES

__all__ = [
    "LOOKUP_ATTRIBUTES",
    "VALUE_FAMILIES",
    "CatalogVocabulary",
    "read_nlu_examples",
    "read_nlu_synonyms",
    "singular_phrase",
    "value_key",
    "value_matches",
    "variants",
]

#: What gets a lookup table in the NLU data: the categories and every attribute but the use, whose values are
#: loosely worded phrases ("for a small flat") rather than names a lookup table could match.
LOOKUP_ATTRIBUTES: tuple[str, ...] = ("category", *NAMED_ATTRIBUTES)
#: ``Product.extra`` keys holding deeper levels of a category tree ("Rings" under "Jewellery").
SUBCATEGORY_KEYS: tuple[str, ...] = ("subcategory", "subcategory2", "product_type", "type")
#: A title word names a category when at least this many items carry it…
TITLE_WORD_MIN_ITEMS = 3
#: …and at least this share of them are in that one category.
TITLE_WORD_MIN_SHARE = 0.8
_WORD = re.compile(r"[\w'-]+")
#: A word and the number right after it: "iPhone 13", "Levi's 501", "Xbox 360".
_MODEL_NUMBER = re.compile(r"\b([^\W\d_][\w'-]*)\s+(\d+)\b")
#: Text safe inside a ``[text](entity)`` annotation.
_ANNOTATABLE = re.compile(r"[a-z][a-z' -]*[a-z]")
_POSSESSIVE = re.compile(r"['’]s\b")
_PERCENT = re.compile(r"\b\d+(?:\.\d+)?\s*%\s*")
_LIST_SEPARATOR = re.compile(r"\s*(?:,|/|;|\band\b|&)\s*")
#: Words too common in product titles to name a category on their own.
#: Words of a request that are spelled right whatever the catalog says: "show" is not a typo of "shoe".
_PLAIN_WORDS = frozenset((
    "show", "just", "want", "need", "like", "look", "looking", "some", "something", "anything", "please", "thanks",
    "what", "when", "where", "which", "have", "give", "find", "help", "make", "more", "less", "much", "very",
    "really", "also", "only", "maybe", "mind", "care", "sure", "okay", "fine", "good", "nice", "cool", "thing",
    "stuff", "else", "other", "again", "there", "here", "them", "they", "this", "that", "these", "those", "with",
    "from", "your", "mine", "cheap", "cheaper", "price", "budget", "under", "over", "about", "around",
))
#: An English word is taken for a typo of a catalog word only when that word is this many times as common in
#: English: "acton figures" are action figures (action 124 times as common), but a "budding scientist" wants no
#: bedding (10 times) and "sneakers" are not speakers (20 times). About the odds of a typo on a word in a
#: noisy-channel speller, and what keeps a real word from being corrected into another real word.
REAL_WORD_RATIO = 50.0


@functools.cache
def english_counts() -> dict[str, int]:
    """How often each of 82,765 English words occurs (Google Books counts, the dictionary symspellpy ships)."""
    text = resources.files("symspellpy").joinpath("frequency_dictionary_en_82_765.txt").read_text(encoding="utf-8")
    counts: dict[str, int] = {}
    for line in text.splitlines():
        word, _, count = line.partition(" ")
        if count.isdigit():
            counts[word] = int(count)
    return counts


def is_real_word_for(word: str, correction: str) -> bool:
    """Whether ``word`` is an English word that is not a slip for ``correction`` (see :data:`REAL_WORD_RATIO`).

    >>> is_real_word_for("budding", "bedding"), is_real_word_for("acton", "action"), is_real_word_for("sofaa", "sofa")
    (True, False, False)
    """
    counts = english_counts()
    typed = counts.get(word.lower(), 0)
    return typed > 0 and counts.get(correction.lower(), 0) < REAL_WORD_RATIO * typed


#: Everyday words for a family of attribute values: "wooden" is oak, walnut or pine, whichever the catalog
#: has; "dark colours" black, charcoal, navy. Each family lists what it covers; a catalog value is covered
#: when one of these (or the family word itself: "Dark Brown") is among its words.
VALUE_FAMILIES: dict[str, dict[str, tuple[str, ...]]] = {
    "material": {
        "wooden": ("wood", "wooden", "solid wood", "oak", "walnut", "pine", "teak", "beech", "birch", "ash",
                   "maple", "mango", "acacia", "sheesham", "rosewood", "mahogany", "cherry", "bamboo", "plywood",
                   "timber", "engineered wood", "rubberwood"),
        "metal": ("metal", "metallic", "steel", "stainless steel", "iron", "cast iron", "aluminium", "aluminum",
                  "brass", "copper", "chrome", "zinc", "alloy", "bronze", "titanium", "tin"),
        "fabric": ("fabric", "cotton", "linen", "velvet", "wool", "bouclé", "boucle", "polyester", "nylon",
                   "canvas", "jute", "knit", "silk", "denim", "chenille", "tweed", "felt", "microfiber", "fleece",
                   "satin", "rayon", "viscose", "georgette", "chiffon", "crepe"),
    },
    "colour": {
        "dark": ("black", "charcoal", "navy", "dark grey", "dark blue", "dark green", "dark brown", "espresso",
                 "maroon", "burgundy", "chocolate", "wine"),
        "light": ("white", "cream", "ivory", "beige", "off-white", "sand", "natural", "light grey", "light blue",
                  "light pink", "pastel"),
        "neutral": ("beige", "cream", "ivory", "white", "off-white", "grey", "sand", "natural", "tan", "taupe",
                    "stone", "oatmeal"),
        "bright": ("red", "yellow", "orange", "pink", "mustard", "teal", "turquoise", "lime", "fuchsia", "magenta",
                   "neon", "multicolour"),
        "pastel": ("blush", "sage", "mint", "lavender", "lilac", "peach", "baby blue", "light pink", "pastel"),
    },
}
#: How customers say each family (lower case) → the family.
_FAMILY_WORDS: dict[str, dict[str, str]] = {
    "material": {"wooden": "wooden", "wood": "wooden", "timber": "wooden", "metal": "metal",
                 "metallic": "metal", "fabric": "fabric", "upholstered": "fabric", "cloth": "fabric"},
    "colour": {"dark": "dark", "darker": "dark", "light": "light", "lighter": "light", "pale": "light",
               "neutral": "neutral", "neutrals": "neutral", "bright": "bright", "brighter": "bright",
               "colourful": "bright", "colorful": "bright", "pastel": "pastel", "pastels": "pastel"},
}
#: Family words that mean other things too ("a desk light", "glow in the dark"): taken only beside a word
#: of colour ("light colours", "something dark-toned") or as the answer to the colour question.
_AMBIGUOUS_FAMILY_WORDS = frozenset({"dark", "darker", "light", "lighter", "bright", "brighter", "pale"})
_COLOUR_CUE = r"(?:colou?rs?|colou?red|tones?|toned|hues?|shades of)"
_TITLE_STOPWORDS = frozenset({
    "for", "with", "and", "the", "set", "pack", "of", "in", "on", "by", "to", "from", "new", "combo", "piece",
    "pcs", "free", "size", "women", "men", "girl", "boy", "kid", "baby", "unisex", "plus", "inch", "cm", "mm",
    "ml", "need", "needs", "other", "general", "personal", "festive", "care", "accessories", "accessory",
    "item", "items", "thing", "things", "product", "products"
})


def value_key(value: str) -> str:
    """A comparable form of an attribute value, so that spellings of one value group together.

    Lower case, possessives and percentages dropped, list parts sorted:
    ``"Women's"`` and ``"Women"`` → ``"women"``; ``"Men, Boys"`` and ``"Boys and Men"`` →
    ``"boys, men"``; ``"100% Cotton"`` → ``"cotton"``.

    >>> value_key("Boys and Men's")
    'boys, men'
    """
    text = _PERCENT.sub(" ", _POSSESSIVE.sub("", value.casefold()))
    parts = {" ".join(part.split()) for part in _LIST_SEPARATOR.split(text)}
    return ", ".join(sorted(p for p in parts if p))


#: Wished values whose covered catalog values are remembered, at most.
_MAX_COVERED = 4096


def value_matches(wanted: str, value: str) -> bool:
    """Whether an item's attribute value satisfies a wish, on whole words.

    ``"men"`` matches ``"Men, Boys"`` but not ``"Women's"``; ``"cotton"`` matches
    ``"100% Cotton"``.

    >>> value_matches("men", "Women's"), value_matches("men", "Boys, Men"), value_matches("Cotton", "100% cotton")
    (False, True, True)
    """
    needle = " ".join(_WORD.findall(_POSSESSIVE.sub("", wanted.casefold())))
    haystack = " ".join(_WORD.findall(_POSSESSIVE.sub("", value.casefold())))
    return bool(needle) and f" {needle} " in f" {haystack} "


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
    # "Games & Accessories" is also matched as the words a message splits into ("games accessories")
    # and as "games and accessories".
    spellings = {text, " ".join(_WORD.findall(text)), " ".join(_WORD.findall(text.replace("&", " and ")))}
    spellings = {s for s in spellings if s}
    if not inflect:
        return spellings
    forms = set(spellings)
    for spelling in spellings:
        head, _, last = spelling.rpartition(" ")
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
        for name in ATTRIBUTES:
            self.values[name] = catalog.attribute_values(name)
        #: Whom the items are for, in the catalog's words (read by :mod:`retrieval.audience`, never matched by name).
        self.audiences: list[str] = catalog.attribute_values(AUDIENCE)
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
        #: Per attribute, each everyday family word's catalog values ("wooden" → oak, pine), when it has any.
        self.families: dict[str, dict[str, frozenset[str]]] = {
            name: {family: covered for family, members in families.items()
                   if (covered := frozenset(v for v in self.values.get(name, [])
                                            if any(value_matches(m, v) for m in (family, *members))))}
            for name, families in VALUE_FAMILIES.items()
        }
        self._catalog = catalog
        self._single_words: dict[str, list[str]] = {}
        self._known_words: frozenset[str] | None = None
        self._model_numbers: frozenset[str] | None = None
        self._words_by_letter: dict[str, list[str]] = {}
        self._covered: dict[tuple[str, str], frozenset[str]] = {}
        #: Which products (positions) use each word, in either number: for telling equally close corrections apart.
        self._products_of: dict[str, frozenset[int]] = {}
        self.category_counts: dict[str, int] = dict(Counter(p.category for p in catalog))
        #: Words that name a category without being its name, most reliable first: deeper levels
        #: of the category tree ("rings" → "Jewellery"), then title words ("dress" → "Clothing").
        self.category_aliases: list[dict[str, str]] = [
            self._subcategory_aliases(catalog), self._name_word_aliases(), self._title_word_aliases(catalog)
        ]

    def _name_word_aliases(self) -> dict[str, str]:
        """Each word of a many-word category name that no other category uses ("wallet" → "Bags Wallets Belts")."""
        owners: dict[str, set[str]] = {}
        # One-off categories (often a product name in a bare category tree) name nothing else.
        categories = [c for c in self.values["category"] if self.category_counts[c] >= TITLE_WORD_MIN_ITEMS]
        for category in categories:
            words = _WORD.findall(category.casefold())
            if len(words) < 2:
                continue
            for word in words:
                if len(word) >= 3 and word.isalpha() and word not in _TITLE_STOPWORDS:
                    for form in variants(word):
                        owners.setdefault(form, set()).add(category)
        for category in categories:
            for word in _WORD.findall(category.casefold()):
                for form in variants(word):
                    owners.setdefault(form, set()).add(category)
        return {form: next(iter(names)) for form, names in owners.items()
                if len(names) == 1 and form not in self._index["category"]}

    def _subcategory_aliases(self, catalog: Catalog) -> dict[str, str]:
        votes: dict[str, Counter[str]] = {}
        for product in catalog:
            for key in SUBCATEGORY_KEYS:
                detail = product.extra.get(key)
                if detail:
                    for form in variants(detail):
                        votes.setdefault(form, Counter())[product.category] += 1
        return {form: counts.most_common(1)[0][0] for form, counts in votes.items()
                if form not in self._index["category"]}

    def _title_word_aliases(self, catalog: Catalog) -> dict[str, str]:
        described = {form for name in ATTRIBUTES
                     for value in self.values[name] for form in variants(value.casefold(), inflect=False)}
        described |= {w for name in ("colour", "material")
                      for value in self.values[name] for w in _WORD.findall(value.casefold())}
        votes: dict[str, Counter[str]] = {}
        for product in catalog:
            if self.category_counts[product.category] < TITLE_WORD_MIN_ITEMS:
                continue  # a one-off "category" (often a product name in a bare category tree) has no say
            words = {_singular(w) for w in _WORD.findall(product.title.casefold())}
            for word in words:
                if len(word) < 3 or not word.isalpha() or word in _TITLE_STOPWORDS or word in described:
                    continue
                votes.setdefault(word, Counter())[product.category] += 1
        aliases: dict[str, str] = {}
        for word, counts in votes.items():
            category, count = counts.most_common(1)[0]
            total = sum(counts.values())
            if count >= TITLE_WORD_MIN_ITEMS and count / total >= TITLE_WORD_MIN_SHARE:
                for form in variants(word):
                    if form not in self._index["category"]:
                        aliases.setdefault(form, category)
        return aliases

    def popular_values(self, attribute: str, limit: int, products: Iterable[Product] | None = None) -> list[str]:
        """The commonest values of an attribute, spellings of one value counted together.

        Each value is shown as its commonest spelling ("Women" and "Women's" are one
        value); ``products`` restricts the count to some items (the candidates).
        """
        source = self._catalog if products is None else products
        spellings: dict[str, Counter[str]] = {}
        for product in source:
            value = product.category if attribute == "category" else product.attribute(attribute)
            if value and (key := value_key(value)):
                spellings.setdefault(key, Counter())[value] += 1
        ranked = sorted(spellings.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        return [counts.most_common(1)[0][0] for _, counts in ranked[:limit]]

    def popular_categories(self, limit: int) -> list[str]:
        """The ``limit`` categories with most items, in alphabetical order (all of them when few)."""
        ranked = sorted(self.category_counts, key=lambda c: (-self.category_counts[c], c.casefold()))
        return sorted(ranked[:limit], key=str.casefold)

    def match(self, attribute: str, text: str) -> str | None:
        """The catalog value of ``attribute`` that the text names, or ``None``.

        The longest match wins ("office chair" over "chair"); matching is on
        whole words, case-insensitive, singular or plural. A category is also
        recognised, when no category name is in the text, by a deeper level of
        the catalog's category tree or a title word that only that category
        uses ("a ring" → "Jewellery" on a catalog whose categories are broad).
        """
        return self.match_how(attribute, text)[0]

    def match_how(self, attribute: str, text: str, *, answer: bool = False) -> tuple[str | None, str]:
        """:meth:`match`, and how the value was found (``"name"``, ``"alias"`` or ``"family"``).

        ``"name"``: the value, a synonym or a deeper level of the category tree. ``"alias"``: a word
        of a many-word category name, or a title word ("building" of "Building Toys" in "a deck
        building game") — worth checking against the catalog. ``"family"``: an everyday word for
        several of the catalog's values ("wooden", "dark colours"); :meth:`covers` lists them.
        ``answer``: the text answers a question about ``attribute``, so "dark" alone is a colour.
        """
        words = [w.lower() for w in _WORD.findall(text)]
        family = self._family(attribute, words, text, answer=answer)
        if family is not None:
            exact = self._longest(self._index.get(attribute, {}), words)
            # A value named outright wins ("dark grey" is charcoal), unless it is the family word itself:
            # "metal" on a catalog with aluminium and brass means all three.
            if exact is None or exact.casefold() in _FAMILY_WORDS[attribute]:
                return family, "family"
        indexes = [self._index.get(attribute, {})]
        if attribute == "category":
            indexes += self.category_aliases
        for candidate in (words, [self._corrected(attribute, w) for w in words]):
            if candidate is not words and candidate == words:
                break
            for tier, index in enumerate(indexes):
                found = self._longest(index, candidate)
                if found is not None:
                    return found, "name" if tier < 2 else "alias"
        return None, ""

    def covers(self, attribute: str, value: str) -> frozenset[str]:
        """The catalog values a wished value stands for: a family's members, else every value holding its words.

        "leather" stands for "Genuine Leather" and "Leather Strap" too, as :func:`value_matches` reads them:
        a catalog's free-text specifications seldom repeat the customer's word alone.

        >>> from retrieval.catalog import Catalog, Product
        >>> shop = Catalog([Product(str(i), "Desk", 1.0, "USD", "Desks", material=m)
        ...                 for i, m in enumerate(("oak", "Walnut", "glass"))])
        >>> vocab = CatalogVocabulary(shop)
        >>> vocab.match_how("material", "a wooden desk")
        ('wooden', 'family')
        >>> sorted(vocab.covers("material", "wooden")), sorted(vocab.covers("material", "glass"))
        (['Walnut', 'oak'], ['glass'])
        >>> straps = CatalogVocabulary(Catalog([Product(str(i), "Watch", 1.0, "USD", "Watches", material=m)
        ...                                     for i, m in enumerate(("Leather Strap", "genuine leather", "Steel"))]))
        >>> sorted(straps.covers("material", "leather"))
        ['Leather Strap', 'genuine leather', 'leather']
        """
        if attribute == AUDIENCE:  # "men": the catalog's "Men", "Men, Boys" and "Unisex"
            return frozenset(v for v in self.audiences if suits(value, v))
        family = self.families.get(attribute, {}).get(value)
        if family:
            return family
        key = (attribute, value)
        if key not in self._covered:  # asked for each wish and ruled-out word of every turn (~1 ms on 677 brands)
            if len(self._covered) >= _MAX_COVERED:  # customers' words are unbounded: so is nothing kept for them
                self._covered.clear()
            self._covered[key] = frozenset({value, *(v for v in self.values.get(attribute, ())
                                                     if value_matches(value, v))})
        return self._covered[key]

    def family_of(self, word: str) -> tuple[str, frozenset[str]] | None:
        """The attribute and catalog values an everyday family word covers ("wooden"), if the catalog has any."""
        for attribute, words in _FAMILY_WORDS.items():
            family = words.get(word.casefold())
            if family is not None and family in self.families.get(attribute, {}):
                return attribute, self.families[attribute][family]
        return None

    def _family(self, attribute: str, words: list[str], text: str, *, answer: bool) -> str | None:
        spoken = _FAMILY_WORDS.get(attribute, {})
        for word in words:
            family = spoken.get(word)
            if family is None or family not in self.families.get(attribute, {}):
                continue
            # "light colours", "dark-toned": the word of colour right after it ("a linen shade" is a lampshade)
            beside = re.search(rf"\b{word}[\s-]+{_COLOUR_CUE}\b", text, re.IGNORECASE)
            if word in _AMBIGUOUS_FAMILY_WORDS and not (answer or beside):
                continue
            return family
        return None

    def uses(self, word: str) -> bool:
        """Whether the word (or its singular or plural) is one the catalog's titles, tags, categories or values use."""
        known = self._catalog_words()
        lower = word.lower()
        return lower in known or _singular(lower) in known or _plural(lower) in known

    def without_model_numbers(self, text: str) -> str:
        """The text without the numbers that, with the word before them, name products in the titles.

        "iphnoe 13 pro" and "levis 501 under 3000" speak of an iPhone 13 and Levi's 501s, not of a
        budget of 13 or 501: a number stays money unless the catalog's titles have it right after the
        same word (misspellings read as the catalog's).

        >>> from retrieval.catalog import Catalog, Product
        >>> vocab = CatalogVocabulary(Catalog([Product("a", "iPhone 13 Pro", 999.0, "USD", "Smartphones"),
        ...                                    Product("b", "iPhone 9", 399.0, "USD", "Smartphones")]))
        >>> vocab.without_model_numbers("iphnoe 13 pro under 1000"), vocab.without_model_numbers("a phone for 13")
        ('iphnoe pro under 1000', 'a phone for 13')
        """
        if self._model_numbers is None:
            self._model_numbers = frozenset(f"{w.lower()} {n}" for p in self._catalog
                                            for w, n in _MODEL_NUMBER.findall(p.title))
        models = self._model_numbers
        if not models:
            return text

        def unnamed(match: re.Match[str]) -> str:
            word, number = match.group(1), match.group(2)
            return word if f"{self.spelled(word).lower()} {number}" in models else match.group(0)

        return _MODEL_NUMBER.sub(unnamed, text)

    def spelled(self, text: str) -> str:
        """The text with each word the catalog never uses replaced by the catalog word it is a typo of.

        "acton figures" → "action figures", "stikers for kids" → "stickers for kids": for searching
        the catalog, where a misspelt word matches nothing. Known words, short words and words with
        no close catalog word stay as they are, and so do English words that are no likely slip for it
        (:func:`is_real_word_for`: "budding" is not "bedding"); the rules of closeness are :meth:`_corrected`'s,
        against every word of the titles, tags, categories and attribute values used at least twice, or once
        when it is an English word.
        """
        known = self._catalog_words()
        out = []
        for word in _WORD.findall(text):
            lower = word.lower()
            if lower in known or len(lower) < 4 or not lower.isalpha() or lower in _PLAIN_WORDS:
                out.append(word)
                continue
            best = self._likeliest_slip(lower, [w.lower() for w in _WORD.findall(text) if w.lower() != lower])
            if best is None and lower not in english_counts():
                best = self._run_on(lower, known)  # "playdoh" is Play-Doh, "legoset" a Lego set
            out.append(best if best is not None and not is_real_word_for(lower, best) else word)
        return " ".join(out)

    def _likeliest_slip(self, word: str, context: Sequence[str]) -> str | None:
        """The catalog word closest to ``word`` (see :meth:`spelled`), or ``None``.

        Among equally close ones, the one the catalog's products name beside the message's other words,
        then the more frequent: "magic trik set" is one edit from both "trick" and "trek" in a toy shop,
        and the magic sets say trick.
        """
        limit = 1 if len(word) < 8 else 2
        candidates = [w for w in self._words_by_letter.get(word[0], ()) if abs(len(w) - len(word)) <= limit]
        found = process.extract(word, candidates, scorer=OSA.distance, score_cutoff=limit, limit=None)
        if not found:
            return None
        nearest = min(score for _, score, _ in found)
        tied = [str(choice) for choice, score, _ in found if score == nearest]
        if len(tied) == 1:
            return tied[0]
        beside = [self._products_of.get(w, frozenset()) for w in context if len(w) >= 3 and w not in _PLAIN_WORDS]

        def likelihood(candidate: str) -> tuple[int, int]:
            products = self._products_of.get(candidate, frozenset())
            return sum(len(products & other) for other in beside), len(products)

        return max(tied, key=likelihood)  # max keeps the first of equals: the alphabetical order, as before

    @staticmethod
    def _run_on(word: str, known: frozenset[str]) -> str | None:
        """Two catalog words typed as one ("legoset" → "lego set", "playdoh" → "play-doh"), or ``None``."""
        hyphened = [w for w in known if "-" in w and w.replace("-", "") == word]
        if hyphened:
            return hyphened[0]
        splits = [(word[:i], word[i:]) for i in range(3, len(word) - 2)]
        found = [f"{a} {b}" for a, b in splits if a in known and b in known]
        return found[0] if len(found) == 1 else None  # two ways to split it: no telling which was meant

    def _catalog_words(self) -> frozenset[str]:
        if self._known_words is None:
            counts: Counter[str] = Counter()
            products_of: dict[str, set[int]] = {}
            for position, product in enumerate(self._catalog):
                described = [product.attribute(name) for name in ATTRIBUTES]
                texts = [product.title, product.category, *product.tags, *(v for v in described if v)]
                words = {w.lower() for t in texts for w in _WORD.findall(t)}
                counts.update(words)
                for word in words:
                    for form in {word, _singular(word)}:
                        products_of.setdefault(form, set()).add(position)
            self._products_of = {w: frozenset(p) for w, p in products_of.items()}
            self._known_words = frozenset(counts)
            by_letter: dict[str, list[str]] = {}
            english = english_counts()
            for word, count in counts.items():  # a word of one title only may be a maker's name, unless it is English
                if (count >= 2 or word in english) and len(word) >= 4 and word.isalpha():
                    # both numbers: "perfum" is one edit from the shop's "perfumes" said of one, "trik" from "tricks"
                    for form in {word, _singular(word)}:
                        by_letter.setdefault(form[0], []).append(form)
            self._words_by_letter = {k: sorted(set(v)) for k, v in by_letter.items()}
        return self._known_words

    def _corrected(self, attribute: str, word: str) -> str:
        """The catalog word a typo stands for ("sofaa", "lmap", "bookcse"), or the word itself.

        One edit (a transposition counts as one) for words of four to seven letters, two from eight; the
        first letter must agree, so that "hair" does not become "chair". rapidfuzz's optimal string
        alignment distance does the comparing.
        """
        if len(word) < 4 or not word.isalpha() or word in _PLAIN_WORDS or word in self._catalog_words():
            return word  # a word the catalog uses is no typo: "table" is not "tablet"
        forms = self._single_words.get(attribute)
        if forms is None:
            # Names and the category tree only: title words ("allen" of a brand) are too loose to correct towards.
            index = [self._index.get(attribute, {})] + (self.category_aliases[:2] if attribute == "category" else [])
            forms = sorted({w for i in index for f in i for w in f.split() if len(w) >= 4})
            self._single_words[attribute] = forms
        if word in forms:
            return word
        limit = 1 if len(word) < 8 else 2
        candidates = [f for f in forms if f[0] == word[0] and abs(len(f) - len(word)) <= limit]
        found = process.extractOne(word, candidates, scorer=OSA.distance, score_cutoff=limit)
        best = str(found[0]) if found is not None else None
        return best if best is not None and not is_real_word_for(word, best) else word

    @staticmethod
    def _longest(index: Mapping[str, str], words: list[str]) -> str | None:
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
        """Lookup-table entries per attribute: every value in every variant, sorted.

        Categories also list the deeper levels of the category tree and the distinctive words of
        many-word category names, which :meth:`match` maps to their category.
        """
        tables = {
            name: {form for value in self.values[name] for form in variants(value, inflect=name == "category")}
            for name in LOOKUP_ATTRIBUTES
            if self.values.get(name)
        }
        if "category" in tables:
            for aliases in self.category_aliases[:2]:
                tables["category"] |= set(aliases)
        return {name: sorted(forms) for name, forms in tables.items()}

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

    def nlu_yaml(self, source: str, exclude_synonym_texts: Iterable[str] = (), *, examples: bool = False) -> str:
        """Rasa NLU YAML with the lookup tables and synonyms.

        Args:
            source: the catalog path, named in the file's header.
            exclude_synonym_texts: synonym texts already defined elsewhere in the
                training data (Rasa refuses one text mapped to two values).
            examples: also write :meth:`training_examples` (for a catalog other than the
                one the shared training data was written for).
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
        if examples:
            for intent, texts in self.training_examples().items():
                lines.append(f"  - intent: {intent}")
                lines.append("    examples: |")
                lines += [f"      - {t}" for t in texts]
        return "\n".join(lines) + "\n"

    def training_examples(self, limit: int = 40) -> dict[str, list[str]]:
        """Annotated NLU examples in this catalog's words, by intent.

        The shared training data speaks of the demo's furniture; a catalog of clothes and
        watches needs "i need [clothing](category)" too, or the intent classifier takes such
        a request for something else. Categories with a few items, the deeper levels of
        their trees, and the commonest colours and materials, at most ``limit`` of each.
        """
        categories = [c.casefold() for c in self.popular_categories(limit)
                      if self.category_counts[c] >= TITLE_WORD_MIN_ITEMS]
        categories += sorted({form for form in self.category_aliases[0] if " " in form or form.endswith("s")})[:limit]
        colours = [v.casefold() for v in self.popular_values("colour", limit)]
        materials = [v.casefold() for v in self.popular_values("material", limit)]
        requests = ("i'm looking for [{}](category)", "i need [{}](category)", "show me [{}](category)",
                    "do you have [{}](category)?", "any [{}](category)?", "[{}](category) please")
        clean = [c for c in categories if _ANNOTATABLE.fullmatch(c)]
        result = {
            "request_recommendation": [requests[i % len(requests)].format(c) for i, c in enumerate(clean)],
            "inform": [f"[{c}](category)" for c in clean[::2]]
            + [f"[{c}](colour)" for c in colours if _ANNOTATABLE.fullmatch(c)]
            + [f"something in [{m}](material)" for m in materials if _ANNOTATABLE.fullmatch(m)],
            "critique_different": [f"do you have it in [{c}](colour)?" for c in colours[:10]
                                   if _ANNOTATABLE.fullmatch(c)]
            + [f"not [{m}]{{\"entity\": \"material\", \"role\": \"exclude\"}}" for m in materials[:10]
               if _ANNOTATABLE.fullmatch(m)],
        }
        return {intent: texts for intent, texts in result.items() if texts}


def read_nlu_synonyms(paths: Iterable[Path]) -> dict[str, str]:
    """``text → value`` from the ``synonym`` blocks of Rasa NLU YAML files.

    Inline synonyms (``[gray]{"entity": "colour", "value": "grey"}``) are read too.
    Unreadable files are skipped: synonyms only widen matching.
    """
    found: dict[str, str] = {}
    for block in _nlu_blocks(paths):
        if "synonym" in block:
            for line in str(block.get("examples", "")).splitlines():
                text = line.strip().removeprefix("- ").strip()
                if text:
                    found[text.lower()] = str(block["synonym"])
        for match in _INLINE_SYNONYM.finditer(str(block.get("examples", ""))):
            found[match.group(1).lower()] = match.group(2)
    return found


def read_nlu_examples(paths: Iterable[Path]) -> dict[str, list[str]]:
    r"""``intent → examples`` from Rasa NLU YAML files, entity annotations reduced to their words.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     path = Path(d) / "nlu.yml"
    ...     _ = path.write_text('nlu:\n  - intent: inform\n    examples: |\n      - a [sofa](category)\n'
    ...                         '      - no [velvet]{"entity": "material", "role": "exclude"}\n')
    ...     read_nlu_examples([path])
    {'inform': ['a sofa', 'no velvet']}

    Unreadable files are skipped, as by :func:`read_nlu_synonyms`.
    """
    found: dict[str, list[str]] = {}
    for block in _nlu_blocks(paths):
        if "intent" in block:
            lines = (line.strip() for line in str(block.get("examples", "")).splitlines())
            found.setdefault(str(block["intent"]), []).extend(
                _ANNOTATION.sub(r"\1", line[2:]).strip() for line in lines if line.startswith("- "))
    return found


def _nlu_blocks(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    """The ``nlu:`` blocks (intents, synonyms, lookups) of Rasa NLU YAML files; unreadable files are skipped."""
    for path in paths:
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            continue
        yield from (block for block in document.get("nlu", []) or [] if isinstance(block, dict))


#: ``[value](entity)`` and ``[value]{"entity": …}`` in a training example.
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
_INLINE_SYNONYM = re.compile(r'\[([^\]]+)\]\{[^}]*"value":\s*"([^"]+)"[^}]*\}')


def _yaml_scalar(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _yaml_text(value: str) -> str:
    # Inside a block scalar only line breaks matter.
    return " ".join(value.split())

"""Answers to a shopper's question about one product, from its own fields and description.

No language model writes the answer: every answer is a fact of the item, said as the catalog says it.
The item's facts are sentences, one per field the catalog gives (price, colour, material, brand,
rating, size, stock, whom it is for, a mapping's extra columns such as warranty or shipping) and one
per sentence of its description. The question and the facts are embedded with the same MiniLM that
ranks the catalog, and the closest fact answers:

* a field's fact is found through the questions shoppers ask about that field (:data:`FIELD_QUESTIONS`,
  a nearest-neighbour classifier over examples: "how much is it" is closer to "what does it cost"
  than to "It costs $49" itself);
* a description sentence is found by its own similarity to the question, the words they share
  breaking near-ties (bm25s' tokenizer, stemmed, stop words out);
* when no fact comes close enough, the answer is that the description doesn't say.

Yes or no is said only when the facts settle it: a wished value the item has or lacks ("is it
leather?" against its material), or a sentence that repeats the question's own word, with a negation
before it for "no". Otherwise the supporting sentence is quoted and the shopper reads it.

>>> from retrieval.catalog import Product
>>> from retrieval.encoder import HashingEncoder
>>> jacket = Product("J1", "Fellside Rain Jacket", 89.0, "USD", "Jackets", colour="sand", material="polyester",
...                  description="A light shell for wet walks. The seams are taped, so it is fully waterproof.")
>>> answers = ItemAnswers(HashingEncoder(64), min_field=0.9, min_sentence=0.2)  # a toy encoder: toy thresholds
>>> answers.answer(jacket, "is it waterproof?").says
'yes'
>>> found = answers.answer(jacket, "is it red?", wished={"colour": "red"})
>>> found.says, found.fact.text
('no', 'Its colour is sand')
"""

from __future__ import annotations

import functools
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import bm25s
import numpy as np
import Stemmer

from retrieval.catalog import Product
from retrieval.encoder import Encoder
from retrieval.explain import product_price
from retrieval.facets import CatalogFacets
from retrieval.sentences import SentenceIndex, sentences

__all__ = ["FIELD_QUESTIONS", "Answer", "Fact", "ItemAnswers", "catalog_values", "facts_of", "field_facts"]

#: How shoppers ask about each field: the examples a question is matched against.
FIELD_QUESTIONS: Mapping[str, tuple[str, ...]] = {
    "price": ("how much is it", "what does it cost", "what's the price", "price of this one", "how expensive is it",
              "is it cheap", "how much for that"),
    "colour": ("what colour is it", "what color is this", "which colour", "what shade is it", "is it dark or light"),
    "material": ("what is it made of", "what material is it", "what fabric", "is it real leather or fake",
                 "what's the material"),
    "brand": ("who makes it", "who made it", "what brand is it", "which brand", "who is the manufacturer",
              "is it a good make"),
    "rating": ("is it well rated", "what do people rate it", "how many stars", "what are the reviews like",
               "do customers like it", "what's the rating"),
    "size": ("how big is it", "what size is it", "what are the dimensions", "how tall is it", "how wide is it",
             "will it fit in a small room", "how long is it"),
    "stock": ("is it in stock", "is it available", "do you have it now", "can I buy it today", "how many are left",
              "is it sold out"),
    "style": ("what style is it", "is it modern or classic", "what kind of look does it have", "what's the pattern"),
    "use": ("what is it for", "what's it good for", "who is it meant for", "what's it ideal for"),
    "audience": ("is it made for men or for women", "is it for kids", "is it unisex", "who is it for"),
    "category": ("what kind of product is it", "what type of thing is this", "what category is it", "is it a toy",
                 "is this a kind of game", "is it a piece of furniture", "is it clothing"),
    "warranty": ("does it have a warranty", "what's the warranty", "is there a guarantee", "how long is it covered"),
    "shipping": ("how long does delivery take", "when will it arrive", "how fast is shipping", "do you ship it"),
    "weight": ("how heavy is it", "what does it weigh", "how much does it weigh", "is it light"),
    "model_number": ("what's the model number", "which model is it", "what is the part number"),
    "availability": ("is it available", "is it in stock"),
    "returns": ("can I return it", "what's the return policy", "can I send it back"),
}
#: Extra columns under other names that answer a field's questions.
_FIELD_ALIASES: Mapping[str, str] = {"shipping_weight": "weight", "gender": "audience", "return_policy": "returns"}
#: Words that open a yes/no question (a closed set of English auxiliaries).
_YES_NO_OPENERS = frozenset((
    "is", "are", "was", "does", "do", "did", "can", "could", "will", "would", "has", "have", "should", "may", "am",
    "isnt", "arent", "doesnt", "dont", "cant", "wont"))
#: Words that open a question asking for something other than yes or no (a closed set).
_WH_WORDS = frozenset(("what", "whats", "which", "who", "whose", "whom", "how", "where", "when", "why"))
#: Negation words: a sentence saying "not" before the question's word says no (a closed set).
_NEGATIONS = frozenset(("not", "no", "non", "never", "without", "cannot", "cant", "isnt", "doesnt", "dont", "wont",
                        "nor"))
#: Items whose description sentences stay embedded for the next question (the lists on screen, and more).
ITEMS_KEPT = 256
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def catalog_values(products: Iterable[Product]) -> dict[str, list[str]]:
    """The values a catalog gives for the fields a yes/no question may name another value of."""
    found: dict[str, set[str]] = {"category": set(), "brand": set(), "colour": set(), "material": set()}
    for product in products:
        for name, values in found.items():
            value = product.category if name == "category" else product.attribute(name)
            if value:
                values.add(value)
    return {name: sorted(values) for name, values in found.items()}


def _shared(asked: set[str], said: set[str]) -> set[str]:
    """The asked stems the sentence has, alike or one the other's start ("fold" and "foldabl"), 4 letters up."""
    return {a for a in asked if a in said or (len(a) >= 4 and any(
        len(w) >= 4 and (w.startswith(a) or a.startswith(w)) for w in said))}


@dataclass(frozen=True)
class Fact:
    """One thing the catalog says about an item: a field's value in a sentence, or a sentence of its description."""

    text: str
    field: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class Answer:
    """The answer to one question about one item.

    Attributes:
        kind: ``field`` (a field's value), ``sentence`` (a sentence of the description) or ``unknown``.
        says: ``"yes"`` or ``"no"`` when the facts settle a yes/no question, else ``None``.
        fact: the supporting fact (``None`` for ``unknown``).
        score: how close the fact was to the question.
    """

    kind: Literal["field", "sentence", "unknown"]
    says: Literal["yes", "no"] | None = None
    fact: Fact | None = None
    score: float = 0.0


def _field_sentence(name: str, value: str) -> str:
    said = {"price": "It costs {v}", "colour": "Its colour is {v}", "material": "It's made of {v}",
            "brand": "It's by {v}", "size": "Its size is {v}", "style": "Its style is {v}",
            "use": "It's for {v}", "audience": "It's for {v}", "category": "It's one of our {v}"}
    return said.get(name, f"{name.replace('_', ' ').capitalize()}: {{v}}").format(v=value)


def facts_of(product: Product) -> list[Fact]:
    """Every fact of an item: its fields as sentences (price first), then its description's sentences."""
    return [*field_facts(product), *(Fact(s) for s in sentences(product.description))]


def field_facts(product: Product) -> list[Fact]:
    """The fields the catalog gives for an item, each as a sentence (price first)."""
    found = [Fact(_field_sentence("price", product_price(product)), "price", product_price(product))]
    for name in ("colour", "material", "brand", "size", "style", "use", "audience", "category"):
        value = product.attribute(name) if name != "category" else product.category
        if value:
            found.append(Fact(_field_sentence(name, value), name, value))
    if product.rating is not None:
        count = f" by {product.rating_count} customers" if product.rating_count else ""
        rating = f"{product.rating:.1f} out of 5"
        found.append(Fact(f"It's rated {rating}{count}", "rating", rating))
    availability = str((product.extra or {}).get("availability") or "").strip()
    if product.stock is not None:
        stock = f"{product.stock} in stock" if product.stock > 0 else "out of stock"
        said = f"We have {stock}" if product.stock > 0 else "It's out of stock"
        found.append(Fact(f"{said} ({availability})" if availability else said, "stock",
                          f"{stock} ({availability})" if availability else stock))
    for key, value in (product.extra or {}).items():
        name = _FIELD_ALIASES.get(key, key)
        if value and str(value).strip() and (name in FIELD_QUESTIONS or key in FIELD_QUESTIONS):
            found.append(Fact(_field_sentence(key, str(value).strip()), name, str(value).strip()))
    return found


class ItemAnswers:
    """Answers questions about items with one sentence encoder.

    Args:
        encoder: the catalog's encoder (unit-length vectors).
        min_field: the least similarity between a question and a field's examples for that field to answer.
        min_sentence: the least similarity between a question and a description sentence sharing one of its
            words for that sentence to answer.
        min_unshared: the same for a sentence that shares none of the question's words ("waterproof" against
            "water-repellent coating"): the meaning alone must be closer.
        shared_weight: what sharing all of the question's own words adds to a sentence's similarity.
        stored: the catalog's description sentences embedded when its index was built; without it (or for
            an item it does not hold) an item's sentences are embedded at its first question.
        values: the catalog's values of its fields (``{"category": […], "brand": […]}``): "is it a toy?" or
            "made by nike?" is a no for an item with another of them.
    """

    def __init__(self, encoder: Encoder, *, min_field: float = 0.45, min_sentence: float = 0.3,
                 min_unshared: float = 0.45, shared_weight: float = 0.2, stored: SentenceIndex | None = None,
                 values: Mapping[str, Sequence[str]] | None = None) -> None:
        self.encoder = encoder
        self.catalog_values = dict(values or {})
        self.stored = stored
        self.min_field = min_field
        self.min_sentence = min_sentence
        self.min_unshared = min_unshared
        self.shared_weight = shared_weight
        self._stemmer = Stemmer.Stemmer("english")
        self._items: OrderedDict[tuple[str, str, str], tuple[list[Fact], np.ndarray, list[set[str]], set[str]]] = \
            OrderedDict()
        self._lock = threading.Lock()

    def warm(self) -> None:
        """Embed the field and facet examples now (a serving process does it at start, not in a customer's question)."""
        _ = self._examples
        self.facets.warm()

    @functools.cached_property
    def facets(self) -> CatalogFacets:
        """Finds what a question about the catalog as a whole asks (how many, which brands), with the same encoder."""
        return CatalogFacets(self.encoder)

    @functools.cached_property
    def _examples(self) -> tuple[list[str], np.ndarray]:
        names = [name for name, examples in FIELD_QUESTIONS.items() for _ in examples]
        vectors = self.encoder.encode([e for examples in FIELD_QUESTIONS.values() for e in examples])
        return names, np.asarray(vectors, dtype=np.float32)

    def _field_scores(self, question: np.ndarray) -> dict[str, float]:
        names, vectors = self._examples
        scores: dict[str, float] = {}
        for name, score in zip(names, vectors @ question, strict=True):
            scores[name] = max(scores.get(name, -1.0), float(score))
        return scores

    def _words(self, *texts: str) -> list[set[str]]:
        """Each text's words, stemmed, stop words out (bm25s' tokenizer, as the lexical index reads)."""
        tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=self._stemmer, show_progress=False,
                                return_ids=False)
        return [set(t) for t in tokens]

    def answer(self, product: Product, question: str, *, wished: Mapping[str, str] | None = None) -> Answer:
        """The answer to ``question`` about ``product``.

        Args:
            product: the item asked about.
            question: the shopper's words.
            wished: attribute values the question names ("is it leather?" → ``{"material": "leather"}``).
        """
        by_field = {f.field: f for f in field_facts(product)}
        for name, value in (wished or {}).items():
            fact = by_field.get(name)
            if fact is not None and fact.value:  # "is it leather?" settled by the item's own material
                has = value.lower() in fact.value.lower() or fact.value.lower() in value.lower()
                return Answer("field", "yes" if has else "no", fact, 1.0)
        described, described_vectors, described_words, own = self._described(product)
        # The item's own name says nothing about what is asked: "does the table come with chairs" is about chairs
        asked = self._words(question)[0] - self._openers
        content = asked - own
        words = question.split()
        bare = " ".join(w for w, stems in zip(words, self._words(*words), strict=True) if not stems & own) or question
        vectors = np.asarray(self.encoder.encode([question, bare] if bare != question else [question]),
                             dtype=np.float32)
        vectors = vectors if len(vectors) == 2 else np.vstack([vectors, vectors])
        field_scores = {n: max(a, b) for (n, a), b in zip(self._field_scores(vectors[0]).items(),
                                                           self._field_scores(vectors[1]).values(), strict=True)}
        best_field = max(by_field, key=lambda n: field_scores.get(str(n), -1.0), default=None)
        field_score = field_scores.get(str(best_field), -1.0) if best_field else -1.0
        shared = [_shared(content, words) for words in described_words]
        scores = [float(s) + self.shared_weight * len(w) / max(1, len(content))
                  for s, w in zip(described_vectors @ vectors[1], shared, strict=True)]
        fits = [i for i, score in enumerate(scores)
                if score >= (self.min_sentence if shared[i] else self.min_unshared)]
        best = max(fits, key=lambda i: scores[i], default=-1)
        sentence_score = scores[best] if best >= 0 else -1.0
        if best_field is not None and field_score >= self.min_field and field_score >= sentence_score:
            fact = by_field[best_field]
            # the question's own words, the item's name included: "is it a plush toy?", "made by fellside?"
            return Answer("field", self._settled_by_field(question, asked, product, fact), fact, field_score)
        if best >= 0:
            fact = described[best]
            return Answer("sentence", self._polarity(question, content, shared[best], fact.text), fact,
                          sentence_score)
        return Answer("unknown", None, None, max(field_score, max(scores, default=-1.0)))

    def _described(self, product: Product) -> tuple[list[Fact], np.ndarray, list[set[str]], set[str]]:
        """An item's description sentences, their vectors and words, and its name's words, kept for next time."""
        key = (product.id, product.description, product.title)
        with self._lock:
            found = self._items.get(key)
        if found is None:
            kept = self.stored.of(product.id) if self.stored is not None else None
            if kept is not None:  # split and embedded with the index, from this very catalog
                described, vectors = [Fact(text) for text in kept[0]], kept[1]
            elif described := [Fact(text) for text in sentences(product.description)]:
                vectors = np.asarray(self.encoder.encode([f.text for f in described]), dtype=np.float32)
            else:
                vectors = np.zeros((0, self.encoder.dimension), dtype=np.float32)
            words = self._words(f"{product.title} {product.category}", *(f.text for f in described))
            found = (described, vectors, words[1:], words[0])
        with self._lock:
            self._items[key] = found
            self._items.move_to_end(key)
            while len(self._items) > ITEMS_KEPT:
                self._items.popitem(last=False)
        return found

    @functools.cached_property
    def _field_words(self) -> dict[str, set[str]]:
        """The words of each field's wh-questions ("what brand is it"): they name the field, not a value of it.

        A yes/no example names a value ("is it a toy"), so its words are not among them.
        """
        return {name: set().union(*self._words(*[e for e in examples if not self._yes_no(e)]))
                for name, examples in FIELD_QUESTIONS.items()}

    @functools.cached_property
    def _values(self) -> dict[str, set[str]]:
        """The words of the catalog's values of each field, stemmed."""
        return {name: set().union(*self._words(*values)) for name, values in self.catalog_values.items() if values}

    @functools.cached_property
    def _openers(self) -> set[str]:
        return {self._stemmer.stemWord(w) for w in _YES_NO_OPENERS}

    @staticmethod
    def _yes_no(question: str) -> bool:
        """Whether a question asks yes or no: opened by an auxiliary, or marked "?" and opened by no wh-word."""
        words = [w.replace("'", "") for w in _WORD.findall(question.lower().replace("’", "'"))]
        return bool(words) and (words[0] in _YES_NO_OPENERS or ("?" in question and words[0] not in _WH_WORDS))

    def _settled_by_field(self, question: str, content: set[str], product: Product,
                          fact: Fact) -> Literal["yes", "no"] | None:
        """"Is it in stock?" is settled by the stock, "a lifetime warranty?" by a value that says so; else ``None``."""
        if not self._yes_no(question):
            return None
        if fact.field in ("stock", "availability"):
            available = product.in_stock if fact.field == "stock" else "out of stock" not in str(fact.value).lower()
            return "yes" if available else "no"
        named = content - self._field_words.get(str(fact.field), set())  # "made" in "made by apple?" names the field
        if not named:
            return None
        # "is the 2nd one a toy?", "made by nike?": the item's own value, or another value the catalog has
        own = self._words(f"{product.category} {product.title}" if fact.field == "category" else str(fact.value))[0]
        if _shared(named, own) == named:
            return "yes"
        others = self._values.get(str(fact.field))
        return "no" if others and named <= others else None

    def _polarity(self, question: str, content: set[str], shared: set[str],
                  sentence: str) -> Literal["yes", "no"] | None:
        """Yes or no for a yes/no question when the sentence repeats at least half of its own words.

        A negator just before a repeated word says no, unless the question has it too ("is it non stick").
        """
        if not self._yes_no(question) or not shared or 2 * len(shared) < len(content):
            return None
        asked = {w.replace("'", "") for w in _WORD.findall(question.lower().replace("’", "'"))}
        negators = _NEGATIONS - asked
        said = _WORD.findall(sentence.lower().replace("’", "'"))
        for position, word in enumerate(said):
            if _shared({self._stemmer.stemWord(word)}, shared):
                before = said[max(0, position - 4):position]
                if {w.replace("'", "") for w in before} & negators or \
                        ("not" in negators and any(w.endswith("n't") for w in before)):
                    return "no"
        return "yes"

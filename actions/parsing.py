"""Parsing what customers type: budgets and references to shown items.

Pure functions, no Rasa imports, so they are tested on their own.

>>> parse_budget("under $800")
Budget(minimum=None, maximum=800.0, relative=None, no_limit=False)
>>> parse_budget("between 2 and 3 hundred")
Budget(minimum=200.0, maximum=300.0, relative=None, no_limit=False)
>>> parse_ordinal("the 2nd one")
1
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["Budget", "parse_budget", "parse_ordinal", "parse_ordinals", "resolve_item_reference", "without_budget",
           "without_measures"]

Relative = Literal["cheap", "mid", "premium"]


@dataclass(frozen=True)
class Budget:
    """A price range the customer stated.

    Attributes:
        minimum, maximum: bounds in the shop's currency, or ``None``.
        relative: "cheap", "mid" or "premium" when only words were given;
            resolved against the prices of the candidates.
        no_limit: the customer said there is no budget.
    """

    minimum: float | None = None
    maximum: float | None = None
    relative: Relative | None = None
    no_limit: bool = False


_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "a": 1, "an": 1,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
         "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1000, "grand": 1000, "k": 1000}

_NO_LIMIT = re.compile(
    r"\b(no (budget|limit|max(imum)?)|money is no object|(i )?(don'?t|do not) (mind|care)|whatever|"
    r"any (price|budget)|doesn'?t matter|not (important|fussed)|no preference|unlimited|sky'?s the limit)\b"
)
#: Of those, the ones that are about the price whatever else the message says ...
_NO_LIMIT_EXPLICIT = re.compile(r"\b(no (budget|limit|max(imum)?)|money is no object|any (price|budget)|unlimited|"
                                r"sky'?s the limit)\b")
#: ... and the ones that may be about something else ("whatever colour").
_NO_LIMIT_VAGUE = re.compile(r"\b((i )?(don'?t|do not) (mind|care)|whatever|doesn'?t matter|not (important|fussed)|"
                             r"no preference)\b")
_CHEAP = re.compile(r"\b(cheap(est|er)?|inexpensive|affordable|budget|low[- ]cost|bargain|not (too|very|that) "
                    r"(expensive|pricey|dear)|on a (tight )?budget|economical)\b")
_PREMIUM = re.compile(r"\b(premium|luxury|luxurious|high[- ]end|top of the range|expensive|splurge|fancy)\b")
_MID = re.compile(r"\b(mid[- ]?range|moderate(ly priced)?|middle of the range|reasonable|average price)\b")

#: Letters glued to an amount that keep it an amount ("500rs", "20usd", "100ish").
_MONEY_SUFFIXES = frozenset(("rs", "inr", "usd", "eur", "gbp", "aed", "dhs", "dollars", "dollar", "bucks", "quid",
                             "euros", "euro", "pounds", "rupees", "k", "ish"))
_NUMBER_TOKEN = r"(?:\d[\d,]*(?:\.\d+)?|\.\d+)(?:\s*k\b)?"
_WORD_NUMBER = (r"\b(?:(?:" + "|".join([*_UNITS, *_TENS, *_SCALES, "and"]) + r")(?:[\s-]+|$))+")
_MAX_WORDS = (r"under|below|less than|max(?:imum)?|at most|up to|no more than|not more than|within|tops|or less|<|"
              r"budget(?: is| of)?|"
              r"(?:nothing|not|never|no) (?:over|above|more than|higher than)")
_MIN_WORDS = r"over|above|more than|at least|minimum|min|from|starting at|upwards of|>"
_AROUND_WORDS = r"around|about|roughly|approximately|approx|circa|ish|~"


def _words_to_number(text: str) -> float | None:
    total, current = 0.0, 0.0
    seen = False
    for word in re.split(r"[\s-]+", text.strip()):
        if not word or word == "and":
            continue
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word in _SCALES:
            current = (current or 1) * _SCALES[word]
            if _SCALES[word] >= 1000:
                total, current = total + current, 0.0
        else:
            return None
        seen = True
    return total + current if seen else None


#: Letters and digits joined by a hyphen: a model code ("dmf-002-gr01") or a measure ("3-seater"), not an amount.
_HYPHENED_CODE = re.compile(r"[^\W\d_]-\d|\d-[^\W\d_]")


def _token_around(text: str, start: int, end: int) -> str:
    """The whitespace-delimited word holding ``text[start:end]``."""
    left = text.rfind(" ", 0, start) + 1
    right = text.find(" ", end)
    return text[left:right if right >= 0 else len(text)]


def _numbers(text: str) -> list[float]:
    """Every amount in the text, digits or words, in order ("1.5k" → 1500)."""
    found: list[tuple[int, float]] = []
    for match in re.finditer(_NUMBER_TOKEN, text):
        before, after_char = text[max(0, match.start() - 1):match.start()], text[match.end():match.end() + 1]
        glued = re.match(r"[a-z]+", text[match.end():])
        money = glued is not None and glued.group(0) in _MONEY_SUFFIXES
        if (before.isalpha() or (after_char.isalpha() and not money) or (after_char and after_char in "%\"'×")) \
                and not match.group(0).rstrip().endswith("k"):
            continue  # part of a name or a measure: "wq18", "z800", "100% rayon", 15" — but "500rs" is money
        if _HYPHENED_CODE.search(_token_around(text, match.start(), match.end())):
            continue  # a model code or a measure in one hyphened word: "dmf-002-gr01", "3-seater" — "200-300" is money
        raw = match.group(0).replace(",", "").strip()
        scale = 1000.0 if raw.endswith("k") else 1.0
        value = float(raw.rstrip("k").strip()) * scale
        after = text[match.end():match.end() + 12]
        if re.match(r"\s*(grand|thousand)\b", after):
            value *= 1000
        elif re.match(r"\s*hundred\b", after):
            value *= 100
        if math.isfinite(value):  # 400 nines are no amount anyone pays
            found.append((match.start(), value))
    for match in re.finditer(_WORD_NUMBER, text):
        if match.group(0).strip() in ("a", "an", "and", "a and", "one"):
            continue  # "one" alone is the pronoun ("the second one"), never a budget of 1
        spoken = _words_to_number(match.group(0))
        if spoken:
            found.append((match.start(), spoken))
    return [value for _, value in sorted(found)]


_CURRENCY = r"[$₹£€]"
_AMOUNT = rf"{_CURRENCY}?\s*{_NUMBER_TOKEN}"
#: What makes a number a measure, an age or a time rather than money ("under 5s", "55 inches", "10am").
_NOT_MONEY_AFTER = (r"(?![a-z\d]|[.,]\d|\s+(?:inch|inches|in\b|kg|kgs|g\b|cm|mm|m\b|ft|feet|seater|seaters|"
                    r"pieces?|pcs|pc\b|years?|yrs?|months?|gb|tb|ml|l\b|litres?|liters?|w\b|watts?|mah|hours?|hrs?|"
                    r"days?|people|players))")
#: A ceiling said after the amount ("₹1000 tops", "50 max", "300 at most"): part of the amount's words.
_MAX_AFTER = r"(?:\s*(?:max(?:imum)?|tops|at (?:the )?most|or (?:less|under|below))\b)?"
_BUDGET_SPAN = re.compile(
    rf"(?:(?:(?:\b(?:{_MAX_WORDS}|{_MIN_WORDS}|{_AROUND_WORDS}|between)\s*{_CURRENCY}?|{_CURRENCY})\s*{_NUMBER_TOKEN}"
    rf"(?:\s*(?:-|to|and)\s*{_AMOUNT})?(?:\s*(?:{'|'.join(sorted(_MONEY_SUFFIXES))})\b|{_NOT_MONEY_AFTER})"
    rf"{_MAX_AFTER})"
    rf"|\b{_NUMBER_TOKEN}\s*(?:(?:{'|'.join(sorted(_MONEY_SUFFIXES - {'k', 'ish'}))})\b{_MAX_AFTER}"
    rf"|(?:max(?:imum)?|tops|at (?:the )?most)\b))",
    re.IGNORECASE,
)


_MEASURE = re.compile(
    r"\b(?:ages?|aged|size)\s+\d+(?:\s*(?:-|–|to)\s*\d+)?\b"
    # an age said of a person: "he's 12", "she is 7", "turning 40" (never money: a price is not a person's)
    r"|\b(?:(?:he|she|they|who)(?:'s|'re| is| are)|(?:is |he's |she's )?turning|turns)\s+\d+\b(?![.,]\d)"
    r"|\b\d+(?:\.\d+)?\s*-?\s*(?:inch|inches|kg|kgs|cm|mm|ft|feet|seater|seaters|pieces?|pcs|years?|yrs?|yo|"
    r"months?|gb|tb|ml|litres?|liters?|watts?|mah|hours?|hrs?|days?|people|players)\b",
    re.IGNORECASE,
)


def without_measures(text: str) -> str:
    """The text without ages, sizes and measures, whose numbers are no money ("age 10", "for 4 people").

    >>> without_measures("present for a budding scientist, age 10"), without_measures("table for 4 people")
    ('present for a budding scientist,', 'table for')
    >>> without_measures("a 2 seater sofa under 900"), without_measures("boots size 9 under $80")
    ('a sofa under 900', 'boots under $80')
    >>> without_measures("cricket stuff for my son, he's 12"), without_measures("gift for dad, turning 60, under 50")
    ('cricket stuff for my son,', 'gift for dad, , under 50')
    """
    return " ".join(_MEASURE.sub(" ", text).split())


def without_budget(text: str) -> str:
    """The text with its money amounts taken out, for searching by what it describes.

    Only amounts said as money go ("under 2000", "$40", "500 bucks", "between 4 and 9"); model numbers
    and sizes stay ("iphone 13 pro", "size 9").

    >>> without_budget("bed under 2000"), without_budget("iphone 13 pro under $900"), without_budget("car under 30k")
    ('bed', 'iphone 13 pro', 'car')
    >>> without_budget("lego between 20 and 40 dollars for a 7 year old")
    'lego for a 7 year old'
    >>> without_budget("toys for under 5s"), without_budget("tv above 55 inches under $400")
    ('toys for under 5s', 'tv above 55 inches')
    >>> without_budget("a bed, budget 2000"), without_budget("my budget is 300 for a lamp")
    ('a bed,', 'my for a lamp')
    >>> without_budget("₹1000 tops"), without_budget("kurta for my mom, 1000 max"), without_budget("50 bucks at most")
    ('', 'kurta for my mom,', '')
    >>> without_budget("crop tops for summer"), without_budget("top 10 board games")
    ('crop tops for summer', 'top 10 board games')
    """
    return " ".join(_BUDGET_SPAN.sub(" ", text).split())


def parse_budget(text: str) -> Budget | None:
    """Read a budget from free text.

    Understands ceilings ("under 500", "max 1k", "no more than €250", "500 bucks"),
    floors ("at least 300"), ranges ("between 2 and 3 hundred", "200-300"),
    approximations ("around 100 dollars" → 75–115), words ("cheap", "premium") and
    "no budget".

    Args:
        text: the customer's words (an entity span or the whole message).

    Returns:
        The budget, or ``None`` when the text holds no usable budget.
    """
    lowered = text.lower().replace("’", "'")
    numbers = _numbers(lowered)
    if _NO_LIMIT.search(lowered) and not (numbers and re.search(r"\d", lowered) and _NO_LIMIT_VAGUE.search(lowered)
                                          and not _NO_LIMIT_EXPLICIT.search(lowered)):
        return Budget(no_limit=True)  # but "up to 24, whatever colour" has a budget: the amount wins
    if len(numbers) >= 2 and (re.search(r"\bbetween\b|\bfrom\b.*\bto\b|\d\s*(-|–|to)\s*\$?\d", lowered)):
        low, high = sorted(numbers[:2])
        # "between 2 and 3 hundred" — but not "between 5 and 3 hundred" (5 to 300) nor "between 2 and 1k"
        if re.search(r"\bhundred\b", lowered) and high >= 100 > low and low * 100 <= high:
            low *= 100
        if re.search(r"\b(thousand|grand)\b|\dk\b", lowered) and high >= 1000 > low and low * 1000 <= high:
            low *= 1000
        return Budget(minimum=low, maximum=high)
    if numbers:
        amount = numbers[0]
        if amount <= 0:
            return None
        # "around 100", "100ish" — an "about" elsewhere ("under 300, don't care about colour") is no approximation
        if re.search(rf"(\b|^)({_AROUND_WORDS})\s*(\$|£|€|₹|rs\.?)?\s*\d|\d\s*-?\s*(ish|~)\b", lowered):
            return Budget(minimum=round(amount * 0.75, 2), maximum=round(amount * 1.15, 2))
        # Ceilings first: "no more than" contains the floor phrase "more than".
        if re.search(rf"(\b|^)({_MAX_WORDS})(\b|$)", lowered):
            return Budget(maximum=amount)
        if re.search(rf"(\b|^)({_MIN_WORDS})(\b|$)", lowered) or re.search(r"\d\s*\+", lowered):
            return Budget(minimum=amount)
        return Budget(maximum=amount)  # a bare amount is a ceiling: "500 bucks"
    if _CHEAP.search(lowered):
        return Budget(relative="cheap")
    if _MID.search(lowered):
        return Budget(relative="mid")
    if _PREMIUM.search(lowered):
        return Budget(relative="premium")
    return None


_ORDINAL_WORDS = {
    "first": 0, "1st": 0, "second": 1, "2nd": 1, "two": 1, "third": 2, "3rd": 2, "three": 2,
    "fourth": 3, "4th": 3, "four": 3, "fifth": 4, "5th": 4, "five": 4, "sixth": 5, "6th": 5, "six": 5,
    "last": -1, "middle": 1, "left": 0, "right": -1,
}
_ORDINAL_RE = re.compile(r"(\d+)(?:st|nd|rd|th)?\b|\b([a-z]+)\b")


def parse_ordinals(text: str) -> list[int]:
    """0-based positions the text refers to, in order ("1 and 3" → [0, 2]; "last" → [-1]).

    Bare digits count only up to 9, so prices ("under 500") are not read as positions.
    """
    positions: list[int] = []
    for match in _ORDINAL_RE.finditer(text.lower()):
        token = match.group(1) or match.group(2)
        if token.isdigit():
            if 1 <= int(token) <= 9:
                positions.append(int(token) - 1)
        elif token in _ORDINAL_WORDS:
            positions.append(_ORDINAL_WORDS[token])
    return positions


def parse_ordinal(text: str) -> int | None:
    """The first position the text refers to, or ``None``."""
    positions = parse_ordinals(text)
    return positions[0] if positions else None


#: Orders a shopper asks for by a superlative (a closed set): the cheapest, the priciest, the best rated,
#: the most reviewed. Each is a sort inside the need, not a price band.
_ORDERS = (
    ("cheapest", re.compile(r"\b(cheapest|least expensive|lowest[- ]pric(ed|e)|most affordable|lowest cost)\b")),
    ("priciest", re.compile(r"\b(priciest|most expensive|dearest|highest[- ]pric(ed|e)|costliest)\b")),
    ("best_rated", re.compile(r"\b((best|highest|top)[- ]rated|best[- ]reviewed|highest[- ]rating|top[- ]rated)\b")),
    ("most_reviewed", re.compile(r"\b(most (reviewed|ratings)|most rated)\b")),
    ("popular", re.compile(r"\b(most (popular|bought)|best[- ]?sell(ing|ers?)|most people (buy|bought|like)|"
                           r"popular (ones|items|products))\b")),
)


def order_of(text: str) -> str | None:
    """The order a superlative asks for: ``cheapest``, ``priciest``, ``best_rated``, ``most_reviewed``, ``popular``.

    >>> order_of("what's your cheapest desk?"), order_of("show me the best rated headphones")
    ('cheapest', 'best_rated')
    >>> order_of("something cheap"), order_of("your most popular sofa"), order_of("the most reviewed lamp")
    (None, 'popular', 'most_reviewed')
    """
    lowered = text.lower()
    return next((name for name, pattern in _ORDERS if pattern.search(lowered)), None)


#: How a question points at a card: ordinals ("the 2nd one", "number 3", "#1", "the middle one") — the closed
#: set of :data:`_ORDINAL_WORDS` without the cardinals, which are a question's own numbers ("two pockets").
_REFERENCE = re.compile(
    r"(?:\b(?:the\s+)?(?:first|1st|second|2nd|third|3rd|fourth|4th|fifth|5th|last|middle|left|right)\b"
    r"|\b(?:number|no\.?)\s*[1-9]\b|#\s*[1-9]\b)(?:\s+ones?\b)?", re.IGNORECASE)


def question_positions(text: str) -> list[int]:
    """0-based positions a question's ordinals point at ("is the 2nd one waterproof" → [1]); no cardinals.

    >>> question_positions("does the 2nd one have two pockets")
    [1]
    >>> question_positions("is #3 in stock, and number 1?"), question_positions("no 2 price kya hai")
    ([2, 0], [1])
    """
    return [p for m in _REFERENCE.finditer(text) for p in parse_ordinals(m.group(0).replace("#", " "))[:1]]


def without_references(text: str) -> str:
    """A question without the words that point at a card, so only what is asked is left.

    >>> without_references("is the first one waterproof?")
    'is waterproof?'
    """
    return " ".join(_REFERENCE.sub(" ", text).split())


_TITLE_WORD = re.compile(r"[a-z0-9]+")
_STOP = {"the", "a", "an", "in", "with", "and", "of", "one", "that", "this", "is", "it", "i", "like", "for"}


def resolve_item_reference(reference: str, shown: Sequence[tuple[str, str]]) -> str | None:
    """Which shown item a customer means: by position ("the second") or by title words.

    Args:
        reference: the customer's words ("the 2nd one", "the Halden sofa").
        shown: ``(item_id, title)`` of the cards last shown, in display order.

    Returns:
        The item id, or ``None`` when the reference fits no shown item (or is ambiguous).
    """
    if not shown:
        return None
    words = set(_TITLE_WORD.findall(reference.lower())) - _STOP
    titles = {item_id: set(_TITLE_WORD.findall(title.lower())) - _STOP for item_id, title in shown}
    # Only words that single out one card count: "the sofa" among three sofas names none.
    owners: dict[str, set[str]] = {}
    for item_id, title_words in titles.items():
        for word in title_words & words:
            owners.setdefault(word, set()).add(item_id)
    votes: dict[str, int] = {}
    for word_owners in owners.values():
        if len(word_owners) == 1:
            (owner,) = word_owners
            votes[owner] = votes.get(owner, 0) + 1
    if votes:
        ranked = sorted(votes.values(), reverse=True)
        if len(ranked) == 1 or ranked[0] > ranked[1]:
            return max(votes, key=lambda item_id: votes[item_id])
    position = parse_ordinal(reference)
    if position is not None and -len(shown) <= position < len(shown):
        return shown[position][0]
    return None

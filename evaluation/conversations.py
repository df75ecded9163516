"""Whole shopper conversations, played over any transport and checked turn by turn.

A *suite* is a YAML file of conversations, one file per move (``tests/conversations/needs.yml``,
``reject.yml``, …); the file's stem names the move. Each conversation is written the way
shoppers type and every turn carries property checks::

    conversations:
      - name: cheap desk for working from home
        catalogs: [demo]              # the default; [any] when it holds on every catalog
        turns:
          - say: need a cheap desk for wfh
            expect: {replied: true, no_rephrase: true}
          - say: dont care
            expect: {cards: true, cards_kind: [desk]}

The runner (:func:`play`) sends each ``say`` through a ``send(sender, text)`` callable that
returns Rasa's REST reply messages (``text``, ``buttons``, and ``custom`` →
``{"data": {"type": "recommendations", "items": [{"id", "title", "price", "category", …}]}}``),
evaluates each check and returns plain results: per conversation, per turn, per check, passed or
failed with a message saying what was seen.

Checks (the ``expect`` keys). "Cards" are the recommendation items shown in the turn's reply, in
order; ranks are 1-based; turn numbers are the conversation's turns, 1-based. Card checks fail
when the turn shows no card.

====================  =========================================================================
``cards: b``          cards were shown this turn (``true``) or not (``false``)
``min_cards: n``      at least ``n`` cards this turn
``cards_kind: [w]``   every card's category or title contains one of the words (case-insensitive,
                      singular and plural alike: ``sofa`` matches "Sofas")
``max_price: x``      every card priced at most ``x``; ``min_price: x`` at least ``x``
``cheaper_than: r``   every card cheaper than a card shown earlier, ``r = {turn: n, rank: k}``;
``pricier_than: r``   dearer than it
``first_by: o``       ``cheapest`` or ``priciest``: the cards are in that order of price, and no in-stock
                      item of the first card's category comes before the first card
``not_repeated_from`` no card shown in the listed turns (``[n, …]``) comes back this turn
``fresh: true``       no card seen earlier in the conversation comes back this turn
``never_again_from``  ``n``: no card of turn ``n`` comes back in this turn or any later one
                      (checked when the conversation ends; written on the turn that rejects them)
``attribute: {a: v}`` every card's attribute ``a`` (read from the catalog by id) contains ``v``
                      (a word, or a list of words, any of which will do)
``not_attribute``     ``{a: v}``: no card's attribute ``a`` contains ``v``
``no_rephrase: true`` the reply is not the rephrase prompt (no text starts with
                      :data:`REPHRASE_MARKER`)
``says: re``          the reply's text (messages joined) matches the regex, case-insensitive;
``not_says: re``      it does not
``nothing_fits: true`` the reply says nothing (more) fits (:data:`NOTHING_FITS`)
``asks: true``        the reply asks a question (a ``?``) or offers buttons
``replied: true``     at least one message came back
``any_of: [{…}, …]``  at least one of the alternative check sets passes entirely
====================  =========================================================================

``catalogs: [any]`` marks a conversation that holds on any catalog. Its strings may use the
placeholders ``{category}`` and ``{category2}`` (the most and second most common categories, in
lower case, singular) and ``{cheap_price}`` / ``{mid_price}`` (the first quartile and the median
price of ``{category}``, rounded up to two significant digits), filled by
:func:`catalog_placeholders`. Conversations default to ``catalogs: [demo]``.

>>> replies = [{"text": "Here you go"}, {"custom": {"data": {"type": "recommendations", "items": [
...     {"id": "A", "title": "Halden Sofa", "price": 900.0, "category": "Sofas"}]}}}]
>>> [c.passed for c in evaluate_turn({"cards": True, "cards_kind": ["sofa"], "max_price": 800}, replies)]
[True, True, False]
"""

from __future__ import annotations

import functools
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from evaluation.errors import SuiteError
from retrieval.contract import CardKey, cards_in, recommendations_in

__all__ = [
    "ANY_CATALOG",
    "CHECKS",
    "DEMO_CATALOG",
    "NOTHING_FITS",
    "PLACEHOLDERS",
    "REPHRASE_MARKER",
    "CheckResult",
    "Conversation",
    "ConversationResult",
    "Reply",
    "Suite",
    "SuiteError",
    "Turn",
    "TurnResult",
    "catalog_by_id",
    "catalog_placeholders",
    "evaluate_turn",
    "failures",
    "fill_placeholders",
    "load_suite",
    "load_suites",
    "pass_rate",
    "play",
    "play_suites",
    "validate_checks",
]

#: How the rephrase prompt starts (``actions/texts.py``'s ``REPHRASE``).
REPHRASE_MARKER = "Sorry, I'm not sure I understood"
#: What a truthful "nothing fits" answer says.
NOTHING_FITS = re.compile(r"nothing|no more|that's everything|couldn't find|don't have|none", re.IGNORECASE)
#: The placeholders a catalog-independent conversation may use.
PLACEHOLDERS = ("category", "category2", "cheap_price", "mid_price")
#: ``catalogs`` value of a conversation that holds on every catalog.
ANY_CATALOG = "any"
#: The catalog a conversation runs on when it names none.
DEMO_CATALOG = "demo"

#: ``send(sender, text)`` → the bot's reply messages.
Send = Callable[[str, str], Sequence[Mapping[str, Any]]]
Product = Mapping[str, Any]

_PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")
_CONVERSATION_KEYS = {"name", "catalogs", "turns"}
_TURN_KEYS = {"say", "expect"}


# --- the suites ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """One customer message and what its reply must satisfy."""

    say: str
    expect: Mapping[str, Any]


@dataclass(frozen=True)
class Conversation:
    """A whole conversation of one suite."""

    name: str
    suite: str
    turns: tuple[Turn, ...]
    catalogs: tuple[str, ...] = (DEMO_CATALOG,)

    def runs_on(self, catalog: str) -> bool:
        """Whether the conversation applies to the catalog named ``catalog`` (``"demo"`` or a build name)."""
        return ANY_CATALOG in self.catalogs or catalog in self.catalogs

    def filled(self, placeholders: Mapping[str, str]) -> Conversation:
        """The conversation with its placeholders replaced in every message and check value."""
        turns = tuple(Turn(fill_placeholders(t.say, placeholders), _fill_value(t.expect, placeholders))
                      for t in self.turns)
        return replace(self, turns=turns)


@dataclass(frozen=True)
class Suite:
    """The conversations of one file; ``name`` (the file's stem) is the move they exercise."""

    name: str
    path: Path
    conversations: tuple[Conversation, ...]


def load_suite(path: Path) -> Suite:
    """Read and validate one suite file.

    Args:
        path: a YAML file with a top-level ``conversations:`` list.

    Returns:
        The suite, named after the file's stem.

    Raises:
        SuiteError: listing every problem found (unknown keys or checks, bad values, placeholders).
    """
    problems: list[str] = []
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SuiteError([f"{path}: cannot read: {exc}"]) from exc
    if not isinstance(document, Mapping) or not isinstance(document.get("conversations"), list):
        raise SuiteError([f"{path}: expected a mapping with a 'conversations' list"])
    extra = set(document) - {"conversations"}
    if extra:
        problems.append(f"{path}: unknown top-level keys {sorted(extra)}")
    conversations = []
    for number, raw in enumerate(document["conversations"], start=1):
        conversation = _parse_conversation(raw, f"{path.name}, conversation {number}", path.stem, problems)
        if conversation is not None:
            conversations.append(conversation)
    if problems:
        raise SuiteError(problems)
    return Suite(path.stem, path, tuple(conversations))


def load_suites(directory: Path) -> list[Suite]:
    """Every ``*.yml`` suite of ``directory``, by file name; conversation names must be unique across them.

    Raises:
        SuiteError: for any malformed suite or a name used twice.
    """
    problems: list[str] = []
    suites: list[Suite] = []
    for path in sorted(directory.glob("*.yml")):
        try:
            suites.append(load_suite(path))
        except SuiteError as exc:
            problems += exc.problems
    seen: dict[str, str] = {}
    for suite in suites:
        for conversation in suite.conversations:
            if conversation.name in seen:
                problems.append(f"{suite.path.name}: conversation name {conversation.name!r} "
                                f"is also used in {seen[conversation.name]}")
            seen[conversation.name] = suite.path.name
    if not suites and not problems:
        problems.append(f"{directory}: no *.yml suite")
    if problems:
        raise SuiteError(problems)
    return suites


def _parse_conversation(raw: Any, where: str, suite: str, problems: list[str]) -> Conversation | None:
    if not isinstance(raw, Mapping):
        problems.append(f"{where}: expected a mapping, got {raw!r}")
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.append(f"{where}: 'name' must be a non-empty string")
        return None
    where = f"{where} ({name!r})"
    unknown = set(raw) - _CONVERSATION_KEYS
    if unknown:
        problems.append(f"{where}: unknown keys {sorted(unknown)} (allowed: {sorted(_CONVERSATION_KEYS)})")
    catalogs = raw.get("catalogs", [DEMO_CATALOG])
    if not isinstance(catalogs, list) or not catalogs or not all(isinstance(c, str) and c for c in catalogs):
        problems.append(f"{where}: 'catalogs' must be a non-empty list of names, e.g. [any] or [demo]")
        catalogs = [DEMO_CATALOG]
    turns_raw = raw.get("turns")
    if not isinstance(turns_raw, list) or not turns_raw:
        problems.append(f"{where}: 'turns' must be a non-empty list")
        return None
    turns = []
    for number, turn in enumerate(turns_raw, start=1):
        here = f"{where}, turn {number}"
        if not isinstance(turn, Mapping):
            problems.append(f"{here}: expected a mapping with 'say' and 'expect'")
            continue
        unknown = set(turn) - _TURN_KEYS
        if unknown:
            problems.append(f"{here}: unknown keys {sorted(unknown)} (allowed: {sorted(_TURN_KEYS)})")
        say, expect = turn.get("say"), turn.get("expect")
        if not isinstance(say, str) or not say.strip():
            problems.append(f"{here}: 'say' must be a non-empty string")
            say = ""
        if not isinstance(expect, Mapping) or not expect:
            problems.append(f"{here}: 'expect' must be a non-empty mapping of checks")
            expect = {}
        problems += [f"{here}: {p}" for p in _placeholder_problems(say)]
        problems += [f"{here}: {p}" for p in validate_checks(expect, turn=number)]
        turns.append(Turn(say, dict(expect)))
    return Conversation(name, suite, tuple(turns), tuple(catalogs))


# --- placeholders -------------------------------------------------------------------------------------------------


def fill_placeholders(text: str, placeholders: Mapping[str, str]) -> str:
    """Replace ``{category}``, ``{category2}``, ``{cheap_price}`` and ``{mid_price}`` in ``text``.

    Other braces (a ``/feedback{"item_id": …}`` payload) are left alone.

    >>> fill_placeholders("a {category} under {cheap_price}", {"category": "lamp", "cheap_price": "110"})
    'a lamp under 110'
    """
    return _PLACEHOLDER.sub(lambda m: placeholders.get(m.group(1), m.group(0)), text)


def _fill_value(value: Any, placeholders: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return fill_placeholders(value, placeholders)
    if isinstance(value, Mapping):
        return {k: _fill_value(v, placeholders) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_value(v, placeholders) for v in value]
    return value


def _placeholder_problems(text: str) -> list[str]:
    return [f"unknown placeholder {{{m}}} (known: {', '.join(PLACEHOLDERS)})"
            for m in _PLACEHOLDER.findall(text) if m not in PLACEHOLDERS]


def _singular_word(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@functools.lru_cache(maxsize=8192)
def _words(text: str) -> tuple[str, ...]:
    return tuple(_singular_word(w) for w in re.findall(r"[^\W_]+", text.lower()))


def _round_up(price: float) -> int:
    """Round up to two significant digits: 490.99 → 500, 1220 → 1300, 74.5 → 75."""
    if price <= 0:
        return 0
    step = 10 ** max(0, math.floor(math.log10(price)) - 1)
    return int(math.ceil(price / step) * step)


def catalog_placeholders(products: Iterable[Product]) -> dict[str, str]:
    """The placeholder values for a catalog given as product dicts (``category`` and ``price`` at least).

    >>> catalog_placeholders([{"category": "Lamps", "price": p} for p in (40, 60, 80, 100, 120)]
    ...                      + [{"category": "Sofas", "price": 900}])["cheap_price"]
    '60'
    """
    by_category: dict[str, list[float]] = {}
    for product in products:
        category, price = product.get("category"), product.get("price")
        if isinstance(category, str) and category.strip() and isinstance(price, int | float):
            by_category.setdefault(category.strip(), []).append(float(price))
    if not by_category:
        raise ValueError("the catalog has no product with a category and a price")
    ranked = sorted(by_category, key=lambda c: (-len(by_category[c]), c.lower()))

    def spoken(category: str) -> str:
        words = category.lower().split()
        return " ".join([*words[:-1], _singular_word(words[-1])])

    prices = sorted(by_category[ranked[0]])

    def quantile(q: float) -> float:
        position = (len(prices) - 1) * q
        low = math.floor(position)
        high = min(low + 1, len(prices) - 1)
        return prices[low] + (prices[high] - prices[low]) * (position - low)

    return {
        "category": spoken(ranked[0]),
        "category2": spoken(ranked[1] if len(ranked) > 1 else ranked[0]),
        "cheap_price": str(_round_up(quantile(0.25))),
        "mid_price": str(_round_up(quantile(0.5))),
    }


def catalog_by_id(products: Iterable[Product]) -> dict[str, dict[str, Any]]:
    """Products keyed by id, each flattened with its ``extra`` attributes, for the attribute checks."""
    out: dict[str, dict[str, Any]] = {}
    for product in products:
        flat = {k: v for k, v in product.items() if k != "extra"}
        extra = product.get("extra")
        if isinstance(extra, Mapping):
            flat = {**{str(k): v for k, v in extra.items()}, **flat}
        out[str(product["id"])] = flat
    return out


# --- replies ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """What the bot answered to one message."""

    messages: tuple[Mapping[str, Any], ...]

    @classmethod
    def of(cls, messages: Iterable[Mapping[str, Any]]) -> Reply:
        """Wrap REST reply messages."""
        return cls(tuple(messages))

    @property
    def texts(self) -> list[str]:
        """The text of each text message."""
        return [str(m["text"]) for m in self.messages if m.get("text")]

    @property
    def text(self) -> str:
        """All texts joined by newlines."""
        return "\n".join(self.texts)

    @property
    def buttons(self) -> list[Mapping[str, Any]]:
        """Every button offered."""
        return [b for m in self.messages for b in (m.get("buttons") or []) if isinstance(b, Mapping)]

    @property
    def cards(self) -> list[Mapping[str, Any]]:
        """The recommendation items, in the order shown."""
        return [card for message in self.messages for card in cards_in(recommendations_in(message.get("custom")))]

    @property
    def card_ids(self) -> list[str]:
        """The ids of the cards, in order."""
        return [str(c.get(CardKey.ID)) for c in self.cards]

    def is_rephrase(self) -> bool:
        """Whether a text of the reply is the rephrase prompt."""
        return any(t.strip().startswith(REPHRASE_MARKER) for t in self.texts)


def _card(card: Mapping[str, Any]) -> str:
    price = card.get(CardKey.PRICE)
    return f"{card.get(CardKey.ID)} {card.get(CardKey.TITLE)!r} ({card.get(CardKey.CATEGORY)}, {price})"


def _cards(cards: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(_card(c) for c in cards) if cards else "no cards"


def _said(reply: Reply) -> str:
    text = reply.text.replace("\n", " / ")
    shown = text if len(text) <= 160 else text[:157] + "…"
    return f"{shown!r}" + (f" + {len(reply.cards)} cards" if reply.cards else "")


# --- checks -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckResult:
    """One check of one turn: passed or not, and what was seen."""

    check: str
    passed: bool
    message: str
    turn: int


@dataclass(frozen=True)
class _Context:
    number: int
    reply: Reply
    history: Sequence[Reply]  # earlier turns, history[0] is turn 1
    catalog: Mapping[str, Mapping[str, Any]]

    def turn(self, number: int) -> Reply:
        return self.history[number - 1]


_Outcome = tuple[bool, str]


def _need_cards(ctx: _Context) -> str | None:
    return None if ctx.reply.cards else f"no cards shown; the reply was {_said(ctx.reply)}"


def _price(card: Mapping[str, Any], ctx: _Context) -> float | None:
    value = card.get(CardKey.PRICE)
    if not isinstance(value, int | float):
        value = ctx.catalog.get(str(card.get(CardKey.ID)), {}).get("price")
    return float(value) if isinstance(value, int | float) else None


def _check_cards(value: Any, ctx: _Context) -> _Outcome:
    shown = bool(ctx.reply.cards)
    return shown == bool(value), f"{'cards' if shown else 'no cards'}; the reply was {_said(ctx.reply)}"


def _check_min_cards(value: Any, ctx: _Context) -> _Outcome:
    count = len(ctx.reply.cards)
    return count >= int(value), f"{count} cards: {_cards(ctx.reply.cards)}"


def _word_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else [str(v) for v in value]


def _contains(text: str, phrase: str) -> bool:
    words, wanted = _words(text), _words(phrase)
    return bool(wanted) and any(words[i:i + len(wanted)] == wanted for i in range(len(words) - len(wanted) + 1))


def _check_cards_kind(value: Any, ctx: _Context) -> _Outcome:
    if (missing := _need_cards(ctx)) is not None:
        return False, missing
    kinds = _word_list(value)
    wrong = [c for c in ctx.reply.cards
             if not any(_contains(f"{c.get(CardKey.CATEGORY, '')} {c.get(CardKey.TITLE, '')}", k) for k in kinds)]
    return not wrong, f"not {'/'.join(kinds)}: {_cards(wrong)}" if wrong else f"all {'/'.join(kinds)}"


def _price_bound(value: Any, ctx: _Context, *, upper: bool) -> _Outcome:
    if (missing := _need_cards(ctx)) is not None:
        return False, missing
    bound = float(value)
    wrong = [c for c in ctx.reply.cards
             if (p := _price(c, ctx)) is None or (p > bound if upper else p < bound)]
    word = "above" if upper else "below"
    return not wrong, f"{word} {bound:g}: {_cards(wrong)}" if wrong else f"all within {bound:g}"


def _check_max_price(value: Any, ctx: _Context) -> _Outcome:
    return _price_bound(value, ctx, upper=True)


def _check_min_price(value: Any, ctx: _Context) -> _Outcome:
    return _price_bound(value, ctx, upper=False)


def _relative_price(value: Any, ctx: _Context, *, cheaper: bool) -> _Outcome:
    if (missing := _need_cards(ctx)) is not None:
        return False, missing
    turn, rank = int(value["turn"]), int(value["rank"])
    if turn >= ctx.number:
        return False, f"turn {turn} is not before turn {ctx.number}"
    earlier = ctx.turn(turn).cards
    if len(earlier) < rank:
        return False, f"turn {turn} showed {len(earlier)} cards, no #{rank}"
    reference = earlier[rank - 1]
    limit = _price(reference, ctx)
    if limit is None:
        return False, f"card #{rank} of turn {turn} has no price: {_card(reference)}"
    wrong = [c for c in ctx.reply.cards
             if (p := _price(c, ctx)) is None or (p >= limit if cheaper else p <= limit)]
    word = "not cheaper" if cheaper else "not pricier"
    reference_text = f"#{rank} of turn {turn} ({limit:g})"
    return not wrong, f"{word} than {reference_text}: {_cards(wrong)}" if wrong else f"all vs {reference_text}"


def _check_first_by(value: Any, ctx: _Context) -> _Outcome:
    if (missing := _need_cards(ctx)) is not None:
        return False, missing
    sign = 1.0 if value == "cheapest" else -1.0
    prices = [_price(c, ctx) for c in ctx.reply.cards]
    if any(p is None for p in prices):
        return False, f"a card has no price: {_cards(ctx.reply.cards)}"
    keys = [sign * float(p or 0.0) for p in prices]
    if keys != sorted(keys):
        return False, f"not in {value} order: {_cards(ctx.reply.cards)}"
    first = ctx.catalog.get(str(ctx.reply.cards[0].get(CardKey.ID)), {})
    before = [i for i, p in ctx.catalog.items() if p.get("category") == first.get("category")
              and (p.get("stock") is None or p["stock"] > 0) and sign * float(p.get("price") or 0.0) < keys[0]]
    return not before, f"{value} of {first.get('category')} comes later: {before[:3]}" if before \
        else f"the {value} {first.get('category')} first"


def _check_cheaper_than(value: Any, ctx: _Context) -> _Outcome:
    return _relative_price(value, ctx, cheaper=True)


def _check_pricier_than(value: Any, ctx: _Context) -> _Outcome:
    return _relative_price(value, ctx, cheaper=False)


def _repeats(ctx: _Context, turns: Iterable[int]) -> list[str]:
    earlier = {card_id: n for n in turns if 1 <= n < ctx.number for card_id in ctx.turn(n).card_ids}
    return [f"{c.get(CardKey.ID)} (turn {earlier[str(c.get(CardKey.ID))]})" for c in ctx.reply.cards
            if str(c.get(CardKey.ID)) in earlier]


def _check_not_repeated_from(value: Any, ctx: _Context) -> _Outcome:
    if (missing := _need_cards(ctx)) is not None:
        return False, missing
    turns = [value] if isinstance(value, int) else list(value)
    again = _repeats(ctx, turns)
    return not again, f"shown again: {', '.join(again)}" if again else "none repeated"


def _check_fresh(value: Any, ctx: _Context) -> _Outcome:
    if (missing := _need_cards(ctx)) is not None:
        return False, missing
    again = _repeats(ctx, range(1, ctx.number))
    return not again, f"shown again: {', '.join(again)}" if again else "all new"


def _matches(actual: Any, wanted: Sequence[str]) -> bool:
    return actual is not None and any(_contains(str(actual), w) for w in wanted)


def _attribute_checks(value: Any, ctx: _Context, *, negate: bool) -> _Outcome:
    if (missing := _need_cards(ctx)) is not None:
        return False, missing
    wrong = []
    for card in ctx.reply.cards:
        product = ctx.catalog.get(str(card.get(CardKey.ID)), {})
        for attribute, wanted in value.items():
            actual = product.get(attribute, card.get(attribute))
            if _matches(actual, _word_list(wanted)) == negate:
                wrong.append(f"{card.get(CardKey.ID)} {attribute}={actual!r}")
    wanted_text = ", ".join(f"{'not ' if negate else ''}{a}={v}" for a, v in value.items())
    return not wrong, f"want {wanted_text}; saw {', '.join(wrong)}" if wrong else f"all {wanted_text}"


def _check_attribute(value: Any, ctx: _Context) -> _Outcome:
    return _attribute_checks(value, ctx, negate=False)


def _check_not_attribute(value: Any, ctx: _Context) -> _Outcome:
    return _attribute_checks(value, ctx, negate=True)


def _check_no_rephrase(value: Any, ctx: _Context) -> _Outcome:
    return not ctx.reply.is_rephrase(), f"the reply was {_said(ctx.reply)}"


def _check_says(value: Any, ctx: _Context) -> _Outcome:
    found = re.search(str(value), ctx.reply.text, re.IGNORECASE) is not None
    return found, f"/{value}/ {'found' if found else 'not found'} in {_said(ctx.reply)}"


def _check_not_says(value: Any, ctx: _Context) -> _Outcome:
    passed, message = _check_says(value, ctx)
    return not passed, message


def _check_nothing_fits(value: Any, ctx: _Context) -> _Outcome:
    found = NOTHING_FITS.search(ctx.reply.text) is not None
    return found, f"{'says' if found else 'does not say'} nothing fits: {_said(ctx.reply)}"


def _check_asks(value: Any, ctx: _Context) -> _Outcome:
    asks = any("?" in t for t in ctx.reply.texts) or bool(ctx.reply.buttons)
    buttons = [str(b.get("title")) for b in ctx.reply.buttons]
    return asks, f"the reply was {_said(ctx.reply)}" + (f", buttons {buttons}" if buttons else ", no buttons")


def _check_replied(value: Any, ctx: _Context) -> _Outcome:
    return bool(ctx.reply.messages), f"{len(ctx.reply.messages)} messages"


def _check_any_of(value: Any, ctx: _Context) -> _Outcome:
    seen = []
    for number, alternative in enumerate(value, start=1):
        results = _evaluate(alternative, ctx)
        if all(r.passed for r in results):
            return True, f"alternative {number} holds"
        seen.append(f"({number}) " + "; ".join(f"{r.check}: {r.message}" for r in results if not r.passed))
    return False, "no alternative holds: " + " | ".join(seen)


# --- value validation ---------------------------------------------------------------------------------------------


def _is_int(value: Any, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _true_only(value: Any, turn: int) -> str | None:
    return None if value is True else "must be true"


def _order_value(value: Any, turn: int) -> str | None:
    return None if value in ("cheapest", "priciest") else "must be cheapest or priciest"


def _boolean(value: Any, turn: int) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


def _count(value: Any, turn: int) -> str | None:
    return None if _is_int(value, 0) else "must be a whole number ≥ 0"


def _price_value(value: Any, turn: int) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return None
    if isinstance(value, str):
        if value in ("{cheap_price}", "{mid_price}"):
            return None
        try:
            float(value)
        except ValueError:
            return "must be a price: a number, {cheap_price} or {mid_price}"
        return None
    return "must be a price: a number, {cheap_price} or {mid_price}"


def _words_value(value: Any, turn: int) -> str | None:
    words = [value] if isinstance(value, str) else value
    if isinstance(words, list) and words and all(isinstance(w, str) and _words(w) for w in words):
        return None
    return "must be a word or a non-empty list of words"


def _reference(value: Any, turn: int) -> str | None:
    if not isinstance(value, Mapping) or set(value) != {"turn", "rank"}:
        return "must be {turn: n, rank: r}"
    if not (_is_int(value["turn"], 1) and _is_int(value["rank"], 1)):
        return "turn and rank must be whole numbers ≥ 1"
    return None if value["turn"] < turn else f"turn {value['turn']} is not an earlier turn"


def _turn_list(value: Any, turn: int) -> str | None:
    turns = [value] if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(turns, list) or not turns or not all(_is_int(t, 1) for t in turns):
        return "must be a list of turn numbers"
    return None if all(t < turn for t in turns) else "every turn must come before this one"


def _never_again_turn(value: Any, turn: int) -> str | None:
    if not _is_int(value, 1):
        return "must be a turn number"
    return None if value <= turn else "must be this turn or an earlier one"


def _attribute_value(value: Any, turn: int) -> str | None:
    if not isinstance(value, Mapping) or not value:
        return "must be a mapping of attribute to value, e.g. {colour: grey}"
    for attribute, wanted in value.items():
        if not isinstance(attribute, str) or _words_value(wanted, turn) is not None:
            return f"{attribute!r}: must map an attribute name to a word or a list of words"
    return None


def _regex(value: Any, turn: int) -> str | None:
    if not isinstance(value, str) or not value:
        return "must be a regular expression"
    try:
        re.compile(value)
    except re.error as exc:
        return f"is not a valid regular expression: {exc}"
    return None


def _alternatives(value: Any, turn: int) -> str | None:
    if not isinstance(value, list) or len(value) < 2 or not all(isinstance(v, Mapping) and v for v in value):
        return "must be a list of at least two non-empty check mappings"
    problems = [p for alternative in value for p in validate_checks(alternative, turn=turn, nested=True)]
    return "; ".join(problems) or None


@dataclass(frozen=True)
class _Check:
    validate: Callable[[Any, int], str | None]
    evaluate: Callable[[Any, _Context], _Outcome] | None  # None: checked when the conversation ends
    doc: str = field(default="")


#: Every check name, with its value validator and evaluator.
CHECKS: dict[str, _Check] = {
    "cards": _Check(_boolean, _check_cards, "cards shown this turn (true) or not (false)"),
    "min_cards": _Check(_count, _check_min_cards, "at least n cards"),
    "cards_kind": _Check(_words_value, _check_cards_kind, "every card's category or title contains a word"),
    "max_price": _Check(_price_value, _check_max_price, "every card priced ≤ x"),
    "min_price": _Check(_price_value, _check_min_price, "every card priced ≥ x"),
    "cheaper_than": _Check(_reference, _check_cheaper_than, "every card cheaper than card {turn, rank}"),
    "pricier_than": _Check(_reference, _check_pricier_than, "every card dearer than card {turn, rank}"),
    "first_by": _Check(_order_value, _check_first_by, "cards in that price order, the kind's first first"),
    "not_repeated_from": _Check(_turn_list, _check_not_repeated_from, "no card of those turns again"),
    "fresh": _Check(_true_only, _check_fresh, "no card seen earlier in the conversation"),
    "never_again_from": _Check(_never_again_turn, None, "no card of turn n in this or any later turn"),
    "attribute": _Check(_attribute_value, _check_attribute, "every card has the attribute values"),
    "not_attribute": _Check(_attribute_value, _check_not_attribute, "no card has the attribute values"),
    "no_rephrase": _Check(_true_only, _check_no_rephrase, "not the rephrase prompt"),
    "says": _Check(_regex, _check_says, "the reply text matches the regex"),
    "not_says": _Check(_regex, _check_not_says, "the reply text does not match the regex"),
    "nothing_fits": _Check(_true_only, _check_nothing_fits, "the reply says nothing (more) fits"),
    "asks": _Check(_true_only, _check_asks, "a question or buttons"),
    "replied": _Check(_true_only, _check_replied, "at least one message"),
    "any_of": _Check(_alternatives, _check_any_of, "at least one alternative set of checks holds"),
}


def validate_checks(expect: Mapping[str, Any], *, turn: int, nested: bool = False) -> list[str]:
    """The problems of one turn's ``expect`` mapping (empty when it is valid).

    Args:
        expect: check name → value.
        turn: the 1-based number of the turn carrying it (references must point before it).
        nested: inside ``any_of``, where ``never_again_from`` and ``any_of`` are not allowed.
    """
    problems = []
    for name, value in expect.items():
        check = CHECKS.get(str(name))
        if check is None:
            problems.append(f"unknown check {name!r} (known: {', '.join(CHECKS)})")
            continue
        if nested and name in ("never_again_from", "any_of"):
            problems.append(f"{name} cannot be used inside any_of")
            continue
        problem = check.validate(value, turn)
        if problem:
            problems.append(f"{name}: {problem} (got {value!r})")
        problems += [f"{name}: {p}" for p in _placeholder_problems(repr(value))]
    return problems


def _evaluate(expect: Mapping[str, Any], ctx: _Context) -> list[CheckResult]:
    results = []
    for name, value in expect.items():
        evaluate = CHECKS[name].evaluate
        if evaluate is None:
            continue
        try:
            passed, message = evaluate(value, ctx)
        except (KeyError, TypeError, ValueError, IndexError, re.error) as exc:
            passed, message = False, f"could not evaluate: {exc!r}"
        results.append(CheckResult(name, passed, message, ctx.number))
    return results


def evaluate_turn(expect: Mapping[str, Any], replies: Sequence[Mapping[str, Any]], *,
                  history: Sequence[Sequence[Mapping[str, Any]]] = (),
                  catalog: Mapping[str, Mapping[str, Any]] | None = None) -> list[CheckResult]:
    """Evaluate one turn's checks on its reply.

    Args:
        expect: the turn's checks (``never_again_from`` is skipped: it needs the whole conversation).
        replies: the bot's REST messages for this turn.
        history: the replies of the earlier turns, turn 1 first.
        catalog: products by id (:func:`catalog_by_id`) for the attribute checks and missing prices.

    Returns:
        One result per check, in the order written.
    """
    ctx = _Context(len(history) + 1, Reply.of(replies), [Reply.of(r) for r in history], catalog or {})
    return _evaluate(expect, ctx)


def _never_again(turns: Sequence[Reply], carrying: int, banned_turn: int) -> CheckResult:
    banned = set(turns[banned_turn - 1].card_ids)
    again = [f"{card_id} (turn {n})" for n in range(max(carrying, banned_turn + 1), len(turns) + 1)
             for card_id in turns[n - 1].card_ids if card_id in banned]
    if not banned:
        return CheckResult("never_again_from", False, f"turn {banned_turn} showed no cards to keep away", carrying)
    message = f"came back: {', '.join(again)}" if again else f"none of turn {banned_turn}'s {len(banned)} cards again"
    return CheckResult("never_again_from", not again, message, carrying)


# --- playing ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnResult:
    """One turn as played: what was said, what came back, and its checks."""

    number: int
    said: str
    reply: Reply
    checks: tuple[CheckResult, ...]


@dataclass(frozen=True)
class ConversationResult:
    """One conversation as played."""

    name: str
    suite: str
    sender: str
    turns: tuple[TurnResult, ...]
    #: Checks decided when the conversation ended (``never_again_from``).
    final: tuple[CheckResult, ...] = ()

    @property
    def checks(self) -> list[CheckResult]:
        """Every check of the conversation."""
        return [c for t in self.turns for c in t.checks] + list(self.final)

    @property
    def passed(self) -> bool:
        """Whether every check passed."""
        return all(c.passed for c in self.checks)


def play(conversation: Conversation, send: Send, *, sender: str | None = None,
         catalog: Mapping[str, Mapping[str, Any]] | None = None) -> ConversationResult:
    """Play one (already filled) conversation and evaluate every check.

    Args:
        conversation: the conversation, placeholders filled (:meth:`Conversation.filled`).
        send: sends one message as ``sender`` and returns the reply messages.
        sender: the sender id; a fresh one by default.
        catalog: products by id (:func:`catalog_by_id`).

    Returns:
        The results. A message that could not be sent counts as an empty reply and adds a failed
        ``send`` check saying why.
    """
    sender = sender or f"conv-{uuid.uuid4().hex[:12]}"
    catalog = catalog or {}
    replies: list[Reply] = []
    played: list[TurnResult] = []
    for number, turn in enumerate(conversation.turns, start=1):
        errors: list[CheckResult] = []
        try:
            messages = list(send(sender, turn.say))
        except Exception as exc:  # a failed send is a result, not a crash of the suite
            messages = []
            errors.append(CheckResult("send", False, f"no reply: {exc!r}", number))
        reply = Reply.of(messages)
        ctx = _Context(number, reply, list(replies), catalog)
        replies.append(reply)
        played.append(TurnResult(number, turn.say, reply, tuple(errors + _evaluate(turn.expect, ctx))))
    final = tuple(_never_again(replies, number, int(turn.expect["never_again_from"]))
                  for number, turn in enumerate(conversation.turns, start=1) if "never_again_from" in turn.expect)
    return ConversationResult(conversation.name, conversation.suite, sender, tuple(played), final)


def play_suites(suites: Iterable[Suite], send: Send, products: Sequence[Product], *,
                catalog_name: str = DEMO_CATALOG, sender_prefix: str = "conv",
                progress: Callable[[ConversationResult], None] | None = None) -> list[ConversationResult]:
    """Play every conversation of ``suites`` that runs on the catalog, each under a fresh sender id.

    Args:
        suites: loaded suites.
        send: the transport.
        products: the catalog served, as product dicts (placeholders and attribute checks come from it).
        catalog_name: ``"demo"`` or the catalog's build name; picks the conversations that apply.
        sender_prefix: start of each sender id (a random suffix keeps reruns apart).
        progress: called with each finished conversation.
    """
    placeholders = catalog_placeholders(products)
    by_id = catalog_by_id(products)
    run = uuid.uuid4().hex[:6]
    results = []
    number = 0
    for suite in suites:
        for conversation in suite.conversations:
            if not conversation.runs_on(catalog_name):
                continue
            number += 1
            sender = f"{sender_prefix}-{run}-{number:03d}"
            result = play(conversation.filled(placeholders), send, sender=sender, catalog=by_id)
            results.append(result)
            if progress is not None:
                progress(result)
    return results


def pass_rate(results: Iterable[ConversationResult]) -> float:
    """Share of checks that passed over all results (1.0 when there are none)."""
    checks = [c for r in results for c in r.checks]
    return sum(c.passed for c in checks) / len(checks) if checks else 1.0


def failures(results: Iterable[ConversationResult]) -> list[str]:
    """One line per failed check: suite, conversation, turn and what was said, check, what was seen."""
    lines = []
    for result in results:
        said = {t.number: t.said for t in result.turns}
        for check in result.checks:
            if not check.passed:
                lines.append(f"{result.suite} / {result.name} / turn {check.turn} ({said.get(check.turn, '')!r}) "
                             f"/ {check.check}: {check.message}")
    return lines

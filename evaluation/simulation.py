"""Simulated customers and the measures of a conversational recommender run on them.

A :class:`SimulatedCustomer` holds one target product from the catalog. It opens
with a vague need derived from the target (its category in plain words, sometimes
with its colour or material), answers the assistant's questions from the target's
attributes, reacts to the cards it is shown — success when one is close to the
target (:func:`close_enough`), otherwise a critique the target suggests ("something
cheaper", "do you have it in black?", "not leather"), a 👎 or "show me more" — and
gives up after ``max_turns`` messages. It speaks the assistant's client protocol
(Rasa REST messages: ``text``, ``buttons``, ``custom.data`` with the cards) but
knows nothing of how the assistant works inside.

With ``exact=True`` the customer follows the **exact-target** protocol of the
conversational recommendation literature (EAR, CRM, UNICORN): success is the target
product itself among the cards, nothing else; the opening names the target's category
and a few words of its title, as a shopper who knows what they are after would; answers
come from its attributes; a card of the right kind that is not it gets "more like this"
(the card's button), and every third miss the customer restates the title in more words.

The baselines need no dialogue: :func:`popularity_ranking` and a one-shot
semantic search produce a ranked list that is shown three items per turn, and
:func:`first_hit` finds where the target's match lands in it.

:class:`RunMeasures` summarises a set of conversations: success rate within N
turns (SR@N), average turns, rank of the first hit, questions asked, intra-list
diversity, catalog coverage and novelty.

>>> from retrieval.catalog import Catalog, Product
>>> target = Product("a", "Grey linen sofa", 700.0, "USD", "Sofas", colour="grey", material="linen")
>>> customer = SimulatedCustomer(target, Catalog([target]), seed=1)
>>> customer.answer("colour")
'grey'
>>> close_enough(target, Product("b", "Other grey linen sofa", 760.0, "USD", "Sofas", colour="Grey",
...                               material="Linen"))
True
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from retrieval.catalog import Catalog, Product
from retrieval.contract import ASKED_ATTRIBUTES, PRODUCT_ATTRIBUTES, SlotName, card_ids
from retrieval.vocabulary import value_key, value_matches

__all__ = [
    "CARDS_PER_TURN",
    "KEY_ATTRIBUTES",
    "Conversation",
    "RunMeasures",
    "SimulatedCustomer",
    "baseline_conversation",
    "close_enough",
    "detect_question",
    "first_hit",
    "intra_list_diversity",
    "novelty",
    "popularity",
    "popularity_ranking",
    "reply_cards",
    "tracker_question",
]

#: Cards the assistant shows per turn; the baselines page their ranking by the same number.
CARDS_PER_TURN = 3
#: Attributes that must agree (where the target has them) for a shown item to count as a hit.
KEY_ATTRIBUTES: tuple[str, ...] = ("colour", "material")
#: A hit's price may differ from the target's by this factor either way.
PRICE_TOLERANCE = 1.3
#: The needs questions the assistant may ask, as slot names.
QUESTIONS: tuple[str, ...] = (SlotName.CATEGORY, SlotName.BUDGET, *ASKED_ATTRIBUTES)
DONT_MIND = "i don't mind"
_INFORM = re.compile(r'^/inform(\{.*\})$')
_OPENINGS = ("i'm looking for {need}", "i need {need}", "show me {need}", "do you have {need}?")


def close_enough(target: Product, item: Product) -> bool:
    """Whether showing ``item`` satisfies a customer who wants ``target``.

    The target itself, or an item of the same category whose key attributes
    (colour, material — each only where the target has one) agree and whose price
    is within a factor of 1.3 of the target's.
    """
    if item.id == target.id:
        return True
    if item.category != target.category:
        return False
    if not target.price / PRICE_TOLERANCE <= item.price <= target.price * PRICE_TOLERANCE:
        return False
    for name in KEY_ATTRIBUTES:
        wanted = target.attribute(name)
        if wanted and value_key(wanted) != value_key(item.attribute(name) or ""):
            return False
    return True


def reply_cards(messages: Sequence[Mapping[str, Any]]) -> list[str]:
    """Ids of the cards in a REST reply (``custom.data`` or an unwrapped ``custom``), in order."""
    return card_ids(messages)


def detect_question(messages: Sequence[Mapping[str, Any]], question_texts: Mapping[str, str] = {}) -> str | None:
    """Which needs question a reply asks, from its buttons or, failing that, its words.

    Args:
        messages: the bot's messages of one turn (REST format).
        question_texts: slot → the start of the question's text (the buttons say it
            more reliably: ``/inform{"colour": "grey"}`` answers the colour question).

    Returns:
        A slot name from :data:`QUESTIONS`, or ``None``.
    """
    for message in reversed(messages):
        for button in message.get("buttons") or []:
            match = _INFORM.match(str(button.get("payload", "")))
            if match:
                try:
                    keys = list(json.loads(match.group(1)))
                except ValueError:
                    continue
                if keys and keys[0] in QUESTIONS:
                    return str(keys[0])
    for message in reversed(messages):
        text = str(message.get("text") or "")
        for slot, start in question_texts.items():
            if start and text.startswith(start):
                return slot
    return None


def tracker_question(tracker: Mapping[str, Any] | None) -> str | None:
    """The needs question a Rasa tracker (as ``GET /conversations/{id}/tracker`` returns it) has open.

    The assistant keeps its conversation in the ``shop_state`` slot; its ``pending`` is the open
    question. Only a needs question (a slot name from :data:`QUESTIONS`) is returned: ``None`` for
    no question, a missing or malformed slot, or a question that is not about the need
    (``"relax:budget"``, ``"consent"``, ``"satisfaction"``).

    >>> tracker_question({"slots": {"shop_state": {"pending": "colour"}}})
    'colour'
    >>> tracker_question({"slots": {"shop_state": {"pending": "relax:colour"}}}) is None
    True
    """
    slots = tracker.get("slots") if isinstance(tracker, Mapping) else None
    state = slots.get(SlotName.SHOP_STATE) if isinstance(slots, Mapping) else None
    pending = state.get("pending") if isinstance(state, Mapping) else None
    return pending if isinstance(pending, str) and pending in QUESTIONS else None


def _round_up(amount: float) -> int:
    """A round figure a customer would say: two significant digits, rounded up."""
    if amount <= 10:
        return max(1, math.ceil(amount))
    scale = 10 ** (len(str(int(amount))) - 2)
    return int(math.ceil(amount / scale) * scale)


def _round_down(amount: float) -> int:
    if amount <= 10:
        return max(0, math.floor(amount))
    scale = 10 ** (len(str(int(amount))) - 2)
    return int(math.floor(amount / scale) * scale)


_NON_WORD = re.compile(r"[^\w]+")


def _mentions(text: str, term: str) -> bool:
    """Whether ``term`` occurs in ``text`` on word boundaries, as the assistant's exclusion filter reads it."""
    needle = _NON_WORD.sub(" ", term.casefold()).strip()
    return bool(needle) and f" {needle} " in f" {_NON_WORD.sub(' ', text.casefold())} "


def _spoken(value: str) -> str:
    return " ".join(value.lower().split())


@dataclass
class Conversation:
    """What happened to one simulated customer.

    Attributes:
        target: the product the customer wanted.
        opening: their first message.
        turns: messages they sent.
        success_turn: the turn whose reply first showed a hit, or ``None``.
        exact_turn: the turn whose reply first showed the target itself, or ``None``.
        exact: the exact-target protocol: only the target itself counts as a hit.
        first_rank: position of the first hit among all cards shown (1-based), or ``None``.
        questions: needs questions the assistant asked.
        lists: the card lists shown, in order.
        transcript: (speaker, text) lines, for reading a run.
    """

    target: Product
    opening: str
    turns: int = 0
    success_turn: int | None = None
    exact_turn: int | None = None
    first_rank: int | None = None
    questions: int = 0
    lists: list[list[str]] = field(default_factory=list)
    transcript: list[tuple[str, str]] = field(default_factory=list)
    exact: bool = False

    def record_cards(self, turn: int, ids: Sequence[str], catalog: Catalog) -> None:
        """Note a shown list and whether it holds a hit or the target."""
        shown_before = sum(len(ids_) for ids_ in self.lists)
        self.lists.append(list(ids))
        for position, item_id in enumerate(ids, start=1):
            product = catalog.get(item_id)
            if product is None:
                continue
            hit = item_id == self.target.id if self.exact else close_enough(self.target, product)
            if self.success_turn is None and hit:
                self.success_turn, self.first_rank = turn, shown_before + position
            if self.exact_turn is None and item_id == self.target.id:
                self.exact_turn = turn


class SimulatedCustomer:
    """One customer with a target product, talking to the assistant one message at a time.

    Args:
        target: what they want.
        catalog: the catalog (to read the cards they are shown).
        seed: makes their wording and choices reproducible.
        max_turns: they give up after this many messages.
        question_texts: slot → start of the assistant's question text (see :func:`detect_question`).
        exact: follow the exact-target protocol (see the module docstring).
    """

    def __init__(self, target: Product, catalog: Catalog, *, seed: int, max_turns: int = 15,
                 question_texts: Mapping[str, str] | None = None, exact: bool = False) -> None:
        self.target = target
        self.catalog = catalog
        self.max_turns = max_turns
        self.question_texts = dict(question_texts or {})
        self.exact = exact
        self._rng = random.Random(seed)
        self._asked_for: set[str] = set()
        self._critiques = 0
        self._last_question: str | None = None
        self._more_like: set[str] = set()
        self.conversation = Conversation(target, self.opening_need(), exact=exact)

    # -- what they say -------------------------------------------------------------

    def category_words(self) -> str:
        """The target's category in plain words ("sofas", "kitchen dining")."""
        return _spoken(self.target.category)

    def title_words(self, count: int) -> str:
        """The first ``count`` words of the target's title that say what it is (no sizes, codes or marks)."""
        words = [w for w in re.findall(r"[^\W\d_][\w'&-]*", self.target.title.lower()) if len(w) > 1]
        return " ".join(words[:count])

    def opening_need(self) -> str:
        """The first message: the category, and half the time the colour or material too.

        An exact-target customer names the category and a few title words ("i need kuma chan bear
        plush, stuffed animals").
        """
        if self.exact:
            need = f"{self.title_words(self._rng.choice((2, 3, 4)))}, {self.category_words()}"
            return self._rng.choice(_OPENINGS).format(need=need)
        need = self.category_words()
        detail = self.target.colour or self.target.material
        if detail and self._rng.random() < 0.5:
            need = f"{_spoken(detail)} {need}"
        return self._rng.choice(_OPENINGS).format(need=need)

    def answer(self, question: str) -> str:
        """The answer to a needs question, from the target's attributes ("i don't mind" when it has none)."""
        if question == "category":
            return self.category_words()
        if question == "budget":
            price = self.target.price
            if self._rng.random() < 0.5:
                return f"under {_round_up(price * 1.2)}"
            return f"between {_round_down(price * 0.7)} and {_round_up(price * 1.25)}"
        value = self.target.attribute(question)
        return _spoken(value) if value else DONT_MIND

    def react(self, shown: Sequence[Product]) -> str:
        """A message about cards that miss the target: the critique its attributes suggest.

        In order: the category (when the list left it), the price (when every card is
        far above or below the target's), the colour (when none has the target's), a
        material to avoid (a card's material the target does not have), else a 👎 on
        the first card or "show me more", alternately.
        """
        target = self.target
        self._critiques += 1
        if self.exact and self._critiques % 3 == 0:
            return f"i'm after the {self.title_words(6)}"  # restating what it is, in more words
        if self.exact:
            near = next((p for p in shown if p.category == target.category and p.id not in self._more_like
                         and close_enough(target, p)), None)
            if near is not None:
                self._more_like.add(near.id)
                return f'/more_like{{"item_id": "{near.id}"}}'  # the card's "More like this" button
        if shown and all(p.category != target.category for p in shown) and "category" not in self._asked_for:
            self._asked_for.add("category")
            return f"actually i want {self.category_words()}"
        prices = [p.price for p in shown]
        if prices and target.price * PRICE_TOLERANCE < min(prices):
            return self._rng.choice(("something cheaper", "too expensive", "anything more affordable?"))
        if prices and target.price > max(prices) * PRICE_TOLERANCE:
            return self._rng.choice(("something more expensive", "show me pricier ones"))
        colour = target.colour
        if colour and "colour" not in self._asked_for and not any(
            value_matches(colour, p.colour or "") for p in shown
        ):
            self._asked_for.add("colour")
            return f"do you have it in {_spoken(colour)}?"
        material = target.material
        if material:
            searchable = " ".join([target.title, *(v for n in PRODUCT_ATTRIBUTES if (v := target.attribute(n))),
                                   *target.tags]).casefold()
            for product in shown:
                other = product.material
                if other and value_key(other) != value_key(material) and f"not:{value_key(other)}" not in (
                    self._asked_for
                ) and not _mentions(searchable, other):
                    self._asked_for.add(f"not:{value_key(other)}")
                    return f"not {_spoken(other)}"
        if self._critiques % 2 and shown:
            return f'/feedback{{"item_id": "{shown[0].id}", "sentiment": "dislike"}}'
        return "show me more"

    # -- the conversation ----------------------------------------------------------

    def first_message(self) -> str:
        """Start the conversation (turn 1)."""
        self.conversation.turns = 1
        self.conversation.transcript.append(("customer", self.conversation.opening))
        return self.conversation.opening

    def next_message(self, reply: Sequence[Mapping[str, Any]], pending: str | None = None) -> str | None:
        """Read the assistant's reply to the last message and say the next one.

        Args:
            reply: the bot's messages of the turn (REST format).
            pending: the question the assistant is asking, when the caller read it from
                the tracker (the ``pending`` of the ``shop_state`` slot). Only a needs
                question (one of :data:`QUESTIONS`) counts; anything else — ``None``,
                ``"relax:budget"``, ``"consent"``, ``"satisfaction"`` — leaves it to be
                worked out from the reply.

        Returns:
            The next message, or ``None`` when the customer stops (a hit was shown, or
            ``max_turns`` messages were sent).
        """
        conversation = self.conversation
        turn = conversation.turns
        for message in reply:
            if message.get("text"):
                conversation.transcript.append(("bot", str(message["text"])))
        ids = reply_cards(reply)
        if ids:
            conversation.record_cards(turn, ids, self.catalog)
            conversation.transcript.append(("cards", ", ".join(ids)))
        if conversation.success_turn is not None or turn >= self.max_turns:
            return None
        asked = pending if pending in QUESTIONS else None
        question = None if ids else (asked or detect_question(reply, self.question_texts))
        if question is not None:
            conversation.questions += 1
            repeated = question == self._last_question
            self._last_question = question
            text = DONT_MIND if repeated and question != "category" else self.answer(question)
        elif ids:
            self._last_question = None
            text = self.react([p for i in ids if (p := self.catalog.get(i)) is not None])
        elif any(b.get("payload") == "/deny" for m in reply for b in m.get("buttons") or []):
            text = "no"  # "may I remember you?" — keeps the run free of profiles
        else:
            # Nothing to go on (a rephrase prompt, "that's everything that fits"): restate the need.
            text = (f"i'm looking for {self.title_words(4)}, {self.category_words()}" if self.exact
                    else f"i'm looking for {self.category_words()}")
        conversation.turns = turn + 1
        conversation.transcript.append(("customer", text))
        return text


# -- baselines ---------------------------------------------------------------------


def popularity(product: Product) -> float:
    """The popularity baseline's score: rating × log2(2 + number of ratings); 0 when unrated."""
    if product.rating is None:
        return 0.0
    return product.rating * math.log2(2 + product.rating_count)


def popularity_ranking(catalog: Catalog, category: str | None = None) -> list[str]:
    """Item ids by :func:`popularity`, best first, within ``category`` when given.

    In-stock items only; ties keep catalog order.
    """
    items = [p for p in catalog if p.in_stock and (category is None or p.category == category)]
    return [p.id for p in sorted(items, key=lambda p: -popularity(p))]


def first_hit(target: Product, ranking: Sequence[str], catalog: Catalog, *, exact: bool = False) -> int | None:
    """1-based rank of the first item in ``ranking`` that is :func:`close_enough` to the target (or is it)."""
    for rank, item_id in enumerate(ranking, start=1):
        product = catalog.get(item_id)
        if product is not None and (item_id == target.id if exact else close_enough(target, product)):
            return rank
    return None


def baseline_conversation(target: Product, opening: str, ranking: Sequence[str], catalog: Catalog, *,
                          max_turns: int, exact: bool = False) -> Conversation:
    """A ranking shown :data:`CARDS_PER_TURN` per turn, until a hit (the target, if ``exact``) or ``max_turns``."""
    conversation = Conversation(target, opening, exact=exact)
    for turn in range(1, max_turns + 1):
        page = list(ranking[(turn - 1) * CARDS_PER_TURN: turn * CARDS_PER_TURN])
        conversation.turns = turn
        if not page:
            break
        conversation.record_cards(turn, page, catalog)
        if conversation.success_turn is not None:
            break
    return conversation


# -- measures ----------------------------------------------------------------------

Vectors = npt.NDArray[np.float32]


def intra_list_diversity(lists: Iterable[Sequence[str]], vector_of: Callable[[Sequence[str]], Vectors]) -> float:
    """Mean over lists of the mean pairwise ``1 − cosine`` of their items' vectors (lists of one skipped).

    Args:
        lists: shown lists of item ids.
        vector_of: ids → ``(n, d)`` unit vectors.
    """
    values: list[float] = []
    for ids in lists:
        if len(ids) < 2:
            continue
        vectors = vector_of(ids)
        similarity = vectors @ vectors.T
        n = len(ids)
        mean_pair = (float(similarity.sum()) - float(np.trace(similarity))) / (n * (n - 1))
        values.append(1.0 - mean_pair)
    return float(np.mean(values)) if values else float("nan")


def novelty(shown: Iterable[str], catalog: Catalog) -> float:
    """Mean self-information ``−log2 p(i)`` of shown items (one count per impression).

    ``p(i)`` is the item's share of the catalog's ratings, add-one smoothed:
    ``(rating_count + 1) / Σ (rating_count + 1)``. A catalog without rating
    counts makes every item equally popular (novelty ``log2 N`` for everyone).
    """
    total = sum(p.rating_count + 1 for p in catalog)
    values = [-math.log2((p.rating_count + 1) / total) for i in shown if (p := catalog.get(i)) is not None]
    return float(np.mean(values)) if values else float("nan")


@dataclass(frozen=True)
class RunMeasures:
    """The summary of one system on one set of simulated customers."""

    customers: int
    success_at: Mapping[int, float]
    exact_at_max: float
    average_turns: float
    mean_first_rank: float
    median_first_rank: float
    questions: float
    diversity: float
    coverage: float
    novelty: float

    @classmethod
    def of(cls, conversations: Sequence[Conversation], catalog: Catalog, *, cutoffs: Sequence[int],
           max_turns: int, vector_of: Callable[[Sequence[str]], Vectors]) -> RunMeasures:
        """Summarise conversations.

        Average turns counts a failure as ``max_turns`` (as the conversational
        recommendation literature does); ranks are over successes only.
        """
        n = len(conversations)
        success_at = {c: sum(1 for v in conversations if v.success_turn is not None and v.success_turn <= c) / n
                      for c in cutoffs}
        ranks = [v.first_rank for v in conversations if v.first_rank is not None]
        lists = [ids for v in conversations for ids in v.lists]
        shown = [i for ids in lists for i in ids]
        return cls(
            customers=n,
            success_at=success_at,
            exact_at_max=sum(1 for v in conversations if v.exact_turn is not None) / n,
            average_turns=float(np.mean([v.success_turn or max_turns for v in conversations])),
            mean_first_rank=float(np.mean(ranks)) if ranks else float("nan"),
            median_first_rank=float(np.median(ranks)) if ranks else float("nan"),
            questions=float(np.mean([v.questions for v in conversations])),
            diversity=intra_list_diversity(lists, vector_of),
            coverage=len(set(shown)) / len(catalog),
            novelty=novelty(shown, catalog),
        )

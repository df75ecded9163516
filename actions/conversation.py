"""The shopping conversation as plain data: the need, the lists shown, the pending question.

Every customer message is a :class:`Move`; :func:`apply` turns ``(state, move)`` into
``(new state, reply)``. Nothing here imports Rasa: the action server translates the tracker
into a move (:mod:`actions.moves`), calls :func:`apply`, and renders the :class:`Reply`
(:mod:`actions.shop`). So the same words mean the same thing wherever they come in — at the
start, inside the questions or right after a list — and the model is tested table by table.

The catalog is reached through the :class:`Shop` protocol (:class:`actions.catalog_shop.CatalogShop`
over the recommender), so every sentence about the catalog is checked against it when said:

* a list is shown only of items that pass every hard constraint (scope, stated budget, wished
  and excluded values, critique bounds, rejected items);
* when nothing passes, the reply says so, names what does not fit, and *asks* before relaxing a
  constraint the customer stated;
* "you've seen everything" only when every fitting item was shown.

>>> from actions.conversation import Need, State
>>> State().need == Need()
True
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from actions import texts
from retrieval.answers import Answer
from retrieval.catalog import Product
from retrieval.contract import ATTRIBUTES, AUDIENCE
from retrieval.explain import compare_lines, format_price, product_price
from retrieval.facets import MAX_NAMED, Facet
from retrieval.recommender import Scored

__all__ = [
    "ITEMS_PER_TURN", "MAX_REPHRASES", "Effect", "Move", "MoveKind", "Need", "Reply", "Shop", "State", "apply",
]

#: Cards shown per list.
ITEMS_PER_TURN = 3
#: Rephrase prompts in a row before the assistant offers something useful instead.
MAX_REPHRASES = 2
#: Lists kept in the state (older ones only matter through ``seen`` and ``rejected``).
MAX_LISTS = 12
#: All the wished and ruled-out details of a need together, relaxed when no one of them alone is enough.
DETAILS = "details"
#: Questions about a need whose scope is known: which of its kinds, the budget, the attributes.
_DETAIL_QUESTIONS: tuple[str, ...] = ("kind", "budget", *ATTRIBUTES)
#: The orders a superlative may ask for (:attr:`Need.order`).
ORDERS = ("cheapest", "priciest", "best_rated", "most_reviewed", "popular")
#: "Cheaper" looks this far below the reference price first.
PRICE_STEP = 0.9

MoveKind = Literal[
    "state", "dont_mind", "reject_all", "feedback", "critique", "show_more", "more_like", "compare", "why",
    "choose", "start_over", "browse", "surprise", "yes", "no", "unclear", "out_of_scope", "ask", "catalog",
    "complements",
]
Critique = Literal["cheaper", "pricier", "bigger", "smaller", "different"]


@dataclass(frozen=True)
class Need:
    """What the customer is looking for now.

    Attributes:
        scope: the catalog categories the customer's words mean (empty: not said yet).
        scope_words: how the customer named it ("sofa"), for replies.
        budget_min, budget_max: the budget the customer stated (never an inferred one).
        wishes: wished attribute values (``{"colour": "grey"}``), each a hard constraint while
            some item has it.
        exclusions: words the customer ruled out ("leather").
        text: the customer's own words of the request, added to the query.
        price_cap, price_floor: bounds a critique set ("cheaper than the Juno").
        avoid: attribute values a critique moved away from ("another colour").
        size: a size critique: ``(reference item id, "bigger" | "smaller")``.
        settled: questions answered or waived ("I don't mind") — never asked again.
        scope_soft: the scope is the search's guess from the customer's words, not a kind they named:
            it favours its kinds in the lists without hiding a closer match of another kind.
        order: a superlative asked for ("the cheapest", "best rated"): the list is the need's items in
            that order (``cheapest``, ``priciest``, ``best_rated``, ``most_reviewed``, ``popular``: by how many
            customers took each where the shop's interactions say, else by ratings), not by closeness.
        strict: wished attributes asked for by their value ("do you have it in blue?"): they filter wherever
            the catalog gives the attribute, however seldom it does (other wishes only rank there).
    """

    scope: tuple[str, ...] = ()
    scope_words: str = ""
    budget_min: float | None = None
    budget_max: float | None = None
    wishes: Mapping[str, str] = field(default_factory=dict)
    exclusions: tuple[str, ...] = ()
    text: str = ""
    price_cap: float | None = None
    price_floor: float | None = None
    avoid: tuple[tuple[str, str], ...] = ()
    size: tuple[str, str] | None = None
    settled: tuple[str, ...] = ()
    scope_soft: bool = False
    order: str | None = None
    strict: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        """Whether nothing at all was said about what is wanted."""
        return not (self.scope or self.budget_min is not None or self.budget_max is not None or self.wishes
                    or self.exclusions)

    def without(self, constraint: str) -> Need:
        """This need with one stated constraint dropped (``budget``, ``exclusions`` or an attribute)."""
        if constraint == "budget":
            return dataclasses.replace(self, budget_min=None, budget_max=None, price_cap=None, price_floor=None)
        if constraint == "exclusions":
            return dataclasses.replace(self, exclusions=())
        if constraint == "scope":
            return dataclasses.replace(self, scope=(), scope_words="", scope_soft=False)
        if constraint == DETAILS:
            return dataclasses.replace(self, wishes={}, avoid=(), exclusions=())
        return dataclasses.replace(self, wishes={k: v for k, v in self.wishes.items() if k != constraint},
                                   avoid=tuple(a for a in self.avoid if a[0] != constraint))


@dataclass(frozen=True)
class State:
    """The whole shopping conversation.

    Attributes:
        need: the current need.
        lists: item ids of the lists shown for the current need, oldest first (the last is on screen).
        reasons: the reason shown on each card of the last list.
        seen: every item shown in this conversation.
        rejected: items the customer turned down (one by one or with a whole list): never shown again.
        liked, chosen: items the customer liked or chose.
        pending: the open question: a need question (``"category"``, ``"budget"``, an attribute),
            ``"relax:<constraint>"``, ``"consent"``, ``"satisfaction"``, or ``None``.
        questions: questions asked for the current need.
        unclear: messages not understood in a row.
        consent_asked: the customer was asked whether they may be remembered.
        focus: the item last asked about, chosen or given feedback on: what "it" means in a question.
    """

    need: Need = field(default_factory=Need)
    lists: tuple[tuple[str, ...], ...] = ()
    reasons: tuple[str, ...] = ()
    seen: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    liked: tuple[str, ...] = ()
    chosen: tuple[str, ...] = ()
    pending: str | None = None
    questions: int = 0
    unclear: int = 0
    consent_asked: bool = False
    focus: str | None = None

    @property
    def shown(self) -> tuple[str, ...]:
        """The list on screen (empty before the first)."""
        return self.lists[-1] if self.lists else ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for a slot."""
        data = dataclasses.asdict(self)
        data["need"]["wishes"] = dict(self.need.wishes)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> State:
        """The state a slot holds; a missing or malformed value gives a fresh state.

        >>> State.from_dict(State(seen=("a",)).to_dict()).seen
        ('a',)
        >>> State.from_dict({"need": "nonsense"}) == State()
        True
        """
        if not isinstance(data, Mapping):
            return cls()
        try:
            raw_need = dict(data.get("need") or {})
            size = raw_need.get("size")
            need = Need(
                scope=tuple(str(s) for s in raw_need.get("scope") or ()),
                scope_words=str(raw_need.get("scope_words") or ""),
                budget_min=_float(raw_need.get("budget_min")),
                budget_max=_float(raw_need.get("budget_max")),
                wishes={str(k): str(v) for k, v in dict(raw_need.get("wishes") or {}).items()},
                exclusions=tuple(str(e) for e in raw_need.get("exclusions") or ()),
                text=str(raw_need.get("text") or ""),
                price_cap=_float(raw_need.get("price_cap")),
                price_floor=_float(raw_need.get("price_floor")),
                avoid=tuple((str(a), str(v)) for a, v in raw_need.get("avoid") or ()),
                size=(str(size[0]), str(size[1])) if size else None,
                settled=tuple(str(s) for s in raw_need.get("settled") or ()),
                scope_soft=bool(raw_need.get("scope_soft")),
                order=str(raw_need["order"]) if raw_need.get("order") in ORDERS else None,
                strict=tuple(str(a) for a in raw_need.get("strict") or () if a in ATTRIBUTES),
            )
            return cls(
                need=need,
                lists=tuple(tuple(str(i) for i in shown) for shown in data.get("lists") or ())[-MAX_LISTS:],
                reasons=tuple(str(r) for r in data.get("reasons") or ()),
                seen=tuple(str(i) for i in data.get("seen") or ()),
                rejected=tuple(str(i) for i in data.get("rejected") or ()),
                liked=tuple(str(i) for i in data.get("liked") or ()),
                chosen=tuple(str(i) for i in data.get("chosen") or ()),
                pending=str(data["pending"]) if data.get("pending") else None,
                questions=int(data.get("questions") or 0),
                unclear=int(data.get("unclear") or 0),
                consent_asked=bool(data.get("consent_asked")),
                focus=str(data["focus"]) if data.get("focus") else None,
            )
        except (TypeError, ValueError, AttributeError):
            return cls()


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


@dataclass(frozen=True)
class Move:
    """One customer message, as the dialogue understood it.

    Attributes:
        kind: what the message does.
        scope, scope_words: a scope the message names (``scope_words`` alone: a kind of product
            the catalog does not have).
        scope_guessed: the scope came from a word that often names it ("building" → Building Toys),
            not from its name: the catalog is asked whether the whole message agrees.
        scope_soft: the scope is the search's guess from the words (:attr:`Need.scope_soft`).
        budget_min, budget_max: a budget the message states; ``no_budget`` drops it.
        relative_budget: "cheap", "mid" or "premium" when only words were given.
        wishes, exclusions: attribute values wished for or ruled out.
        drop: constraints the message drops ("any colour is fine" → ``("colour",)``).
        text: the customer's words, when they describe what is wanted.
        items: shown items the message points at (resolved ids), in order.
        sentiment: ``"like"`` or ``"dislike"`` for feedback.
        critique: the critique, with ``attribute`` / ``value`` for "another colour" / "in blue".
        options: the likeliest meanings of an unclear message (intent names), for the buttons.
        unmatched: an answer to the pending question that fits none of the catalog's values.
        order: a superlative the message asks for (:attr:`Need.order`).
    """

    kind: MoveKind
    scope: tuple[str, ...] = ()
    scope_words: str = ""
    scope_guessed: bool = False
    scope_soft: bool = False
    budget_min: float | None = None
    budget_max: float | None = None
    no_budget: bool = False
    relative_budget: str | None = None
    wishes: Mapping[str, str] = field(default_factory=dict)
    exclusions: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    text: str = ""
    items: tuple[str, ...] = ()
    sentiment: str | None = None
    critique: Critique | None = None
    attribute: str | None = None
    value: str | None = None
    options: tuple[str, ...] = ()
    unmatched: str = ""
    order: str | None = None

    @property
    def states_something(self) -> bool:
        """Whether the move carries any constraint (a reason given with a rejection, say)."""
        return bool(self.scope or self.scope_words or self.budget_min is not None or self.budget_max is not None
                    or self.no_budget or self.relative_budget or self.wishes or self.exclusions or self.drop
                    or self.order)


@dataclass(frozen=True)
class Effect:
    """Something the action server must record: feedback, a choice, an answer."""

    kind: Literal["like", "dislike", "choose", "consent", "satisfied", "critique", "reject_list", "rule_out"]
    item_id: str | None = None
    value: Any = None


@dataclass(frozen=True)
class Reply:
    """What to say.

    Attributes:
        kind: what sort of answer it is (tests and metrics read it): ``cards``, ``question``,
            ``nothing_fits``, ``offer_relax``, ``unknown_kind``, ``explanation``, ``comparison``,
            ``chosen``, ``answer``, ``rephrase``, ``help``, ``ack``.
        lines: sentences before the cards.
        intro: the sentence that carries the cards.
        cards: the items to show, best first, each with its reason.
        question: a sentence after the cards (a question, usually).
        buttons: ``(title, payload)`` pairs offered with the last sentence.
        effects: what to record.
    """

    kind: str
    lines: tuple[str, ...] = ()
    intro: str = ""
    cards: tuple[Scored, ...] = ()
    question: str = ""
    buttons: tuple[tuple[str, str], ...] = ()
    effects: tuple[Effect, ...] = ()


class Shop(Protocol):
    """The catalog as the conversation asks about it."""

    currency: str

    def product(self, item_id: str) -> Product | None:
        """The product with this id, or ``None``."""

    def count(self, need: Need, exclude: Sequence[str]) -> int:
        """How many items pass every hard constraint of ``need``, leaving out ``exclude``."""

    def bought_with(self, item_id: str, need: Need, exclude: Sequence[str], *, k: int) -> list[Scored]:
        """Items other customers took with ``item_id`` (at least five of them), within the need's budget."""

    def facet(self, need: Need, question: str, exclude: Sequence[str]) -> Facet:
        """What the items meeting ``need`` hold for the facet the question asks about (how many, which brands)."""

    def answer(self, product: Product, question: str, wished: Mapping[str, str]) -> Answer:
        """The answer to a question about one item, from its fields and description (:mod:`retrieval.answers`)."""

    def recommend(self, need: Need, exclude: Sequence[str], *, k: int, like_item: str | None = None,
                  liked: Sequence[str] = (), rejected: Sequence[str] = ()) -> list[Scored]:
        """The best ``k`` items for ``need`` (personalised as the customer allows)."""

    def cheapest(self, need: Need, exclude: Sequence[str]) -> Product | None:
        """The cheapest item passing every hard constraint, or ``None``."""

    def dearest(self, need: Need, exclude: Sequence[str]) -> Product | None:
        """The most expensive item passing every hard constraint, or ``None``."""

    def starter(self, need: Need, k: int, exclude: Sequence[str]) -> list[Scored]:
        """Well-rated items from the biggest categories within the need's limits, for a customer with no kind yet."""

    def closest(self, need: Need, text: str, k: int, exclude: Sequence[str], *, asked: bool = False) -> list[Scored]:
        """The best matches of words that name no kind, or nothing when none is close (``asked``: however far)."""

    def surprise(self, need: Need, exclude: Sequence[str], *, k: int, seed: int) -> list[Scored]:
        """Well-rated items away from what the customer already saw."""

    def conflicts(self, attribute: str, value: str, word: str) -> bool:
        """Whether ruling out ``word`` ("wood", "leather") rules out the wished ``value`` ("wooden", "leather")."""

    def relative_budget(self, need: Need, word: str) -> tuple[float | None, float | None]:
        """The price range "cheap" / "mid" / "premium" means for this need's candidates."""

    def size_exclusions(self, reference: str, bigger: bool) -> list[str]:
        """Ids of items in the reference's category that are not bigger (or not smaller) than it."""

    def next_question(self, need: Need, asked: int) -> str | None:
        """The need question that best splits the candidates, or ``None`` when asking no longer helps."""

    def question(self, need: Need, attribute: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """The text and buttons of a need question."""

    def values(self, attribute: str, limit: int) -> list[str]:
        """The commonest values of an attribute in the catalog."""

    def categories(self) -> tuple[tuple[str, str], ...]:
        """Category buttons ``(title, payload)``, most relevant first."""

    def scope_of(self, text: str) -> tuple[str, ...]:
        """The categories words mean that name none ("a kite", "something to sit on"), by searching the catalog.

        Empty when nothing in the shop is close.
        """

    def off_topic(self, text: str) -> bool:
        """Whether the words read like talk about no product at all (the weather, a joke, a sum)."""

    def closer_kind(self, text: str, scope: Sequence[str], limits: Need | None = None) -> str | None:
        """The category of the best match for ``text`` when it lies outside ``scope`` and is clearly closer.

        "wooden jewellery box" names Jewellery; the shop's jewellery boxes may be filed under Beauty. Both
        are searched within the price range and exclusions of ``limits``, when given.
        """

    def describe(self, need: Need) -> str:
        """The need in a few words ("grey sofas under $800")."""


# -- the moves -------------------------------------------------------------------------------------------------


def apply(state: State, move: Move, shop: Shop, *, consent_askable: bool = False) -> tuple[State, Reply]:
    """Apply one move.

    Args:
        state: the conversation so far.
        move: the customer's message.
        shop: the catalog.
        consent_askable: whether the customer may be asked (once) to be remembered — neither
            asked before nor answered.

    Returns:
        The new state and the reply.
    """
    # A misunderstanding in a row ends with a message that was understood. A bare "ok" or "no" with
    # nothing asked is not one: it carries nothing, and counts towards offering options and a person.
    idle = move.kind in ("yes", "no") and state.pending is None and not state.shown
    understood = state if move.kind == "unclear" else dataclasses.replace(
        state, unclear=state.unclear + 1 if idle else 0)
    handler = _HANDLERS[move.kind]
    new_state, reply = handler(understood, move, shop)
    ruled_out = tuple(e for e in new_state.need.exclusions if e not in state.need.exclusions)
    if ruled_out:
        reply = dataclasses.replace(reply, effects=(*reply.effects, Effect("rule_out", value=ruled_out)))
    if consent_askable and not new_state.consent_asked and new_state.pending is None and reply.cards \
            and (new_state.liked or new_state.rejected):
        new_state = dataclasses.replace(new_state, consent_asked=True, pending="consent")
        reply = dataclasses.replace(reply, question=texts.CONSENT_QUESTION, buttons=_YES_NO)
    return new_state, reply


_YES_NO = ((texts.YES, "/affirm"), (texts.NO, "/deny"))


def _merge(need: Need, move: Move, shop: Shop) -> Need:
    """The need corrected by what the move states (a new scope starts a new need)."""
    if move.scope and need.scope and not set(move.scope) <= set(need.scope):
        need = Need()  # another kind of product: the old budget, wishes and exclusions do not carry over
    narrowed = _narrows(move.scope, need.scope)
    changes: dict[str, Any] = {}
    if move.scope:
        changes.update(scope=move.scope, scope_words=move.scope_words or need.scope_words,
                       scope_soft=move.scope_soft)
    if move.text and not (narrowed and need.text):  # the words that led to the kinds still describe it
        changes["text"] = move.text
    if move.order:
        changes["order"] = move.order
    if move.no_budget:
        changes.update(budget_min=None, budget_max=None, price_cap=None, price_floor=None)
    elif move.budget_min is not None or move.budget_max is not None:
        changes.update(budget_min=move.budget_min, budget_max=move.budget_max, price_cap=None, price_floor=None)
    elif move.relative_budget:
        low, high = shop.relative_budget(dataclasses.replace(need, **changes), move.relative_budget)
        changes.update(budget_min=low, budget_max=high, price_cap=None, price_floor=None)
    # The later word wins: "no wood" drops the wooden wish said before, "leather is fine" the leather exclusion.
    # A value named against the customer's own exclusion lifts it and no more: allowed again, not required.
    said = tuple(e.lower() for e in move.exclusions)
    lifted = {k for k, v in move.wishes.items() if any(shop.conflicts(k, v, e) for e in need.exclusions)}
    kept = [e for e in need.exclusions if not any(shop.conflicts(k, v, e) for k, v in move.wishes.items())]
    exclusions = tuple(dict.fromkeys([*kept, *said]))
    wishes = {k: v for k, v in need.wishes.items() if k not in move.wishes
              and not any(shop.conflicts(k, v, e) for e in exclusions)}
    wishes.update({k: v for k, v in move.wishes.items()
                   if k not in lifted and not any(shop.conflicts(k, v, e) for e in said)})
    avoid = tuple(a for a in need.avoid if a[0] not in move.wishes)
    settled = list(need.settled)
    for name in [*move.wishes, *(["budget"] if "budget_max" in changes or "budget_min" in changes else [])]:
        if name not in settled:
            settled.append(name)
    merged = dataclasses.replace(need, **changes, wishes=wishes, exclusions=exclusions, avoid=avoid,
                                 settled=tuple(settled), size=None)
    for constraint in move.drop:
        merged = merged.without(constraint)
        if constraint not in merged.settled:
            merged = dataclasses.replace(merged, settled=(*merged.settled, constraint))
    return merged


def _searched(move: Move, shop: Shop, words: str) -> Move | None:
    """The move with the scope the catalog gives ``words``, or ``None`` when nothing in the shop is close."""
    scope = shop.scope_of(words) if words.strip() else ()
    if not scope:
        return None
    return dataclasses.replace(move, kind="state", scope=scope, scope_words="", scope_soft=True,
                               text=move.text or words)


def _on_state(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    if move.scope_words and not move.scope:
        searched = _searched(move, shop, move.text or move.scope_words)
        if searched is None and move.text and move.scope_words != move.text:
            # the kind alone, as the NLU tagged it ("couch" in "our living room needs a big comfy couch",
            # tagged as the demo's "Sofas"), is a sharper query than the whole message
            searched = _searched(move, shop, move.scope_words)
        if searched is None:
            # "bed under 2000" where the beds are "Furniture": the closest items, if the catalog has the words;
            # "we don't carry" only when nothing is close
            return _closest_kind(state, move, shop) or _unknown_kind(state, move, shop)
        move = searched
    if move.unmatched and state.pending in ("budget", *ATTRIBUTES) and not move.states_something:
        return _unusable_answer(state, move, shop)
    if not move.scope and not state.need.scope and move.text and state.pending in (None, "category"):
        move = _searched(move, shop, move.text) or move  # "for a 30th birthday, under 30": what kind, from the words
    elif move.scope_guessed and move.text:
        # "a deck building game": "building" names Building Toys, but the catalog says Games; "electric scooter":
        # "scooter" names "Tricycles, Scooters & Wagons" (bikes and wagons), the scooters are Outdoor Recreation.
        # The guess stands only where the catalog's likeliest category is the one guessed.
        searched = _searched(move, shop, move.text)
        if searched is None and move.scope_words and move.scope_words != move.text:
            # "my dad works from home, a good chair for him": "home" guessed Home Decoration, the whole message
            # is too loose to search, the kind the NLU tagged ("chair") is not
            searched = _searched(move, shop, move.scope_words)
        if searched is not None and searched.scope[0] not in move.scope:
            move = dataclasses.replace(move, scope=searched.scope, scope_soft=True)
    merged = _merge(state.need, move, shop)
    if move.scope and move.text:
        # "wooden jewellery box" names Jewellery; the shop's jewellery boxes are under Beauty: both, boxes first
        closer = shop.closer_kind(move.text, move.scope, merged)
        if closer is not None:
            move = dataclasses.replace(move, scope=(closer, *move.scope))
            merged = _merge(state.need, move, shop)  # another scope: a new need, a relative budget read anew
    state = dataclasses.replace(_with_need(state, merged), pending=None)
    return _advance(state, shop)


def _unusable_answer(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    """An answer to the pending question that fits nothing: say so, with the values there are, and ask again."""
    attribute = str(state.pending)
    _, buttons = shop.question(state.need, attribute)
    if attribute == "budget":
        text = texts.UNUSABLE_BUDGET.format(value=move.unmatched[:60])
    else:
        values = shop.values(attribute, 8)
        options = ("; " if any("," in v for v in values) else ", ").join(values)
        text = texts.UNKNOWN_VALUE.format(value=move.unmatched[:40], attribute=attribute, options=options)
    return state, Reply("question", lines=(text,), buttons=buttons)


def _closest_kind(state: State, move: Move, shop: Shop) -> tuple[State, Reply] | None:
    """The need as stated (budget, wishes) with the closest items to the words of a kind we could not place."""
    words = move.text or move.scope_words
    need = _merge(state.need, dataclasses.replace(move, scope_words="", text=words), shop)
    return _closest(_with_need(dataclasses.replace(state, pending=None), need), shop)


def _unknown_kind(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    names = ", ".join(title for title, _ in shop.categories()[:8])
    words = move.scope_words[:60]
    # "for online classes and homework": what the thing is for, not a kind the shop lacks — ask which kind
    use = re.search(rf"\bfor\b(?:(?!\bfor\b).)*?\b{re.escape(words)}\b", move.text, re.IGNORECASE) if words else None
    template = texts.UNKNOWN_KIND_FOR_USE if use else texts.UNKNOWN_CATEGORY
    text = template.format(value=move.text[use.start() + 4:].strip(" ?!.")[:60] if use else words, options=names)
    # the words stay the query: "I don't mind" to the question searches them, a kind named is ranked by them
    need = dataclasses.replace(state.need, text=move.text or state.need.text)
    return dataclasses.replace(state, pending="category", need=need), Reply(
        "unknown_kind", lines=(text,), buttons=shop.categories())


def _closest(state: State, shop: Shop, *, asked: bool = False) -> tuple[State, Reply] | None:
    """The search box's answer to the need's words when they name no kind we can tell, if the catalog has them.

    ``asked``: the message is a request for something (the classifier's reading), so the search box's best
    matches are the answer however far they are (:meth:`CatalogShop.closest`).
    """
    cards = shop.closest(state.need, state.need.text, ITEMS_PER_TURN, [*state.rejected, *state.seen], asked=asked)
    if not cards:
        return None
    return _listed(state, cards), Reply("cards", intro=texts.CLOSEST, cards=tuple(cards), question=texts.OR_TELL_ME,
                                        buttons=shop.categories())


def _advance(state: State, shop: Shop, *, intro: str = texts.HERE_ARE_SOME) -> tuple[State, Reply]:
    """Ask the next useful question, or show the list."""
    need = state.need
    if not state.lists:
        if not need.scope and "category" not in need.settled:
            closest = _closest(state, shop, asked=True) if need.text else None  # "for my morning chai, under 500"
            return closest or _ask(state, "category", shop)
        # Questions only for a customer who named just a kind of product, and only while they answer them;
        # "your cheapest desk" asks for a list
        ask = (state.questions > 0 or _only_the_kind(need)) and need.order is None
        question = shop.next_question(need, state.questions) if ask else None
        if need.scope_soft and question != "kind":
            # kinds guessed from a description: the words are the query, so the list comes first; only a split
            # between kinds is worth asking about ("chests of drawers or bedside tables?")
            question = None
        if question is not None:
            return _ask(state, question, shop)
    return _show(state, shop, intro=intro)


def _only_the_kind(need: Need) -> bool:
    """Whether the customer named only a kind of product: then a question or two help more than a list.

    A customer who opened with a budget, a wish or a deal-breaker gets a list to react to at once; every
    detail can still be added afterwards.
    """
    return need.budget_min is None and need.budget_max is None and not need.wishes and not need.exclusions


def _ask(state: State, attribute: str, shop: Shop) -> tuple[State, Reply]:
    text, buttons = shop.question(state.need, attribute)
    asked = state.questions + (0 if attribute == "category" else 1)
    if attribute == "kind":  # asked once: an answer that names no kind ("the cheap ones") does not bring it back
        state = _with_need(state, dataclasses.replace(state.need, settled=(*state.need.settled, "kind")))
    return dataclasses.replace(state, pending=attribute, questions=asked), Reply(
        "question", lines=(text,), buttons=buttons)


def _show(state: State, shop: Shop, *, intro: str = texts.HERE_ARE_SOME, exclude: Sequence[str] = (),
          like_item: str | None = None, lines: Sequence[str] = (), effects: Sequence[Effect] = ()
          ) -> tuple[State, Reply]:
    """Show the best items for the need, or say truthfully why there are none."""
    need = state.need
    left_out = tuple(dict.fromkeys([*state.rejected, *exclude]))
    available = shop.count(need, left_out)
    if available == 0:
        return _nothing_fits(state, shop, left_out, lines=lines, effects=effects)
    cards = shop.recommend(need, left_out, k=ITEMS_PER_TURN, like_item=like_item, liked=state.liked,
                           rejected=state.rejected)
    if not cards:
        return _nothing_fits(state, shop, left_out, lines=lines, effects=effects)
    question = texts.ALL_THAT_FITS if available <= len(cards) and len(cards) < ITEMS_PER_TURN else ""
    return _listed(state, cards), Reply("cards", lines=tuple(lines), intro=intro, cards=tuple(cards), question=question,
                            effects=tuple(effects))


def _listed(state: State, cards: Sequence[Scored]) -> State:
    """The state once ``cards`` are on screen: a new list, its reasons, all of them seen."""
    ids = tuple(s.product.id for s in cards)
    return dataclasses.replace(state, lists=(*state.lists, ids)[-MAX_LISTS:], reasons=tuple(s.reason for s in cards),
                               seen=tuple(dict.fromkeys([*state.seen, *ids])), pending=None)


def _narrows(scope: Sequence[str], before: Sequence[str]) -> bool:
    """Whether a scope is some of the kinds of the one before it: the "which kind?" question answered."""
    return bool(scope) and set(scope) < set(before)


def _with_need(state: State, need: Need) -> State:
    """The state with a corrected need; another kind of product starts its lists and questions afresh."""
    if need.scope != state.need.scope:
        questions = state.questions if _narrows(need.scope, state.need.scope) else 0
        state = dataclasses.replace(state, lists=(), reasons=(), questions=questions)
    return dataclasses.replace(state, need=need)


#: The stated constraints a "nothing fits" answer may offer to relax, in the order they are tried.
_RELAXABLE = (*ATTRIBUTES, AUDIENCE, "exclusions", "budget")


def _constraint_phrase(need: Need, constraint: str, currency: str) -> str:
    if constraint == "budget":
        if need.budget_max is not None:
            return f"above {format_price(need.budget_max, currency)}"
        return "at any price"
    if constraint == "exclusions":
        return f"with {' or '.join(need.exclusions)}"
    if constraint == AUDIENCE and constraint in need.wishes:
        return f"for anyone, not only {need.wishes[constraint]}"
    if constraint in need.wishes:
        return f"in other {constraint}s than {need.wishes[constraint]}" if constraint != "use" else "for other uses"
    if constraint == DETAILS:
        return "that differ in those details"
    return f"in any {constraint}"


def _nothing_fits(state: State, shop: Shop, left_out: Sequence[str], *, lines: Sequence[str] = (),
                  effects: Sequence[Effect] = ()) -> tuple[State, Reply]:
    """Nothing passes: say what, and offer (never impose) the one change that would help most."""
    need = state.need
    described = shop.describe(need)
    if shop.count(need, state.rejected) > 0:
        text = texts.SEEN_EVERYTHING.format(need=described)
        return dataclasses.replace(state, pending=None), Reply(
            "nothing_fits", lines=(*lines, text), question=texts.WHAT_TO_CHANGE, effects=tuple(effects))
    options = []
    for constraint in _RELAXABLE:
        stated = (constraint == "budget" and (need.budget_max is not None or need.budget_min is not None
                                              or need.price_cap is not None or need.price_floor is not None)) \
            or (constraint == "exclusions" and need.exclusions) \
            or constraint in need.wishes or any(a[0] == constraint for a in need.avoid)
        if stated:
            freed = shop.count(need.without(constraint), left_out)
            if freed:
                options.append((freed, constraint))
    if not options and len(need.wishes) + len(need.avoid) + bool(need.exclusions) > 1:
        freed = shop.count(need.without(DETAILS), left_out)  # "black leather belt for men": no one detail is enough
        if freed:
            options.append((freed, DETAILS))
    text = texts.NOTHING_FITS.format(need=described)
    if not options:
        return dataclasses.replace(state, pending=None), Reply(
            "nothing_fits", lines=(*lines, text), question=texts.WHAT_TO_CHANGE, buttons=shop.categories()[:6],
            effects=tuple(effects))
    freed, constraint = max(options, key=lambda o: o[0])  # max() keeps the first of equals: wishes go first
    kind = ", ".join(c.lower() for c in need.scope[:2]) if need.scope else "items"
    offer = texts.OFFER_RELAX.format(count=freed, kind=kind, phrase=_constraint_phrase(need, constraint, shop.currency))
    return dataclasses.replace(state, pending=f"relax:{constraint}"), Reply(
        "offer_relax", lines=(*lines, text), question=offer, buttons=_YES_NO, effects=tuple(effects))


#: Pending offers a "yes", "I don't mind" or "go on, show me" takes: a constraint relaxed ("relax:<constraint>"),
#: the item's kind in another colour or material ("another:<field>:<value>").
_OFFERS = ("relax:", "another:")


def _on_dont_mind(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    pending = state.pending
    if move.drop or move.states_something:
        return _on_state(state, move, shop)
    if pending is not None and pending.startswith(_OFFERS):
        return _on_yes(state, move, shop)  # "shall I show other colours?" — "I don't mind"
    if pending == "category":
        return _on_browse(dataclasses.replace(state, pending=None), move, shop)
    if pending in _DETAIL_QUESTIONS:  # a question waived: no more questions, a list to react to
        need = dataclasses.replace(state.need, settled=tuple(dict.fromkeys((*state.need.settled, pending))))
        if pending == "kind":  # "any of those": the kinds offered are the customer's now, no longer a guess
            need = dataclasses.replace(need, scope_soft=False)
        return _show(dataclasses.replace(state, need=need, pending=None), shop)
    if state.lists:
        state = dataclasses.replace(state, pending=None)
        if shop.count(state.need, [*state.rejected, *state.seen]) == 0 and shop.count(state.need, state.rejected):
            # nothing new to show: a waiver asks for no change, so the best of what fits, said truthfully
            return _show(state, shop, intro=texts.BEST_OF_ALL.format(need=shop.describe(state.need)))
        return _show(state, shop, intro=texts.HERE_ARE_MORE, exclude=state.seen)
    return _on_browse(state, move, shop)  # with the words, if any: "anything to chew on, she's teething"


def _on_browse(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    if not state.need.scope and move.text:
        searched = _searched(move, shop, move.text)  # "a kite", "something for a two-year-old"
        if searched is not None:
            return _on_state(state, searched, shop)
    if state.need.scope:
        return _show(state, shop, intro=texts.HERE_ARE_MORE if state.lists else texts.HERE_ARE_SOME,
                     exclude=state.seen)
    words = move.text or state.need.text
    if words:
        closest = _closest(dataclasses.replace(state, need=dataclasses.replace(state.need, text=words)), shop,
                           asked=True)
        if closest is not None:
            return closest
    cards = shop.starter(state.need, ITEMS_PER_TURN, [*state.rejected, *state.seen])
    if not cards:
        return _ask(state, "category", shop)
    return _listed(state, cards), Reply("cards", intro=texts.STARTER, cards=tuple(cards), question=texts.OR_TELL_ME,
                                        buttons=shop.categories())


def _on_reject_all(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    if not state.shown:
        return state, Reply("help", lines=(texts.NOTHING_SHOWN,), buttons=shop.categories())
    listed = state.shown
    state = dataclasses.replace(state, rejected=tuple(dict.fromkeys([*state.rejected, *listed])), pending=None)
    effects = (Effect("reject_list", value=list(listed)),)
    if move.critique is not None:
        cheapest = min(listed, key=lambda i: _price(shop, i))
        return _critique(state, dataclasses.replace(move, items=(cheapest,)), shop, effects=effects)
    if move.states_something:
        state = _with_need(state, _merge(state.need, move, shop))
        if not state.lists:
            return _advance(state, shop)
        return _show(state, shop, intro=texts.REFINED, lines=(texts.NOT_THESE,), effects=effects)
    return _show(state, shop, intro=texts.REFINED, lines=(texts.NOT_THESE,), effects=effects)


def _price(shop: Shop, item_id: str) -> float:
    product = shop.product(item_id)
    return product.price if product is not None else float("inf")


def _reference(state: State, move: Move, shop: Shop) -> Product | None:
    """The item a move is relative to: the one named, else the first card."""
    for item_id in (*move.items, *state.shown[:1]):
        product = shop.product(item_id)
        if product is not None:
            return product
    return None


def _on_feedback(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    if not state.shown and not move.items:
        return state, Reply("help", lines=(texts.NOTHING_SHOWN,), buttons=shop.categories())
    if move.sentiment is None:
        return state, Reply("help", lines=(texts.ASK_SENTIMENT,))
    item = _talked_about(state, move, shop)
    if item is None:
        if move.sentiment == "dislike" and state.shown:
            return _on_reject_all(state, move, shop)
        return state, Reply("help", lines=(texts.WHICH_ITEM,))
    liked = move.sentiment == "like"
    if liked:
        state = dataclasses.replace(state, liked=tuple(dict.fromkeys([*state.liked, item.id])), focus=item.id)
        line = texts.NOTED_LIKE.format(title=item.title)
    else:
        state = dataclasses.replace(state, rejected=tuple(dict.fromkeys([*state.rejected, item.id])),
                                    liked=tuple(i for i in state.liked if i != item.id))
        line = texts.NOTED_DISLIKE.format(title=item.title)
    effect = Effect("like" if liked else "dislike", item_id=item.id)
    if move.critique is not None:
        return _critique(state, dataclasses.replace(move, items=(item.id,)), shop, lines=(line,), effects=(effect,))
    return _show(state, shop, intro=texts.REFINED, exclude=state.shown, like_item=item.id if liked else None,
                 lines=(line,), effects=(effect,))


def _on_critique(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    if not state.shown:
        if move.critique in ("cheaper", "pricier") and state.need.scope:
            return _advance(state, shop)
        return state, Reply("help", lines=(texts.NOTHING_SHOWN,), buttons=shop.categories())
    return _critique(state, move, shop)


def _critique(state: State, move: Move, shop: Shop, *, lines: Sequence[str] = (),
              effects: Sequence[Effect] = ()) -> tuple[State, Reply]:
    """Cheaper, pricier, bigger, smaller or different, relative to the reference item."""
    reference = _reference(state, move, shop)
    if reference is None:
        return state, Reply("help", lines=(*lines, texts.WHICH_ITEM), effects=tuple(effects))
    need = state.need
    effects = (*effects, Effect("critique", item_id=reference.id, value=move.critique))
    currency = shop.currency
    exclude: tuple[str, ...] = state.shown
    if move.critique == "cheaper":
        ceiling = round(reference.price * PRICE_STEP, 2)
        if need.budget_max is not None:
            ceiling = min(ceiling, need.budget_max)
        candidate = dataclasses.replace(need, price_cap=ceiling, price_floor=None)
        if shop.count(candidate, [*state.rejected, *exclude]) == 0:
            ceiling = round(reference.price - 0.01, 2)
            candidate = dataclasses.replace(need, price_cap=ceiling, price_floor=None)
        if shop.count(candidate, [*state.rejected, *exclude]) == 0:
            return _cheapest_already(state, reference, shop, lines, effects)
        note = texts.CHEAPER.format(price=format_price(ceiling, currency))
    elif move.critique == "pricier":
        floor = round(reference.price / PRICE_STEP, 2)
        candidate = dataclasses.replace(need, price_floor=floor, price_cap=None)
        if shop.count(candidate, [*state.rejected, *exclude]) == 0:
            floor = round(reference.price + 0.01, 2)
            candidate = dataclasses.replace(need, price_floor=floor, price_cap=None)
        note = texts.PRICIER.format(price=format_price(floor, currency))
    elif move.critique in ("bigger", "smaller"):
        bigger = move.critique == "bigger"
        candidate = dataclasses.replace(need, size=(reference.id, "bigger" if bigger else "smaller"))
        note = texts.BIGGER if bigger else texts.SMALLER
    else:
        candidate, note = _different(need, move, reference)
        if move.value and not move.exclusions:  # "do you have it in blue?": that value, the same design first
            return _in_another(state, candidate, reference, move.value, shop, lines=(*lines, note), effects=effects)
    state = dataclasses.replace(state, need=candidate)
    return _show(state, shop, intro=texts.REFINED, exclude=exclude, lines=(*lines, note), effects=effects)


def _in_another(state: State, need: Need, reference: Product, value: str, shop: Shop, *, lines: Sequence[str],
                effects: Sequence[Effect]) -> tuple[State, Reply]:
    """The item's kind in the value asked for, the most like it first; else the closest in that value, said so."""
    left_out = (*state.rejected, *state.shown)
    if shop.count(need, left_out) > 0 or not need.scope:
        return _show(dataclasses.replace(state, need=need), shop, intro=texts.REFINED, exclude=state.shown,
                     like_item=reference.id, lines=lines, effects=effects)
    wider = need.without("scope")
    if not need.wishes or shop.count(wider, left_out) == 0:
        return _show(dataclasses.replace(state, need=need), shop, exclude=state.shown, lines=lines, effects=effects)
    kind = need.scope_words or ", ".join(c.lower() for c in need.scope[:2])
    note = texts.NONE_OF_THE_KIND_IN.format(kind=kind, value=value.lower())
    return _show(dataclasses.replace(state, need=wider), shop, intro=texts.CLOSEST_IN.format(value=value.lower()),
                 exclude=state.shown, like_item=reference.id, lines=(note,), effects=effects)


def _different(need: Need, move: Move, reference: Product) -> tuple[Need, str]:
    if move.exclusions:  # "not leather", said of the list
        exclusions = tuple(dict.fromkeys([*need.exclusions, *(e.lower() for e in move.exclusions)]))
        ruled_out = {e.casefold() for e in exclusions}
        wishes = {k: v for k, v in need.wishes.items() if v.casefold() not in ruled_out}
        return (dataclasses.replace(need, exclusions=exclusions, wishes=wishes),
                texts.DIFFERENT.format(attribute="option", values=" or ".join(move.exclusions)))
    if move.text and move.attribute not in ATTRIBUTES and not move.value:  # "something spookier than these"
        return (dataclasses.replace(need, text=f"{need.text} {move.text}".strip()),
                texts.DIFFERENT_WORDS.format(words=move.text))
    attribute = move.attribute if move.attribute in ATTRIBUTES else "colour"
    if move.value:
        wishes = {**need.wishes, attribute: move.value}
        avoid = tuple(a for a in need.avoid if a[0] != attribute)
        strict = tuple(dict.fromkeys([*need.strict, attribute]))
        return (dataclasses.replace(need, wishes=wishes, avoid=avoid, strict=strict),
                texts.DIFFERENT_TO.format(value=move.value))
    current = reference.attribute(attribute)
    wishes = {k: v for k, v in need.wishes.items() if k != attribute}
    if not current:
        return dataclasses.replace(need, wishes=wishes), texts.DIFFERENT_ANY.format(attribute=attribute)
    avoid = tuple(dict.fromkeys([*need.avoid, (attribute, current)]))
    return (dataclasses.replace(need, wishes=wishes, avoid=avoid),
            texts.DIFFERENT.format(attribute=attribute, values=current.lower()))


def _cheapest_already(state: State, reference: Product, shop: Shop, lines: Sequence[str],
                      effects: Sequence[Effect]) -> tuple[State, Reply]:
    """Nothing cheaper fits: say so, and name the cheapest without the stated wishes when there is one."""
    need = state.need
    text = texts.NOTHING_CHEAPER.format(title=reference.title, need=shop.describe(need))
    loose = need
    for constraint in (*need.wishes, "exclusions"):
        loose = loose.without(constraint)
    loose = dataclasses.replace(loose, price_cap=round(reference.price - 0.01, 2))
    cheaper = shop.cheapest(loose, state.rejected) if loose != need else None
    if cheaper is not None and cheaper.price < reference.price:
        text += " " + texts.CHEAPEST_ELSEWHERE.format(
            title=cheaper.title, price=product_price(cheaper))
    state = dataclasses.replace(state, pending=None)
    return state, Reply("nothing_fits", lines=(*lines, text), question=texts.WHAT_TO_CHANGE, effects=tuple(effects))


def _on_show_more(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    if state.pending is not None and state.pending.startswith(_OFFERS):
        return _on_yes(state, move, shop)  # "shall I show them?" — "go on, show me": the offer taken
    if not state.need.scope and not state.lists:
        return _on_browse(state, move, shop)
    return _show(state, shop, intro=texts.HERE_ARE_MORE, exclude=state.seen)


def _talked_about(state: State, move: Move, shop: Shop) -> Product | None:
    """The item a move names, or — naming none — the one last talked about ("more like that", "I'll take it")."""
    if move.items:
        return shop.product(move.items[0])
    focus = _focus(state)
    return shop.product(focus) if focus else None


def _focus(state: State) -> str | None:
    """What "it" means: the item last asked about, liked or chosen while still in view, else the last chosen."""
    if state.focus in (*state.shown, *state.chosen, *state.liked):
        return state.focus
    return state.chosen[-1] if state.chosen else None


def _on_more_like(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    seed = _talked_about(state, move, shop)
    if seed is None:
        return state, Reply("help", lines=(texts.WHICH_ITEM if state.shown else texts.NOTHING_SHOWN,))
    return _show(state, shop, intro=texts.MORE_LIKE.format(title=seed.title), exclude=(*state.shown, seed.id),
                 like_item=seed.id)


def _on_why(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    if not state.shown:
        return state, Reply("help", lines=(texts.NOTHING_SHOWN,))
    items = [i for i in move.items if i in state.shown] or list(state.shown)
    lines = []
    for item_id in items:
        product = shop.product(item_id)
        position = state.shown.index(item_id)
        reason = state.reasons[position] if position < len(state.reasons) else texts.CLOSE_MATCH
        if product is not None:
            lines.append(texts.WHY.format(title=product.title, reason=reason))
    return state, Reply("explanation", lines=tuple(lines))


def _on_compare(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    """Two items side by side on what differs, and what their descriptions say to the "better for" asked.

    Naming fewer than two of three cards ("which one should I get?", "help me decide"): a pick, with a
    cheaper alternative and an upgrade.
    """
    if not state.shown:
        return state, Reply("help", lines=(texts.NOTHING_SHOWN,))
    items = list(move.items[:2])
    if len(items) < 2 and len(state.shown) == 2:
        items = list(state.shown)
    products = [p for i in items if (p := shop.product(i)) is not None]
    if len(products) < 2:
        shown = [p for i in state.shown if (p := shop.product(i)) is not None]
        if len(shown) > 2 and not move.items:
            return state, Reply("comparison", lines=(_decide(state, shown),))
        return state, Reply("help", lines=(texts.NEED_TWO,))
    first, second = products[:2]
    header = texts.COMPARE_INTRO.format(first=first.title, second=second.title)
    said = [(p, shop.answer(p, move.text, {})) for p in (first, second)] if move.text else []
    better = [texts.COMPARE_SAYS.format(title=p.title, sentence=a.fact.text) if a.kind == "sentence" and a.fact
              else texts.COMPARE_SAYS_NOTHING.format(title=p.title) for p, a in said] \
        if any(a.kind == "sentence" for _, a in said) else []
    return state, Reply("comparison", lines=("\n".join([header, *compare_lines(first, second), *better]),))


def _decide(state: State, shown: Sequence[Product]) -> str:
    """A pick among the cards (the best match, with its reason), a cheaper and a dearer one, with trade-offs."""
    pick = shown[0]
    reason = state.reasons[0] if state.reasons else texts.CLOSE_MATCH
    lines = [texts.DECIDE_PICK.format(title=pick.title, reason=reason)]
    cheaper = min((p for p in shown[1:] if p.price < pick.price), key=lambda p: p.price, default=None)
    dearer = max((p for p in shown[1:] if p.price > pick.price), key=lambda p: p.price, default=None)
    for other, template in ((cheaper, texts.DECIDE_CHEAPER), (dearer, texts.DECIDE_DEARER)):
        if other is not None:
            saving = format_price(round(abs(pick.price - other.price), 2), pick.currency)
            trade_off = _trade_off(other, pick)
            lines.append(template.format(title=other.title, amount=saving,
                                         trade_off=f", {trade_off}" if trade_off else ""))
    return "\n".join(lines)


def _trade_off(other: Product, pick: Product) -> str:
    """What differs besides the price, in a few words ("rated 4.1 against 4.6; oak, not walnut"), or nothing."""
    found = []
    if other.rating is not None and pick.rating is not None and round(other.rating, 1) != round(pick.rating, 1):
        found.append(texts.RATED_AGAINST.format(rating=f"{other.rating:.1f}", against=f"{pick.rating:.1f}"))
    for attribute in ("material", "size", "colour"):
        mine, theirs = pick.attribute(attribute), other.attribute(attribute)
        if mine and theirs and mine.lower() != theirs.lower():
            found.append(texts.NOT_THAT.format(value=theirs, against=mine))
            break
    return "; ".join(found)


def _on_ask(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    """A question about items on screen (or the one chosen): answered from each item's own facts.

    "it" is the item last talked about; with none and several cards shown, each card is answered.
    """
    items = [i for i in move.items if shop.product(i) is not None]
    if not items:
        focus = _focus(state)
        items = [focus] if focus else list(state.shown)
    products = [p for i in items if (p := shop.product(i)) is not None]
    if not products:
        return state, Reply("help", lines=(texts.NOTHING_SHOWN,))
    answers = [shop.answer(p, move.text, move.wishes) for p in products]
    lines = tuple(_answer_line(p, a) for p, a in zip(products, answers, strict=True))
    focus = products[0].id if len(products) == 1 else state.focus
    offer = _another_offer(state, products[0], answers[0], move, shop) if len(products) == 1 else None
    if offer is not None:  # "does it come in white?" — "No, it's grey. Shall I show you rugs in white?"
        pending, question = offer
        return dataclasses.replace(state, focus=focus, pending=pending), Reply(
            "answer", lines=lines, question=question, buttons=_YES_NO)
    return dataclasses.replace(state, focus=focus), Reply("answer", lines=lines)


#: Fields a "does it come in …?" answered "No" may offer the item's kind in: the values a design comes in.
_OFFERED_IN = ("colour", "material")


def _another_offer(state: State, product: Product, answer: Answer, move: Move, shop: Shop) -> tuple[str, str] | None:
    """The pending offer and its question after a "No" to a wished colour or material, when the shop has such items.

    The item's own kind in the wished value, within the need's budget and exclusions; ``None`` when there are none
    or the answer was not a "No" the item's field settles.
    """
    field = answer.fact.field if answer.fact is not None else None
    value = move.wishes.get(field or "") if field in _OFFERED_IN else None
    if answer.says != "no" or field is None or not value:
        return None
    need = Need(scope=(product.category,), budget_min=state.need.budget_min, budget_max=state.need.budget_max,
                exclusions=state.need.exclusions, wishes={field: value}, strict=(field,))
    if shop.count(need, [*state.rejected, product.id]) == 0:
        return None
    kind = state.need.scope_words if product.category in state.need.scope and state.need.scope_words \
        else product.category.lower()
    return f"another:{field}:{value}", texts.OFFER_ANOTHER.format(kind=kind, value=value.lower())


def _on_another(state: State, pending: str, shop: Shop) -> tuple[State, Reply]:
    """"Yes" to the offer of the item's kind in another colour or material: as "do you have it in blue?"."""
    _, field, value = pending.split(":", 2)
    reference = shop.product(state.focus) if state.focus else None
    if reference is None:
        return state, Reply("help", lines=(texts.WHICH_ITEM,))
    move = Move("critique", items=(reference.id,), critique="different", attribute=field, value=value)
    return _critique(state, move, shop)


def _on_complements(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    """"What goes with it?": what other customers took with the item, from their purchases, likes and choices."""
    reference = _talked_about(state, move, shop) or (shop.product(state.shown[0]) if len(state.shown) == 1 else None)
    if reference is None:
        return state, Reply("help", lines=(texts.WHICH_ITEM if state.shown else texts.NOTHING_SHOWN,))
    budget = Need(budget_min=move.budget_min, budget_max=move.budget_max) if (
        move.budget_min is not None or move.budget_max is not None) else Need(
        budget_min=state.need.budget_min, budget_max=state.need.budget_max) if not state.need.scope or \
        reference.category in state.need.scope else Need()
    cards = shop.bought_with(reference.id, budget, [*state.rejected, reference.id], k=ITEMS_PER_TURN)
    focus = dataclasses.replace(state, focus=reference.id)
    if not cards:
        return focus, Reply("answer", lines=(texts.NO_COMPLEMENTS.format(title=reference.title),))
    listed = dataclasses.replace(_listed(focus, cards), focus=reference.id)
    return listed, Reply("cards", intro=texts.COMPLEMENTS.format(title=reference.title), cards=tuple(cards))


def _on_catalog(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    """"How many sofas under 500?", "which brands for headphones?": the need it states, counted or grouped.

    The need the question states becomes the need (as a request's would); a count or a price range comes
    with the best of those items, the values of a field with a button each.
    """
    if move.scope_words and not move.scope:
        searched = _searched(move, shop, move.scope_words)
        if searched is None:  # a kind we could not place: "we don't carry", as for a request
            return _unknown_kind(state, dataclasses.replace(move, text=""), shop)
        move = searched
    need = _merge(state.need, dataclasses.replace(move, text=""), shop)
    state = dataclasses.replace(_with_need(state, need), pending=None)
    facet = shop.facet(need, move.text, state.rejected)
    if facet.count == 0:
        return _nothing_fits(state, shop, state.rejected)
    line = _facet_line(facet, shop.describe(need), shop.currency)
    if facet.name in ("count", "price"):
        return _show(state, shop, intro=texts.FACET_BEST, lines=(line,))
    buttons = tuple((value, f'/inform{{"{facet.name}": "{value}"}}') for value, _ in facet.values[:MAX_NAMED]
                    if facet.name in ATTRIBUTES)
    return state, Reply("answer", lines=(line,), buttons=buttons)


def _facet_line(facet: Facet, described: str, currency: str) -> str:
    """The answer to a question about the catalog, in the catalog's own values."""
    if facet.name == "count":
        line = texts.FACET_COUNT.format(count=f"{facet.count:,}", need=described)
        return line + (" " + texts.FACET_OUT_OF_STOCK.format(count=f"{facet.out_of_stock:,}")
                       if facet.out_of_stock else "")
    if facet.name == "price":
        low, high = (format_price(p or 0.0, currency) for p in (facet.low, facet.high))
        template = texts.FACET_ONE_PRICE if low == high else texts.FACET_PRICES
        return template.format(need=described, low=low, high=high, count=f"{facet.count:,}")
    if not facet.values:
        return texts.FACET_UNKNOWN.format(field=facet.name, need=described)
    named = [f"{value} ({count})" for value, count in facet.values[:MAX_NAMED]]
    more = len(facet.values) - len(named)
    listed = ", ".join(named[:-1]) + f" and {named[-1]}" if len(named) > 1 and not more else ", ".join(named)
    if more:
        listed += texts.FACET_MORE.format(more=more)
    line = texts.FACET_VALUES[facet.name].format(need=described, count=len(facet.values), values=listed,
                                                 plural="" if len(facet.values) == 1 else "s")
    if facet.unknown:
        line += " " + texts.FACET_NOT_SAID.format(count=facet.unknown, field=facet.name)
    return line


def _answer_line(product: Product, answer: Answer) -> str:
    fact = answer.fact
    says = {"yes": texts.YES, "no": texts.NO}.get(answer.says or "", "")
    if fact is None:
        return texts.ANSWER_UNKNOWN.format(title=product.title)
    if fact.field is None:
        template = texts.ANSWER_SENTENCE_SETTLES if says else texts.ANSWER_SENTENCE
        return template.format(says=says, title=product.title, sentence=fact.text)
    said = fact.text[0].lower() + fact.text[1:]
    if says:
        return texts.ANSWER_FIELD_SETTLES.format(says=says, fact=said, title=product.title)
    return texts.ANSWER_FIELD.format(title=product.title, fact=said)


def _on_choose(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    item = _talked_about(state, move, shop)
    if item is None:
        return state, Reply("help", lines=(texts.WHICH_ITEM if state.shown else texts.NOTHING_SHOWN,))
    state = dataclasses.replace(state, chosen=tuple(dict.fromkeys([*state.chosen, item.id])), pending="satisfaction",
                                focus=item.id)
    text = texts.CHOSEN.format(title=item.title, price=product_price(item),
                               url=item.url or "our shop")
    return state, Reply("chosen", lines=(text,), question=texts.ASK_SATISFIED, buttons=_YES_NO,
                        effects=(Effect("choose", item_id=item.id),))


def _on_start_over(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    fresh = State(rejected=state.rejected, consent_asked=state.consent_asked, pending="category")
    return fresh, Reply("question", lines=(texts.START_OVER,), buttons=shop.categories())


def _on_surprise(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    if move.text:  # an opening surprise that says what about is a request: the kind its words mean, else the closest
        searched = _searched(move, shop, move.text)
        if searched is not None:
            return _on_state(state, searched, shop)
        closest = _closest(_with_need(state, dataclasses.replace(state.need, text=move.text)), shop)
        if closest is not None:
            return closest
    cards = shop.surprise(state.need, [*state.rejected, *state.seen], k=ITEMS_PER_TURN, seed=len(state.seen))
    if not cards:
        return _nothing_fits(state, shop, [*state.rejected, *state.seen])
    return _listed(state, cards), Reply("cards", intro=texts.SURPRISE, cards=tuple(cards))


def _on_yes(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    pending = state.pending or ""
    state = dataclasses.replace(state, pending=None)
    if pending == "consent":
        return state, Reply("ack", lines=(texts.CONSENT_YES,), effects=(Effect("consent", value=True),))
    if pending == "satisfaction":
        return state, Reply("ack", lines=(texts.SATISFIED,), effects=(Effect("satisfied", value=True),))
    if pending.startswith("relax:"):
        constraint = pending.split(":", 1)[1]
        need = state.need.without(constraint)
        return _show(dataclasses.replace(state, need=need), shop)
    if pending.startswith("another:"):
        return _on_another(state, pending, shop)
    if pending in ("category", *_DETAIL_QUESTIONS):
        return _on_dont_mind(dataclasses.replace(state, pending=pending), move, shop)
    if state.shown:
        return _on_show_more(state, move, shop)  # "fine by me, go on" after a list: keep them coming
    return state, Reply("ack", lines=(texts.NOTHING_PENDING_YES,), buttons=() if state.need.scope
                        else shop.categories())


def _on_no(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    pending = state.pending or ""
    if pending == "consent":
        return dataclasses.replace(state, pending=None), Reply(
            "ack", lines=(texts.CONSENT_NO,), effects=(Effect("consent", value=False),))
    if pending == "satisfaction":
        return dataclasses.replace(state, pending=None), Reply(
            "ack", lines=(texts.NOT_SATISFIED,), effects=(Effect("satisfied", value=False),))
    if pending.startswith("relax:"):
        return dataclasses.replace(state, pending=None), Reply("help", lines=(texts.KEEP_IT,))
    if pending.startswith("another:"):
        return dataclasses.replace(state, pending=None), Reply("ack", lines=(texts.KEEP_THESE,))
    if pending in ("category", *_DETAIL_QUESTIONS):
        return _on_dont_mind(state, move, shop)
    if state.shown:
        return _on_reject_all(state, move, shop)
    return dataclasses.replace(state, pending=None), Reply("ack", lines=(texts.NOTHING_PENDING_NO,))


def _on_unclear(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    if state.pending is None and move.text and not state.need.scope and not shop.off_topic(move.text):
        # a guess may start a need, never switch one; talk like the NLU's off-topic examples starts none
        searched = _searched(move, shop, move.text)  # words the NLU could not place that name something we sell
        if searched is not None:
            return _on_state(state, searched, shop)
        closest = _closest(_with_need(state, dataclasses.replace(state.need, text=move.text)), shop)  # "sunnies"
        if closest is not None:
            return closest
    if state.unclear < MAX_REPHRASES:
        options = [o for o in move.options if o in texts.REPHRASE_OPTIONS][:3]
        if "human_handoff" not in options:
            options.append("human_handoff")
        buttons = tuple((texts.REPHRASE_OPTIONS[o], f"/{o}") for o in options)
        return dataclasses.replace(state, unclear=state.unclear + 1), Reply(
            "rephrase", lines=(texts.REPHRASE,), buttons=buttons)
    state = dataclasses.replace(state, unclear=0)
    if state.need.scope:
        new_state, reply = _show(state, shop, intro=texts.MEANWHILE, exclude=state.seen)
        return new_state, dataclasses.replace(reply, question=reply.question or texts.OFFER_HUMAN,
                                              buttons=reply.buttons or ((texts.HUMAN, "/human_handoff"),))
    return dataclasses.replace(state, pending="category"), Reply(
        "question", lines=(texts.STILL_UNCLEAR,), buttons=(*shop.categories(), (texts.HUMAN, "/human_handoff")))


def _on_out_of_scope(state: State, move: Move, shop: Shop) -> tuple[State, Reply]:
    """Words the NLU placed outside the shop: the catalog has the last word ("a bike for a 5 year old").

    Unless they read like the off-topic talk the NLU knows ("is it gonna rain" is no request for rain
    jackets): then, and when the catalog has no kind for the words, the polite redirect.
    """
    if not shop.off_topic(move.text):
        searched = _searched(move, shop, move.text)
        if searched is not None:
            return _on_state(dataclasses.replace(state, pending=None), searched, shop)
    return state, Reply("out_of_scope", lines=(texts.OUT_OF_SCOPE,), buttons=shop.categories()[:6])


_HANDLERS = {
    "ask": _on_ask,
    "catalog": _on_catalog,
    "complements": _on_complements,
    "state": _on_state,
    "dont_mind": _on_dont_mind,
    "reject_all": _on_reject_all,
    "feedback": _on_feedback,
    "critique": _on_critique,
    "show_more": _on_show_more,
    "more_like": _on_more_like,
    "compare": _on_compare,
    "why": _on_why,
    "choose": _on_choose,
    "start_over": _on_start_over,
    "browse": _on_browse,
    "surprise": _on_surprise,
    "yes": _on_yes,
    "no": _on_no,
    "unclear": _on_unclear,
    "out_of_scope": _on_out_of_scope,
}

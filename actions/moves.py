"""From what the NLU parsed to a :class:`~actions.conversation.Move`.

Rasa's NLU names the move (the intent) and its arguments (the entities); this module reads
them, together with the customer's own words, into one move. The words back the NLU up
where it is least reliable: a negation decides whether a value is ruled out, a typed 👍 / 👎
outranks the intent, an answer to the pending question is matched against the catalog's
values even when no entity was tagged, and a few closed-set phrases ("none of these",
"nope", "I don't mind") are understood even when the classifier was unsure.

No Rasa import: the input is the tracker's ``latest_message`` as a plain dict.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from typing import Any

from actions.conversation import Move, State
from actions.parsing import (
    order_of,
    parse_budget,
    parse_ordinals,
    question_positions,
    resolve_item_reference,
    without_budget,
    without_measures,
    without_references,
)
from retrieval.audience import audience_of, stated_audience
from retrieval.catalog import Product
from retrieval.contract import ATTRIBUTES, AUDIENCE
from retrieval.vocabulary import CatalogVocabulary

__all__ = ["asked_items", "entity_values", "move_from", "negated_values", "referenced_items", "sentiment_of"]

Message = Mapping[str, Any]

#: Any sign of ruling something out; without one, an ``exclude`` role from the NLU is not believed.
_NEGATION_CUE = re.compile(
    r"\b(not|no|non|without|except|(?:anything|everything|all|whatever) but|hate|avoid|never|nothing|less|instead|"
    r"rather|other than|free of|"
    r"no more)\b|n'?t\b|👎",
    re.IGNORECASE,
)
#: A negation close before an entity ("not leather", "anything but black", "no glass please").
_NEGATION = re.compile(
    r"\b(not|no|non|nothing|without|except|(?:anything|everything|all|whatever) but|hate|avoid|never|"
    r"don'?t want|dont want|free of)\b[\s\w-]{0,12}$",
    re.IGNORECASE,
)
#: The confidence a like or dislike needs as the runner-up to give a sentiment to a message of another intent.
_SENTIMENT_RUNNER_UP = 0.2
_REJECT_PHRASE = re.compile(
    r"^\W*(none of (these|those|them|this)|nah|nope|no+|not (these|those|that|them|it|really)|neither)\b",
    re.IGNORECASE)
_DONT_MIND = re.compile(
    r"\b(i )?(don'?t|dont|do not) (mind|care)\b|\bwhatev(er|s)?\b|\banything\b|\bno pref(erence)?s?\b|"
    r"\bnot (fussed|bothered|picky|important)\b|\b(doesn'?t|does not|dont) matter\b|\bidc\b|\bidk\b|"
    r"\bany(one|thing)?( is| are| will| would)? (fine|ok|okay|good|do|works?)\b|\beh,? any\b|\beither\b|"
    r"\bwhich ?ever\b|\bup to (you|u)\b|\byou (choose|pick|decide)\b|\bdunno\b|\bno idea\b|\bsurprise me\b",
    re.IGNORECASE)
_TOO_EXPENSIVE = re.compile(r"\b(too (expensive|pricey|dear|much)|expensive|pricey|overpriced|cheaper|cost too)\b",
                            re.IGNORECASE)
#: "any colour is fine", "forget the budget", "price doesn't matter".
_DROP = re.compile(
    r"\b(?:any|whatever|forget(?: about)? the|drop the|never ?mind the|no|ignore the)\s+"
    r"(colou?r|material|style|brand|budget|price)s?\b"
    r"|\b(colou?r|material|style|brand|budget|price)s? (?:doesn'?t|does not|don'?t) matter\b", re.IGNORECASE)
_YES = re.compile(r"^\W*(y(es|ep|eah|up|a)?|sure|ok(ay)?|k|definitely|absolutely|of course|please do|go (on|ahead)|"
                  r"sounds good|perfect|great|sorted|it did|that did)\b", re.IGNORECASE)
_NO = re.compile(r"^\W*(no+|nope|nah|not really|not yet|never|it didn'?t|that didn'?t)\b", re.IGNORECASE)
_DROP_NAMES = {"color": "colour", "colour": "colour", "price": "budget", "budget": "budget", "material": "material",
               "style": "style", "brand": "brand"}
_CRITIQUES = {"critique_cheaper": "cheaper", "critique_pricier": "pricier", "critique_bigger": "bigger",
              "critique_smaller": "smaller", "critique_different": "different"}
_SIMPLE = {"show_more": "show_more", "more_like": "more_like", "compare": "compare", "ask_why": "why",
           "choose_item": "choose", "start_over": "start_over", "browse": "browse", "surprise_me": "surprise"}
#: A budget may be in the words: digits, spoken amounts, "cheap".
_BUDGET_CUE = re.compile(r"\d|\b(budget|cheap|hundred|thousand|grand|bucks|dollars|quid)\b", re.IGNORECASE)
#: Words and marks that make a number a price.
_MONEY_CUE = re.compile(r"[$₹€£]|\b(under|below|over|max|budget|less than|up to|between|at most|rs|inr|usd|bucks|"
                        r"dollars|quid|euros|pounds|rupees|cheap|price)\b|\d\s*k\b", re.IGNORECASE)
#: Attributes whose catalog values are read from the words when the NLU tagged none.
_WORDS_BACK_UP = ("colour", "material")
#: Intents whose message may state a wish without the NLU tagging it.
_UNTAGGED_INTENTS = ("inform", "request_recommendation", "nlu_fallback", "", "ask_item", "ask_catalog",
                     "critique_different")
#: Words that make a message a description of what is wanted (its text enriches the query).
_DESCRIBING_INTENTS = ("request_recommendation", "inform", "reject_all", "browse")
#: "The grey one", "the oak ones": a card named by its own words.
_ONE = re.compile(r"\bones?\b", re.IGNORECASE)
#: Words pointing at an item on screen ("i like the first", "is it leather?").
_POINTS_AT = re.compile(r"\b(it|its|this|that|these|those|them|they|one|ones|first|second|third|last|"
                        r"1st|2nd|3rd|#\d)\b|👍|👎", re.IGNORECASE)
_PUNCTUATION = string.punctuation + "¿¡…"
#: Intents that are about the items on screen.
_ABOUT_THE_LIST = ("critique_cheaper", "critique_pricier", "critique_bigger", "critique_smaller", "critique_different",
                   "like", "dislike", "feedback", "more_like", "compare", "ask_why", "choose_item", "show_more",
                   "ask_item", "ask_complements")


#: Words that say nothing of what is wanted, for telling "under 50 please" from "a kite".
_SAYS_NOTHING = frozenset(("please", "pls", "thanks", "only", "just", "max", "budget", "cheap", "cheaper", "something",
                           "anything", "stuff", "that", "this", "those", "these", "ones", "then", "okay", "fine"))


#: The words of asking for a difference, which say nothing of what the difference is ("something different").
_COMPARING = frozenset(("different", "differently", "other", "another", "else", "than", "rather", "instead"))


def _says_what(text: str) -> bool:
    """Whether the words, budget aside, describe something ("a kite for the beach", not "under 50 please")."""
    return any(len(w) >= 4 and w not in _SAYS_NOTHING for w in re.findall(r"[a-z]+", without_budget(text.lower())))


def _text(message: Message) -> str:
    return str(message.get("text") or "")


def _intent(message: Message) -> str:
    return str((message.get("intent") or {}).get("name") or "")


def _role(entity: Mapping[str, Any], text: str) -> str | None:
    """The entity's role as the words support it.

    The model learns the ``exclude`` role from many "not leather" examples and sometimes gives
    it to a bare "leather" (an answer to "Any preferred material?") or to "do you have it in
    black?" — taking that literally would rule out exactly what the customer asked for — and
    sometimes misses it in "not cotton". A negation just before the entity makes it an
    exclusion; an ``exclude`` with no negation anywhere in the message is dropped.
    """
    role = entity.get("role")
    start = entity.get("start")
    if role is None and isinstance(start, int) and _NEGATION.search(text[:start]):
        return "exclude"
    if role == "exclude" and not _NEGATION_CUE.search(text):
        return None
    return None if role is None else str(role)


def entity_values(message: Message, entity: str, role: str | None = None) -> list[str]:
    """Values of an entity in the message (``role=None``: entities without a role)."""
    text = _text(message)
    return [
        str(e.get("value"))
        for e in message.get("entities") or []
        if e.get("entity") == entity and _role(e, text) == role and e.get("value") not in (None, "")
    ]


def negated_values(message: Message, entity: str) -> list[str]:
    """Values of an entity the message rules out (the ``exclude`` role, or a negation just before it)."""
    found: list[str] = []
    for value in entity_values(message, entity, "exclude"):
        if value.lower() not in found:
            found.append(value.lower())
    return found


def sentiment_of(message: Message) -> str | None:
    """``"like"`` or ``"dislike"``: from a button's entity, a typed 👍 / 👎, the intent, or its runner-up.

    A thumb the customer typed outranks the intent: the character is exact, the intent is the
    classifier's guess (one that once took 👎🏻 for a like).
    """
    explicit = entity_values(message, "sentiment")
    if explicit and explicit[0] in ("like", "dislike"):
        return explicit[0]
    text = _text(message)
    up, down = "👍" in text, "👎" in text
    if up != down:
        return "like" if up else "dislike"
    intent = _intent(message)
    if intent in ("like", "dislike"):
        return intent
    # "some bad feedback on these": the classifier's own second thought, when it has one
    ranked = {str(r.get("name")): float(r.get("confidence") or 0.0) for r in message.get("intent_ranking") or []}
    like, dislike = ranked.get("like", 0.0), ranked.get("dislike", 0.0)
    if max(like, dislike) >= _SENTIMENT_RUNNER_UP:
        return "like" if like > dislike else "dislike"
    return None


def referenced_items(message: Message, shown: Sequence[Product], catalog: Mapping[str, Product] | Any,
                     *, limit: int = 1) -> list[str]:
    """Ids of the items the message points at: a button's id, a title word, or an ordinal.

    With a single card shown, that card is meant.
    """
    found: list[str] = []
    for item_id in entity_values(message, "item_id"):
        if catalog.get(item_id) is not None and item_id not in found:
            found.append(item_id)
    pairs = [(p.id, p.title) for p in shown]
    for mention in [*entity_values(message, "item"), _text(message)]:
        if len(found) >= limit:
            break
        resolved = resolve_item_reference(mention, pairs) if mention else None
        if resolved is not None and resolved not in found:
            found.append(resolved)
    positions: list[int] = []
    for ordinal in entity_values(message, "ordinal"):
        positions += parse_ordinals(ordinal)
    if not positions:
        positions = parse_ordinals(_text(message))
    for position in positions:
        if -len(shown) <= position < len(shown) and shown[position].id not in found:
            found.append(shown[position].id)
    if not found and len(shown) == 1:
        found = [shown[0].id]
    return found[:limit]


def asked_about(message: Message) -> str | None:
    """The item a message was typed about with a card's "Ask about this" (the widget sends its id), or ``None``."""
    metadata = message.get("metadata")
    item = metadata.get("ask_about") if isinstance(metadata, Mapping) else None
    return item if isinstance(item, str) and item else None


def asked_items(message: Message, shown: Sequence[Product], catalog: Mapping[str, Product] | Any) -> tuple[str, ...]:
    """The shown items a question is about: a button's id, ordinals, a name, or title words of "the grey one".

    Unlike :func:`referenced_items`, a question's own numbers are not positions ("does it have two pockets"),
    and nothing found means "it": the item last talked about, which the conversation knows.
    """
    found = [i for i in [*entity_values(message, "item_id"), asked_about(message) or ""] if catalog.get(i) is not None]
    text = _text(message)
    positions = [p for o in entity_values(message, "ordinal") for p in parse_ordinals(o)[:1]] \
        or question_positions(text)
    found += [shown[p].id for p in positions if -len(shown) <= p < len(shown)]
    pairs = [(p.id, p.title) for p in shown]
    mentions = entity_values(message, "item") + ([text] if not found and _ONE.search(text) else [])
    for mention in mentions:  # "the Juno sofa", "the grey one"
        resolved = resolve_item_reference(mention, pairs)
        if resolved is not None:
            found.append(resolved)
    return tuple(dict.fromkeys(found))


def _constraints(message: Message, state: State, vocabulary: CatalogVocabulary) -> dict[str, Any]:
    """What the message states about the need: scope, budget, wishes, exclusions, drops."""
    found: dict[str, Any] = _scope(message, state, vocabulary)
    found.update(_budget(message, state.pending, vocabulary))
    found.update(_wishes_and_exclusions(message, state.pending, vocabulary))
    order = order_of(_text(message))
    if order is not None:  # "the cheapest desk": a sort inside the need, not a price band of cheap desks
        found["order"] = order
        if order in ("cheapest", "priciest"):
            found.pop("relative_budget", None)
    drops = _drops(message)
    if drops:
        found["drop"] = drops
        if "budget" in drops:
            for key in ("budget_min", "budget_max", "relative_budget", "no_budget"):
                found.pop(key, None)
    if _joins_the_query(message, state, found):
        found["text"] = _text(message)
    return found


def _scope(message: Message, state: State, vocabulary: CatalogVocabulary) -> dict[str, Any]:
    """The kind of product the message names: ``scope``, ``scope_words`` and ``scope_guessed``, or nothing.

    The words are searched for a category only when they may name one: the NLU tagged a category,
    the kind is the pending question, the classifier was unsure, or the message describes a need.
    """
    text = _text(message)
    pending = state.pending
    found: dict[str, Any] = {}
    categories = entity_values(message, "category")
    unsure = _intent(message) in ("nlu_fallback", "")
    words = without_budget(text)  # "₹1000 tops" is an amount, not the tops of a clothes shop
    candidates = [*categories, *([words] if words else [])] if categories or pending == "category" or unsure \
        or _intent(message) in _DESCRIBING_INTENTS else []
    matches = [(candidate, *vocabulary.match_how("category", candidate)) for candidate in candidates]
    # A category's own name first ("casual" hints at one category, "clothing" names another); the classifier
    # unsure, only a name counts.
    best = next((m for m in matches if m[1] and m[2] == "name"), None) or \
        (None if unsure else next((m for m in matches if m[1]), None))
    if best is not None:
        candidate, match, how = best
        found["scope"], found["scope_words"] = (match,), candidate.lower() if candidate in categories else ""
        found["scope_guessed"] = how == "alias"
        if how == "alias" and candidate not in categories and categories:
            found["scope_words"] = categories[0].lower()  # "home" guessed a kind, the NLU tagged "chair": ask both
    # A word the NLU took for a category that the shop does not have: "we don't carry" only when the
    # kind of product is the question — a stray one ("for boys") never derails another question.
    elif pending == "category" or (not state.need.scope and pending is None):
        if categories:
            found["scope_words"] = categories[0]
        elif pending == "category" and text.strip() and not _DONT_MIND.search(text):
            found["scope_words"] = text.strip()
    return found


def _budget(message: Message, pending: str | None, vocabulary: CatalogVocabulary) -> dict[str, Any]:
    """The budget the message states: ``budget_min``/``budget_max``, ``relative_budget`` or ``no_budget``, or nothing.

    The whole text is read for a range first; then each budget the NLU tagged, unless its numbers are
    not the text's own (the "13" of "iphone 13", the "100" of "100% rayon").
    """
    text = _text(message)
    budget = None
    # "iphone 13 pro" names a model and "age 10" an age: neither is a budget
    priced = without_measures(vocabulary.without_model_numbers(text))
    # An answer to an attribute question is read for a budget only when it speaks of money ("44,maroon" is a colour)
    money = _BUDGET_CUE.search(priced) and (pending not in ATTRIBUTES or _MONEY_CUE.search(priced))
    whole = parse_budget(priced) if pending == "budget" or money else None
    if whole is not None and whole.minimum is not None and whole.maximum is not None:
        budget = whole  # "between 4 and 9": the range, even when the NLU tagged only "4"
    relative = None
    for candidate in [] if budget else entity_values(message, "budget") + ([priced] if whole is not None else []):
        numbers = re.findall(r"\d+", candidate)
        if numbers and not any(re.search(rf"(?<!\d){n}(?!\d|\s*%)", priced) for n in numbers):
            continue  # the NLU tagged "13" of "iphone 13", or "100" of "100% rayon"
        budget = parse_budget(candidate)
        if budget is not None and budget.relative and relative is None:
            relative, budget = budget, None  # "cheap … under 250": an amount said beside the word wins
            continue
        if budget is not None:
            break
    budget = budget or relative
    if budget is None:
        return {}
    if budget.no_limit:
        return {"no_budget": True}
    if budget.relative:
        return {"relative_budget": budget.relative}
    return {"budget_min": budget.minimum, "budget_max": budget.maximum}


def _wishes_and_exclusions(message: Message, pending: str | None, vocabulary: CatalogVocabulary) -> dict[str, Any]:
    """The attribute values the message wishes for (``wishes``) and rules out (``exclusions``), or nothing.

    A wish is one of the catalog's values: an entity, the whole text answering that attribute's
    question, or — for the attributes the words back up — the whole text when the NLU tagged nothing.
    Whom the item is for is read from the words (:func:`retrieval.audience.stated_audience`) where the
    catalog says whom its items are for.
    """
    text = _text(message)
    wishes: dict[str, str] = {}
    exclusions: list[str] = []
    backed_up: set[str] = set()
    for name in ATTRIBUTES:
        ruled_out = negated_values(message, name)
        exclusions += [v for v in ruled_out if v not in exclusions]
        values = [v for v in entity_values(message, name) if v.lower() not in ruled_out]
        if pending == name and not values and not ruled_out and not _DONT_MIND.search(text):
            values = [text]
        elif not values and not ruled_out and name in _WORDS_BACK_UP and _intent(message) in _UNTAGGED_INTENTS \
                and not _NEGATION_CUE.search(text):
            values = [text]  # "in gold if u have it": the catalog's own colour, untagged by the NLU
            backed_up.add(name)
        for value in values:
            match = vocabulary.match_how(name, value, answer=pending == name)[0]
            if match:
                wishes[name] = match
                break
    if vocabulary.audiences:  # "men's", "for my son", or the answer "Men" to "Who or what is it for?"
        audience = (None if text.startswith("/") else stated_audience(text)) or audience_of(wishes.get("use", ""))
        if audience and vocabulary.covers(AUDIENCE, audience):
            wishes[AUDIENCE] = audience
    answer = wishes.get(str(pending), "").lower()
    for name in backed_up:  # "steel" to the colour question is the colour, not a steel material too
        if name != pending and answer and wishes.get(name, "").lower() == answer:
            del wishes[name]
    found: dict[str, Any] = {}
    if wishes:
        found["wishes"] = wishes
    if exclusions:
        found["exclusions"] = tuple(exclusions)
    return found


def _drops(message: Message) -> tuple[str, ...]:
    """The constraints the message drops ("any colour is fine", "price doesn't matter"), each once, in order."""
    drops = [_DROP_NAMES[(m.group(1) or m.group(2)).lower()] for m in _DROP.finditer(_text(message))]
    if _intent(message) == "no_preference":
        drops += [_DROP_NAMES[a] for a in entity_values(message, "attribute") if a in _DROP_NAMES]
    return tuple(dict.fromkeys(drops))


def _joins_the_query(message: Message, state: State, found: Mapping[str, Any]) -> bool:
    """Whether the customer's words join the need's query text, given what else the message states.

    The customer's words join the query — not a button's payload ('/inform{"category": "Sofas"}'); and words
    that name no kind replace the words of a need that named none either ("something cosy for reading",
    then "something to keep my drinks cold").
    """
    text = _text(message)
    fresh = not state.need.scope and not found.get("scope") and _says_what(text)
    return _intent(message) in _DESCRIBING_INTENTS and not text.startswith("/") \
        and bool(found.get("scope") or not state.need.text or fresh)


def move_from(message: Message, state: State, vocabulary: CatalogVocabulary,
              catalog: Mapping[str, Product] | Any) -> Move:
    """The move the customer's latest message makes, in this state of the conversation."""
    intent = _intent(message)
    text = _text(message)
    shown = [p for i in state.shown if (p := catalog.get(i)) is not None]
    items = tuple(referenced_items(message, shown, catalog, limit=2))
    constraints = _constraints(message, state, vocabulary)
    options = tuple(str(r.get("name")) for r in message.get("intent_ranking") or [] if r.get("name"))
    if text.strip() and not text.strip(_PUNCTUATION + " "):
        return Move("unclear", options=options)  # "???", "...": confusion, no request to show the starter list for
    if intent == "out_of_scope" and not asked_about(message):
        return Move("out_of_scope", text=text.strip())
    if asked_about(message) and intent not in (*_CRITIQUES, "like", "dislike", "choose_item", "more_like", "compare"):
        intent = "ask_item"  # typed after "Ask about this" on a card: a question about that card, whatever it says
        return _move_of(message, intent, state, items, constraints, options, asked_items(message, shown, catalog))
    read = _read_in_context(message, intent, state, vocabulary, constraints, options)
    if isinstance(read, Move):
        return read
    intent, constraints = read
    return _move_of(message, intent, state, items, constraints, options, asked_items(message, shown, catalog))


def _frame(message: Message) -> str:
    """The words of a question without what it names: what is asked about them.

    "How many [sofas] do you have [under 500]" is "how many do you have": a count, not a question of prices.
    """
    text = _text(message)
    spans = sorted((int(e["start"]), int(e["end"])) for e in message.get("entities") or []
                   if isinstance(e.get("start"), int) and isinstance(e.get("end"), int))
    for start, end in reversed(spans):
        text = text[:start] + " " + text[end:]
    return " ".join(without_budget(text).split()) or _text(message).strip()


def _read_again(message: Message, intent: str, state: State, vocabulary: CatalogVocabulary) -> dict[str, Any]:
    """The constraints of the message read as if the NLU had named ``intent``."""
    return _constraints({**message, "intent": {"name": intent}}, state, vocabulary)


def _read_in_context(message: Message, intent: str, state: State, vocabulary: CatalogVocabulary,
                     constraints: dict[str, Any], options: tuple[str, ...]) -> tuple[str, dict[str, Any]] | Move:
    """The intent as this moment of the conversation reads it, and the constraints read again for it.

    The classifier unsure, the words decide (:func:`_rescue`); an intent about the list with nothing
    on screen is the opening request; a category named by its own name while something else is
    asked about is a new need. Where that already decides the move ("start again", a message that
    states nothing), the move is returned instead.
    """
    text = _text(message)
    if intent == "nlu_fallback" or not intent:
        intent = _rescue(text, state, constraints)
        if intent == "nlu_fallback":  # the words decide nothing: the classifier's likeliest, if it is a question
            intent = _unsure_question(message, state) or intent
        if intent in _DESCRIBING_INTENTS:  # read again as a description: its words say what is wanted
            constraints = _read_again(message, intent, state, vocabulary)
    if intent in _ABOUT_THE_LIST and not state.shown and not state.need.scope and not _POINTS_AT.search(text) \
            and not entity_values(message, "ordinal"):
        # Nothing on screen to be about: "growth chart" (read as "bigger"), "barbie accessories" ("pricier")
        # are the opening request, in the words of a shop the NLU was not trained on; or no request at all
        # ("where is my order", "lol"): stating nothing else, they are unclear, searched before they are asked about.
        intent = "request_recommendation"
        constraints = _read_again(message, intent, state, vocabulary)
        if not any(k != "text" for k in constraints):
            return Move("unclear", text=text.strip(), options=options)
    if intent == "ask_item" and not (state.shown or state.chosen):
        # a question with no item to be about ("on second thoughts a clothing" read as one): what its words state
        intent = "inform" if state.pending else "request_recommendation"
        constraints = _read_again(message, intent, state, vocabulary)
    if intent == "ask_catalog":  # "how many sofas under 500?": the need it states is read as a request's is
        constraints = {**_read_again(message, "request_recommendation", state, vocabulary), "text": _frame(message)}
    if intent in ("affirm", "show_more", "no_preference", "browse") and state.need.scope:
        named, how = vocabulary.match_how("category", text)
        if named and how == "name" and named not in state.need.scope:  # "cool. now grocery stuff": a new need
            intent = "request_recommendation"
            constraints = _read_again(message, intent, state, vocabulary)
    return intent, constraints


def _move_of(message: Message, intent: str, state: State, items: tuple[str, ...], constraints: dict[str, Any],
             options: tuple[str, ...], asked_items: tuple[str, ...] = ()) -> Move:
    """The move an intent makes, read in context (:func:`_read_in_context`), with the items and constraints it names."""
    text = _text(message)
    yes_no_pending = state.pending is not None and (state.pending in ("consent", "satisfaction")
                                                    or state.pending.startswith("relax:"))
    if intent == "affirm":
        return Move("yes")
    if intent == "deny":
        if state.shown and not yes_no_pending and state.pending is None:
            return Move("reject_all", **_without_text(constraints))
        return Move("no")
    if intent == "reject_all":
        return Move("reject_all", critique="cheaper" if _TOO_EXPENSIVE.search(text) else None, **constraints)
    if intent in ("like", "dislike", "feedback"):
        too_expensive = _TOO_EXPENSIVE.search(text) is not None and sentiment_of(message) == "dislike"
        return Move("feedback", items=items[:1], sentiment=sentiment_of(message),
                    critique="cheaper" if too_expensive else None)
    if constraints.get("order") and intent in (*_CRITIQUES, "show_more", "no_preference", "browse"):
        return Move("state", **constraints)  # "show me the cheapest ones" after a list: a sort, not "cheaper"
    if intent in _CRITIQUES:
        return _critique(message, intent, items, constraints)
    if intent == "no_preference":
        return _dont_mind(text, state, constraints)
    if intent == "browse" and not state.need.scope:
        intent = "request_recommendation"  # "a growth chart", "stuff for the pool": browsing that names a kind
    if intent == "surprise_me" and state.pending is None and not state.shown and not state.need.scope:
        # "something spooky for halloween", "craving something sweet and cold": a surprise that says what about
        return Move("surprise", text=text.strip())
    if intent == "compare":  # "which is better for a small room, 1 or 3?": what for, in its own words
        return Move("compare", items=items, text=" ".join(re.sub(r"\b\d\b", " ", without_references(text)).split()))
    if intent in _SIMPLE:
        return Move(_SIMPLE[intent], items=items)  # type: ignore[arg-type]
    if intent == "ask_item":  # a question about an item is answered; it never changes the need
        return Move("ask", items=asked_items, text=without_references(text).strip(),
                    wishes=dict(constraints.get("wishes") or {}))
    if intent == "ask_complements":  # "what goes with it?": within a budget it states, if it does
        return Move("complements", items=items, **{k: v for k, v in constraints.items()
                                                   if k in ("budget_min", "budget_max")})
    if intent == "ask_catalog":
        if items and state.shown:  # "how many of the first one are left": a question about that card
            return Move("ask", items=items, text=without_references(text).strip())
        return Move("catalog", **constraints)
    if intent in ("request_recommendation", "inform"):
        return _statement(intent, text, state, constraints)
    return Move("unclear", options=options, text=text.strip() if intent == "nlu_fallback" else "")


def _critique(message: Message, intent: str, items: tuple[str, ...], constraints: Mapping[str, Any]) -> Move:
    """A critique of one item ("cheaper than the second", "the first in another colour")."""
    attribute = next(iter(entity_values(message, "attribute")), None)
    value_name, value = next(((k, v) for k, v in (constraints.get("wishes") or {}).items()), (None, None))
    # "something spookier than these" names no attribute: its own words say how the next ones should differ
    words = _text(message).strip() if intent == "critique_different" and not (attribute or value_name) \
        and _says_what(" ".join(w for w in _text(message).lower().split() if w not in _COMPARING)) else ""
    return Move("critique", items=items[:1], critique=_CRITIQUES[intent],  # type: ignore[arg-type]
                attribute=value_name or attribute, value=value, exclusions=constraints.get("exclusions", ()),
                text=words)


def _dont_mind(text: str, state: State, constraints: Mapping[str, Any]) -> Move:
    """An "I don't mind": waiving the pending question or what the message drops."""
    waived = {k: v for k, v in _without_text(constraints).items() if not (k == "no_budget" and state.pending)}
    opening = state.pending is None and not state.shown and not state.need.scope
    # "no budget" answering the budget question waives it; "anything to chew on?" opening a chat is a request
    return Move("dont_mind", **waived, text=text.strip() if opening else "")


def _statement(intent: str, text: str, state: State, constraints: Mapping[str, Any]) -> Move:
    """A request or an answer: the constraints it states, or — stating none — a search for its words."""
    if state.pending in ("budget", *ATTRIBUTES) and not any(k != "text" for k in constraints) \
            and not _DONT_MIND.search(text):
        return Move("state", unmatched=text.strip())  # an answer that fits none of the catalog's values
    if not any(k != "text" for k in constraints):
        words = str(constraints.get("text", ""))  # "a kite": the catalog is searched for what it means
        return Move("browse", text=words) if intent == "request_recommendation" and not state.need.scope \
            else Move("show_more") if state.shown else Move("browse", text=words)
    return Move("state", **constraints)


def _without_text(constraints: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in constraints.items() if k != "text"}


def _unsure_question(message: Message, state: State) -> str | None:
    """``ask_item`` when the classifier, unsure, still found a question likeliest and there are items to be about."""
    if not (state.shown or state.chosen):
        return None
    ranked = [r for r in message.get("intent_ranking") or [] if r.get("name") not in ("nlu_fallback", None)]
    return "ask_item" if ranked and ranked[0].get("name") == "ask_item" else None


def _rescue(text: str, state: State, constraints: Mapping[str, Any]) -> str:
    """The intent of a message the classifier was unsure of, when its words leave no doubt."""
    pending = state.pending or ""
    if pending in ("consent", "satisfaction") or pending.startswith("relax:"):
        if _YES.search(text):
            return "affirm"  # "yep sorted thanks" answering "did that solve it?"
        if _NO.search(text):
            return "deny"
    if state.shown and _REJECT_PHRASE.search(text):
        return "reject_all"
    up, down = "👍" in text, "👎" in text
    if up != down:
        return "like" if up else "dislike"
    if _DONT_MIND.search(text) or (constraints.get("drop") and len(constraints) == 1):
        return "no_preference"
    if constraints.get("scope") or constraints.get("wishes") or "budget_max" in constraints \
            or "budget_min" in constraints:
        return "inform"
    if state.pending in ("budget", *ATTRIBUTES) and 0 < len(text.split()) <= 4:
        return "inform"  # a short answer to the question: checked against the catalog's values
    return "nlu_fallback"

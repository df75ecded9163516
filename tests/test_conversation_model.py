"""The conversation model, table by table: (state, move) → (state, reply) on the demo catalog.

Each row starts from a state built on the demo catalog (hashing encoder: fast, deterministic),
applies one move and checks the reply's kind, the cards against the catalog, the new state and
what is said. The same move is tried in several contexts — at the start, inside the questions,
right after a list, after a like or a choice — since it must mean the same thing in each.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from actions import texts
from actions.catalog_shop import CLOSEST_SHARE, CLOSEST_UNSHARED_SHARE, CatalogShop, size_number
from actions.conversation import ITEMS_PER_TURN, MAX_REPHRASES, Move, Need, Reply, State, apply
from actions.off_topic import OffTopic
from retrieval.catalog import Catalog, Product
from retrieval.encoder import HashingEncoder
from retrieval.recommender import Recommender, Scored
from retrieval.search import Retriever
from retrieval.settings import PROJECT_ROOT
from retrieval.vocabulary import CatalogVocabulary
from tests.actions_support import make_services

SERVICES = make_services()
SHOP = CatalogShop(SERVICES.recommender, SERVICES.vocabulary)
CATALOG = SERVICES.recommender.catalog


def product(item_id: str) -> Product:
    found = CATALOG.get(item_id)
    assert found is not None
    return found


def listed(need: Need, **changes: Any) -> State:
    """A state right after the first list for ``need``."""
    cards = SHOP.recommend(need, (), k=ITEMS_PER_TURN)
    ids = tuple(s.product.id for s in cards)
    assert len(ids) == ITEMS_PER_TURN, f"the demo catalog has too few items for {need}"
    state = State(need=need, lists=(ids,), seen=ids, reasons=tuple(s.reason for s in cards), questions=3)
    return replace(state, **changes)


SOFAS_800 = Need(scope=("Sofas",), scope_words="sofa", budget_max=800.0, exclusions=("leather",),
                 settled=("budget",))
RUGS_120 = Need(scope=("Rugs",), scope_words="rug", budget_max=120.0, settled=("budget",))
LAMPS = Need(scope=("Lamps",), scope_words="lamp")
DESKS = Need(scope=("Desks",), scope_words="desk")
ALL_LAMPS = tuple(p.id for p in CATALOG if p.category == "Lamps")


def start() -> State:
    return State()


def asking(attribute: str, need: Need = LAMPS) -> Callable[[], State]:
    return lambda: State(need=need, pending=attribute, questions=1)


def after_list(need: Need, **changes: Any) -> Callable[[], State]:
    return lambda: listed(need, **changes)


def after_like(need: Need) -> Callable[[], State]:
    def build() -> State:
        state = listed(need)
        return replace(state, liked=(state.shown[0],))
    return build


def after_choice(need: Need) -> Callable[[], State]:
    def build() -> State:
        state = listed(need)
        return replace(state, chosen=(state.shown[0],), pending="satisfaction")
    return build


def first(state: State) -> str:
    return state.shown[0]


def second(state: State) -> str:
    return state.shown[1]


@dataclass(frozen=True)
class Case:
    """One row: where the conversation is, what the customer does, what must hold after."""

    name: str
    state: Callable[[], State]
    move: Callable[[State], Move]
    kind: str | None = None
    pending: str | type[Ellipsis] | None = ...  # type: ignore[valid-type]
    scope: tuple[str, ...] | None = None
    max_price: float | None = None
    below: Callable[[State], str] | None = None
    above: Callable[[State], str] | None = None
    fresh: bool = False
    new_to_screen: bool = False
    says: str | None = None
    not_says: str | None = None
    need: dict[str, Any] = field(default_factory=dict)
    effects: tuple[str, ...] | None = None
    check: Callable[[State, State, Reply], None] | None = None


def _said(reply: Reply) -> str:
    return " ".join([*reply.lines, reply.intro, reply.question])


def _colours(reply: Reply) -> set[str | None]:
    return {s.product.colour for s in reply.cards}


def _rejected_never_back(before: State, after: State, reply: Reply) -> None:
    assert not {s.product.id for s in reply.cards} & set(before.shown)
    assert set(before.shown) <= set(after.rejected)


def _same_need_new_items(before: State, after: State, reply: Reply) -> None:
    assert after.need == before.need


def _bigger(before: State, after: State, reply: Reply) -> None:
    anchor = size_number(product(before.shown[0]).size) or 0
    assert reply.cards and all((size_number(s.product.size) or 0) > anchor for s in reply.cards)


def _smaller(before: State, after: State, reply: Reply) -> None:
    anchor = size_number(product(before.shown[0]).size) or 0
    assert reply.cards and all((size_number(s.product.size) or 1e9) < anchor for s in reply.cards)


def _other_colour(before: State, after: State, reply: Reply) -> None:
    assert reply.cards and product(before.shown[0]).colour not in _colours(reply)


def _all_grey(before: State, after: State, reply: Reply) -> None:
    assert reply.cards and _colours(reply) == {"grey"}


def _blue(before: State, after: State, reply: Reply) -> None:
    assert reply.cards and _colours(reply) == {"blue"}


def _fresh_state(before: State, after: State, reply: Reply) -> None:
    assert after.need == Need() and after.lists == () and after.rejected == before.rejected


def _starter(before: State, after: State, reply: Reply) -> None:
    assert len({s.product.category for s in reply.cards}) == ITEMS_PER_TURN  # one per big category
    assert reply.buttons  # and the categories to pick from


def _category_buttons(before: State, after: State, reply: Reply) -> None:
    assert len(reply.buttons) >= 10 and all(p.startswith("/inform") for _, p in reply.buttons[:10])


def _handoff_offered(before: State, after: State, reply: Reply) -> None:
    assert any(p == "/human_handoff" for _, p in reply.buttons)


def _rephrase_count(count: int) -> Callable[[State, State, Reply], None]:
    def check(before: State, after: State, reply: Reply) -> None:
        assert after.unclear == count
    return check


def _liked_kept(before: State, after: State, reply: Reply) -> None:
    assert after.liked == (before.shown[0],)


def _rug_budget_dropped(before: State, after: State, reply: Reply) -> None:
    assert after.need.budget_max is None and after.need.scope == ("Sofas",)
    assert reply.kind == "question" or all(s.product.category == "Sofas" for s in reply.cards)


def _lamp_price_cap_from_cheapest(before: State, after: State, reply: Reply) -> None:
    cheapest = min(product(i).price for i in before.shown)
    assert reply.cards and all(s.product.price < cheapest for s in reply.cards)


def _truthful_cheapest(before: State, after: State, reply: Reply) -> None:
    cheapest = min(p.price for p in CATALOG if p.category == "Lamps" and p.in_stock)
    assert product(before.shown[0]).price == cheapest
    assert not reply.cards


def _budget_reasons_only_when_stated(before: State, after: State, reply: Reply) -> None:
    assert all("budget" not in line for line in reply.lines)


def _compare_two(before: State, after: State, reply: Reply) -> None:
    [answer] = reply.lines
    assert answer.startswith(f"{product(before.shown[0]).title} vs {product(before.shown[2]).title}:")
    assert "• price:" in answer


def _two_sofa_kinds_or_question(before: State, after: State, reply: Reply) -> None:
    assert after.need.scope == ("Sofas",) and after.pending in (None, "budget", "colour", "material", "style", "use")


CHEAPEST_LAMP = min((p for p in CATALOG if p.category == "Lamps" and p.in_stock), key=lambda p: p.price).id

CASES = [
    # -- stating a need, at the start ------------------------------------------------------------------
    Case("a kind of product asks the best question", start, lambda s: Move("state", scope=("Sofas",)),
         kind="question", pending="budget", need={"scope": ("Sofas",)}),
    Case("everything up front goes straight to cards when few fit", start,
         lambda s: Move("state", scope=("Sofas",), budget_max=800.0, exclusions=("leather",)),
         kind="cards", scope=("Sofas",), max_price=800.0, not_says="leather"),
    Case("a budget alone asks what kind", start, lambda s: Move("state", budget_max=300.0),
         kind="question", pending="category", need={"budget_max": 300.0}),
    Case("an unknown kind of product names what the shop has", start,
         lambda s: Move("state", scope_words="spaceship"), kind="unknown_kind", pending="category",
         says="we don't carry \"spaceship\""),
    Case("a relative budget resolves against the category's prices", start,
         lambda s: Move("state", scope=("Lamps",), relative_budget="cheap"),
         check=lambda b, a, r: (a.need.budget_max is not None and a.need.budget_min is None
                                and a.need.budget_max < 200)),
    Case("a wish nothing has: asked before dropping it", start,
         lambda s: Move("state", scope=("Sofas",), budget_max=800.0, wishes={"colour": "grey"}),
         kind="offer_relax", pending="relax:colour", says="no grey sofas"),
    # -- answering the questions -----------------------------------------------------------------------
    Case("a budget answer is taken and the next question comes", asking("budget", Need(scope=("Sofas",))),
         lambda s: Move("state", budget_max=1500.0), kind="question",
         need={"budget_max": 1500.0}, check=lambda b, a, r: a.pending in ("colour", "material", "style", "use")),
    Case("I don't mind inside a question skips it", asking("colour", Need(scope=("Sofas",))),
         lambda s: Move("dont_mind"), check=lambda b, a, r: "colour" in a.need.settled and a.pending != "colour"),
    Case("no to a question means I don't mind", asking("budget", Need(scope=("Desks",))), lambda s: Move("no"),
         check=lambda b, a, r: "budget" in a.need.settled and a.pending != "budget"),
    Case("yes to a question means I don't mind", asking("material", Need(scope=("Desks",))),
         lambda s: Move("yes"), check=lambda b, a, r: "material" in a.need.settled),
    Case("I don't mind to what kind browses", asking("category", Need()), lambda s: Move("dont_mind"),
         kind="cards", check=_starter),
    Case("a colour answer is a hard wish", asking("colour", Need(scope=("Sofas",), settled=("budget",))),
         lambda s: Move("state", wishes={"colour": "grey"}), check=lambda b, a, r: r.kind == "question"
         or _all_grey(b, a, r) is None),
    Case("a new kind inside a question starts a new need", asking("colour", RUGS_120),
         lambda s: Move("state", scope=("Sofas",)), check=_rug_budget_dropped),
    Case("three questions at most", lambda: State(need=Need(scope=("Sofas",)), pending="colour", questions=3),
         lambda s: Move("dont_mind"), kind="cards", scope=("Sofas",)),
    # -- correcting and dropping, after a list ---------------------------------------------------------
    Case("a colour after a list filters to that colour", after_list(Need(scope=("Sofas",))),
         lambda s: Move("state", wishes={"colour": "grey"}), kind="cards", check=_all_grey),
    Case("actually blue replaces the wished colour", after_list(Need(scope=("Rugs",), wishes={"colour": "beige"})),
         lambda s: Move("state", wishes={"colour": "blue"}), kind="cards", check=_blue,
         need={"wishes": {"colour": "blue"}}),
    Case("make it 600 replaces the budget", after_list(SOFAS_800),
         lambda s: Move("state", budget_max=600.0), kind="cards", max_price=600.0, need={"budget_max": 600.0}),
    Case("forget the budget drops it", after_list(SOFAS_800), lambda s: Move("dont_mind", drop=("budget",)),
         kind="cards", need={"budget_max": None}),
    Case("any colour is fine drops the colour", after_list(Need(scope=("Rugs",), wishes={"colour": "blue"})),
         lambda s: Move("dont_mind", drop=("colour",)), kind="cards", need={"wishes": {}}),
    Case("no budget drops the budget", after_list(SOFAS_800), lambda s: Move("state", no_budget=True),
         kind="cards", need={"budget_max": None}),
    Case("an exclusion after a list is added", after_list(Need(scope=("Lamps",))),
         lambda s: Move("state", exclusions=("brass",)), kind="cards", scope=("Lamps",),
         check=lambda b, a, r: all("brass" not in (s.product.material or "") for s in r.cards)
         and a.need.exclusions == ("brass",)),
    Case("not leather after wishing leather removes the wish",
         after_list(Need(scope=("Armchairs",), wishes={"material": "leather"})),
         lambda s: Move("state", exclusions=("leather",)), need={"wishes": {}, "exclusions": ("leather",)}),
    # -- a new need --------------------------------------------------------------------------------------
    Case("a new kind after a list leaves the old budget behind", after_list(RUGS_120),
         lambda s: Move("state", scope=("Sofas",), scope_words="sofas"), check=_rug_budget_dropped),
    Case("a new kind keeps what was rejected", after_list(RUGS_120, rejected=("SKU-0001",)),
         lambda s: Move("state", scope=("Lamps",)), check=lambda b, a, r: "SKU-0001" in a.rejected),
    Case("a new kind with its own budget", after_list(RUGS_120),
         lambda s: Move("state", scope=("Lamps",), budget_max=100.0),
         check=lambda b, a, r: (a.need.budget_max == 100.0 and a.need.scope == ("Lamps",) and a.lists == ())
         or r.kind == "cards"),
    Case("a new kind after a like keeps the like", after_like(RUGS_120), lambda s: Move("state", scope=("Beds",)),
         check=_liked_kept),
    Case("a new kind after a choice", after_choice(LAMPS), lambda s: Move("state", scope=("Desks",)),
         check=lambda b, a, r: a.need.scope == ("Desks",) and a.pending != "satisfaction"),
    # -- rejecting the whole list ------------------------------------------------------------------------
    Case("none of these: new items, and those never again", after_list(Need(scope=("Sofas",))),
         lambda s: Move("reject_all"), kind="cards", scope=("Sofas",), new_to_screen=True,
         check=_rejected_never_back, effects=("reject_list",)),
    Case("none of these after a like", after_like(Need(scope=("Beds",))), lambda s: Move("reject_all"),
         kind="cards", check=_rejected_never_back),
    Case("no right after a list rejects it", after_list(Need(scope=("Desks",))), lambda s: Move("no"),
         kind="cards", check=_rejected_never_back),
    Case("not that, I want double beds: reason applied", after_list(Need(scope=("Beds",))),
         lambda s: Move("reject_all", text="double beds", wishes={}, scope=("Beds",)), kind="cards",
         check=_rejected_never_back),
    Case("all too expensive: cheaper than the cheapest shown", after_list(LAMPS),
         lambda s: Move("reject_all", critique="cheaper"), check=_lamp_price_cap_from_cheapest),
    Case("none of these with nothing shown", start, lambda s: Move("reject_all"), kind="help",
         says="haven't shown you anything"),
    Case("reject everything there is: said truthfully",
         lambda: State(need=LAMPS, lists=(ALL_LAMPS[:3],), seen=ALL_LAMPS[:3], rejected=ALL_LAMPS[3:]),
         lambda s: Move("reject_all"),
         kind="nothing_fits", says="nothing that fits"),
    # -- one item ------------------------------------------------------------------------------------------
    Case("like the second: refined list without the shown ones", after_list(Need(scope=("Rugs",))),
         lambda s: Move("feedback", items=(second(s),), sentiment="like"), kind="cards", new_to_screen=True,
         check=lambda b, a, r: a.liked == (b.shown[1],), effects=("like",)),
    Case("dislike the first: never again", after_list(Need(scope=("Rugs",))),
         lambda s: Move("feedback", items=(first(s),), sentiment="dislike"), kind="cards",
         check=lambda b, a, r: b.shown[0] in a.rejected and b.shown[0] not in {c.product.id for c in r.cards},
         effects=("dislike",)),
    Case("dislike without saying which, with a list: the whole list", after_list(LAMPS),
         lambda s: Move("feedback", sentiment="dislike"), kind="cards", check=_rejected_never_back),
    Case("like without saying which asks", after_list(LAMPS), lambda s: Move("feedback", sentiment="like"),
         kind="help", says="which one"),
    Case("feedback with nothing shown", start, lambda s: Move("feedback", sentiment="like"), kind="help"),
    Case("the second one is nice but too expensive", after_list(SOFAS_800),
         lambda s: Move("feedback", items=(second(s),), sentiment="dislike", critique="cheaper"),
         below=second, max_price=800.0, not_says="raised"),
    Case("a like after a dislike un-rejects nothing but likes", after_like(LAMPS),
         lambda s: Move("feedback", items=(second(s),), sentiment="dislike"),
         check=lambda b, a, r: a.liked == (b.shown[0],) and b.shown[1] in a.rejected),
    # -- critiques -------------------------------------------------------------------------------------------
    Case("cheaper than the first card by default", after_list(Need(scope=("Desks",))),
         lambda s: Move("critique", critique="cheaper"), kind="cards", below=first, effects=("critique",)),
    Case("cheaper than the named card, within the stated budget", after_list(SOFAS_800),
         lambda s: Move("critique", critique="cheaper", items=(second(s),)), below=second, max_price=800.0,
         not_says="raised"),
    Case("cheaper than our cheapest: said, not relaxed",
         lambda: State(need=LAMPS, lists=((CHEAPEST_LAMP,),), seen=(CHEAPEST_LAMP,)),
         lambda s: Move("critique", critique="cheaper"), kind="nothing_fits", says="nothing cheaper",
         check=_truthful_cheapest),
    Case("pricier than the first", after_list(Need(scope=("Desks",))), lambda s: Move("critique", critique="pricier"),
         kind="cards", above=first),
    Case("pricier than the dearest within the budget: nothing, truthfully",
         lambda: State(need=RUGS_120, lists=((max((p for p in CATALOG if p.category == "Rugs" and p.price <= 120
                                                    and p.in_stock), key=lambda p: p.price).id,),)),
         lambda s: Move("critique", critique="pricier"), check=lambda b, a, r: not r.cards
         and r.kind in ("offer_relax", "nothing_fits") and all(c.product.price <= 120 for c in r.cards)),
    Case("bigger than the first", after_list(Need(scope=("Sofas",))), lambda s: Move("critique", critique="bigger"),
         check=_bigger),
    Case("smaller than the first", after_list(Need(scope=("Rugs",), budget_min=300.0)),
         lambda s: Move("critique", critique="smaller"), check=_smaller),
    Case("another colour moves away from the first card's", after_list(Need(scope=("Sofas",))),
         lambda s: Move("critique", critique="different", attribute="colour"), kind="cards", check=_other_colour),
    Case("in blue: the colour becomes the wish", after_list(Need(scope=("Rugs",))),
         lambda s: Move("critique", critique="different", attribute="colour", value="blue"), check=_blue),
    Case("a difference in the customer's words searches them, new items, the colour kept",
         after_list(Need(scope=("Sofas",), wishes={"colour": "grey"})),
         lambda s: Move("critique", critique="different", text="something more playful than these"), kind="cards",
         scope=("Sofas",), new_to_screen=True, says="more playful",
         check=lambda b, a, r: _all_grey(b, a, r) if a.need.text.endswith("something more playful than these")
         else pytest.fail(a.need.text)),
    Case("a critique with nothing shown", start, lambda s: Move("critique", critique="bigger"), kind="help"),
    Case("cheaper inside the questions goes on with the need", asking("colour", Need(scope=("Lamps",))),
         lambda s: Move("critique", critique="cheaper"), check=lambda b, a, r: r.kind in ("question", "cards")),
    # -- I don't mind, browse, show more ----------------------------------------------------------------------
    Case("I don't mind after a list shows new items", after_list(Need(scope=("Desks",))),
         lambda s: Move("dont_mind"), kind="cards", fresh=True, check=_same_need_new_items),
    Case("I don't mind at the start browses", start, lambda s: Move("dont_mind"), kind="cards", check=_starter),
    Case("browse at the start: a starter list", start, lambda s: Move("browse"), kind="cards", check=_starter),
    Case("browse with a need shows that need", after_list(LAMPS), lambda s: Move("browse"), kind="cards",
         scope=("Lamps",), fresh=True),
    Case("show more never repeats", after_list(Need(scope=("Desks",))), lambda s: Move("show_more"),
         kind="cards", fresh=True, scope=("Desks",)),
    Case("show more when all was seen says so truthfully",
         lambda: State(need=LAMPS, lists=(ALL_LAMPS[:3],), seen=ALL_LAMPS), lambda s: Move("show_more"),
         kind="nothing_fits", says="everything I have in"),
    Case("I don't mind to an offer to relax means yes",
         lambda: State(need=replace(SOFAS_800, wishes={"colour": "grey"}), pending="relax:colour"),
         lambda s: Move("dont_mind"), kind="cards", max_price=800.0, need={"wishes": {}}),
    Case("yes to an offer to relax drops that constraint only",
         lambda: State(need=replace(SOFAS_800, wishes={"colour": "grey"}), pending="relax:colour"),
         lambda s: Move("yes"), kind="cards", max_price=800.0, need={"exclusions": ("leather",)}),
    Case("no to an offer to relax keeps the need",
         lambda: State(need=replace(SOFAS_800, wishes={"colour": "grey"}), pending="relax:colour"),
         lambda s: Move("no"), kind="help", need={"wishes": {"colour": "grey"}}),
    # -- more like, compare, why, choose ------------------------------------------------------------------------
    Case("more like the second stays in its kind", after_list(Need(scope=("Backpacks",))),
         lambda s: Move("more_like", items=(second(s),)), kind="cards", scope=("Backpacks",), new_to_screen=True),
    Case("more like, naming nothing", after_list(LAMPS), lambda s: Move("more_like"), kind="help"),
    Case("compare 1 and 3", after_list(Need(scope=("Desks",))),
         lambda s: Move("compare", items=(s.shown[0], s.shown[2])), kind="comparison", check=_compare_two),
    Case("compare without saying which: help me decide", after_list(LAMPS), lambda s: Move("compare"),
         kind="comparison", says="my pick"),
    Case("why cites no budget the customer never gave", after_list(LAMPS), lambda s: Move("why", items=(first(s),)),
         kind="explanation", check=_budget_reasons_only_when_stated),
    Case("why cites the stated budget", after_list(SOFAS_800), lambda s: Move("why", items=(first(s),)),
         kind="explanation", says=r"under your \$800 budget"),
    Case("why after a cheaper critique cites only the stated budget",
         lambda: replace(listed(SOFAS_800), need=replace(SOFAS_800, price_cap=600.0)),
         lambda s: Move("why"), kind="explanation", not_says=r"\$600"),
    Case("choose the third", after_list(Need(scope=("Beds",))), lambda s: Move("choose", items=(s.shown[2],)),
         kind="chosen", pending="satisfaction", effects=("choose",)),
    Case("yes after a choice: satisfied", after_choice(LAMPS), lambda s: Move("yes"), kind="ack", pending=None,
         effects=("satisfied",)),
    Case("no after a choice: not satisfied", after_choice(LAMPS), lambda s: Move("no"), kind="ack", pending=None,
         effects=("satisfied",)),
    Case("yes to consent", lambda: replace(listed(LAMPS), pending="consent"), lambda s: Move("yes"), kind="ack",
         effects=("consent",)),
    Case("no with nothing pending and nothing shown", start, lambda s: Move("no"), kind="ack"),
    # -- start over, unclear --------------------------------------------------------------------------------------
    Case("start over forgets the need", after_like(RUGS_120), lambda s: Move("start_over"), kind="question",
         pending="category", check=_fresh_state),
    Case("start over inside a question", asking("budget", Need(scope=("Sofas",))), lambda s: Move("start_over"),
         kind="question", pending="category"),
    Case("first unclear message: rephrase", start, lambda s: Move("unclear", options=("show_more",)),
         kind="rephrase", check=_rephrase_count(1)),
    Case("third unclear in a row, no need: categories and a human",
         lambda: State(unclear=MAX_REPHRASES), lambda s: Move("unclear"), kind="question",
         check=lambda b, a, r: _category_buttons(b, a, r) is None and _handoff_offered(b, a, r) is None),
    Case("third unclear in a row with a need: options for it",
         lambda: replace(listed(Need(scope=("Desks",))), unclear=MAX_REPHRASES), lambda s: Move("unclear"),
         kind="cards", scope=("Desks",), check=_handoff_offered),
    Case("an understood move resets the count", lambda: State(unclear=2), lambda s: Move("browse"),
         check=_rephrase_count(0)),
    Case("surprise within the budget", after_list(RUGS_120), lambda s: Move("surprise"), kind="cards",
         max_price=120.0, fresh=True),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_move(case: Case) -> None:
    before = case.state()
    after, reply = apply(before, case.move(before), SHOP)
    said = _said(reply)
    if case.kind is not None:
        assert reply.kind == case.kind, f"{reply.kind}: {said}"
    if case.pending is not ...:
        assert after.pending == case.pending
    for card in reply.cards:
        assert card.product.id not in before.rejected
        assert card.product.in_stock
        if case.scope is not None:
            assert card.product.category in case.scope
        if case.max_price is not None:
            assert card.product.price <= case.max_price
        if case.below is not None:
            assert card.product.price < product(case.below(before)).price
        if case.above is not None:
            assert card.product.price > product(case.above(before)).price
        if case.fresh:
            assert card.product.id not in before.seen
        if case.new_to_screen:
            assert card.product.id not in before.shown
    if case.says is not None:
        assert re.search(case.says, said, re.IGNORECASE), said
    if case.not_says is not None:
        assert not re.search(case.not_says, said, re.IGNORECASE), said
    for name, value in case.need.items():
        assert getattr(after.need, name) == value, (name, getattr(after.need, name))
    if case.effects is not None:
        assert tuple(e.kind for e in reply.effects) == case.effects
    if case.check is not None:
        case.check(before, after, reply)


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 60


def test_consent_is_asked_once_after_the_first_feedback() -> None:
    state = listed(LAMPS)
    after, reply = apply(state, Move("feedback", items=(state.shown[0],), sentiment="like"), SHOP,
                         consent_askable=True)
    assert reply.question == texts.CONSENT_QUESTION and after.pending == "consent" and after.consent_asked
    _, reply = apply(after, Move("feedback", items=(after.shown[0],), sentiment="like"), SHOP,
                         consent_askable=True)
    assert reply.question != texts.CONSENT_QUESTION


def test_a_list_without_feedback_does_not_ask_for_consent() -> None:
    _, reply = apply(State(), Move("state", scope=("Lamps",), budget_max=100.0), SHOP, consent_askable=True)
    assert reply.question != texts.CONSENT_QUESTION


def test_the_state_survives_the_slot_round_trip() -> None:
    state = replace(listed(SOFAS_800), liked=("SKU-0001",), pending="relax:budget",
                    need=replace(SOFAS_800, wishes={"colour": "grey"}, avoid=(("material", "velvet"),),
                                 size=("SKU-0002", "bigger")))
    assert State.from_dict(state.to_dict()) == state


def test_a_damaged_slot_gives_a_fresh_state() -> None:
    assert State.from_dict({"lists": 5}) == State()
    assert State.from_dict("nonsense") == State()  # type: ignore[arg-type]


class SearchingShop(CatalogShop):
    """The test shop, with a fixed answer to what words mean (the real search needs the MiniLM encoder)."""

    def __init__(self, meanings: dict[str, tuple[str, ...]]) -> None:
        super().__init__(SERVICES.recommender, SERVICES.vocabulary)
        self.meanings = meanings
        self.searched: list[str] = []

    def scope_of(self, text: str) -> tuple[str, ...]:
        self.searched.append(text)
        return self.meanings.get(text, ())


def test_words_that_name_no_category_are_searched_for_their_scope() -> None:
    shop = SearchingShop({"something to read by": ("Lamps",)})
    after, reply = apply(State(), Move("browse", text="something to read by"), shop)
    assert after.need.scope == ("Lamps",) and after.need.text == "something to read by"
    assert reply.kind in ("question", "cards") and reply.kind != "unknown_kind"
    assert all(c.product.category == "Lamps" for c in reply.cards)
    # nothing close in the shop: the starter list, as for "just show me something"
    after, reply = apply(State(), Move("browse", text="a spaceship"), shop)
    assert reply.kind == "cards" and reply.intro == texts.STARTER and not after.need.scope


def test_we_do_not_carry_only_when_the_search_finds_nothing_close() -> None:
    shop = SearchingShop({"couch thing": ("Sofas",)})
    after, reply = apply(State(), Move("state", scope_words="couch thing", budget_max=900.0), shop)
    assert reply.kind == "cards" and after.need.scope == ("Sofas",) and after.need.budget_max == 900.0
    assert all(c.product.price <= 900 for c in reply.cards)
    _, reply = apply(State(), Move("state", scope_words="spaceship"), shop)
    assert reply.kind == "unknown_kind" and "we don't carry" in _said(reply)
    # words the message says the thing is for are no kind the shop lacks: which kind, for that?
    after, reply = apply(State(), Move("state", scope_words="classes", text="for online classes and homework"), shop)
    assert reply.kind == "unknown_kind" and after.pending == "category" and reply.buttons
    assert "we don't carry" not in _said(reply) and "for online classes and homework?" in _said(reply)
    _, reply = apply(State(), Move("state", scope_words="spaceship", text="a spaceship for my son"), shop)
    assert "we don't carry \"spaceship\"" in _said(reply)
    # the whole message is not close, the kind the NLU tagged in it is
    shop = SearchingShop({"couch": ("Sofas",)})
    after, reply = apply(State(), Move("state", scope_words="couch", text="our living room needs a big comfy couch"),
                         shop)
    assert after.need.scope == ("Sofas",) and shop.searched == ["our living room needs a big comfy couch", "couch"]


def test_out_of_scope_words_that_name_something_we_sell_are_a_request() -> None:
    shop = SearchingShop({"a rug for my kid's room": ("Rugs",)})
    after, reply = apply(State(), Move("out_of_scope", text="a rug for my kid's room"), shop)
    assert after.need.scope == ("Rugs",) and reply.kind in ("question", "cards")
    state = listed(LAMPS)
    after, reply = apply(state, Move("out_of_scope", text="what's the weather like"), shop)
    assert reply.kind == "out_of_scope" and reply.lines == (texts.OUT_OF_SCOPE,)
    assert reply.buttons and all(payload.startswith("/") for _, payload in reply.buttons)
    assert after == state  # nothing the customer said is lost


class OffTopicShop(SearchingShop):
    """The test shop that also knows which words read like talk about no product."""

    def __init__(self, meanings: dict[str, tuple[str, ...]], off_topic: set[str]) -> None:
        super().__init__(meanings)
        self.known_off_topic = off_topic

    def off_topic(self, text: str) -> bool:
        return text in self.known_off_topic


def test_out_of_scope_words_like_known_small_talk_are_not_searched() -> None:
    # "is it gonna rain" finds rain jackets in the catalog, but it is the weather, not a request for one
    meanings = {"is it gonna rain": ("Jackets",), "need something for the rain on my bike ride": ("Jackets",)}
    shop = OffTopicShop(meanings, {"is it gonna rain"})
    after, reply = apply(State(), Move("out_of_scope", text="is it gonna rain"), shop)
    assert reply.kind == "out_of_scope" and after == State() and shop.searched == []
    after, reply = apply(State(), Move("out_of_scope", text="need something for the rain on my bike ride"), shop)
    assert after.need.scope == ("Jackets",) and reply.kind in ("question", "cards")
    # nor is an unclear message the NLU could not place
    after, reply = apply(State(), Move("unclear", text="is it gonna rain"), shop)
    assert reply.kind == "rephrase" and shop.searched == ["need something for the rain on my bike ride"]


def test_the_catalog_shop_knows_small_talk_by_its_closeness_to_the_known_examples() -> None:
    retriever = SERVICES.recommender.retriever
    known = OffTopic(["tell me a joke", "what's the weather like today"], retriever.encoder)
    shop = CatalogShop(SERVICES.recommender, SERVICES.vocabulary, off_topic=known)
    assert shop.off_topic("tell me a joke") and shop.off_topic("What's the weather like today?")
    assert not shop.off_topic("a grey sofa under 800") and not shop.off_topic("")
    assert not CatalogShop(SERVICES.recommender, SERVICES.vocabulary).off_topic("tell me a joke")


def test_the_known_small_talk_is_the_nlu_out_of_scope_examples() -> None:
    nlu_files = sorted((PROJECT_ROOT / "data" / "nlu").glob("*.yml"))
    known = OffTopic.from_nlu(nlu_files, SERVICES.recommender.retriever.encoder)
    assert len(known.examples) >= 50 and "tell me a joke" in known.examples
    assert not any("[" in e or "](" in e for e in known.examples)


def test_an_unclear_message_is_searched_only_when_no_question_is_pending() -> None:
    shop = SearchingShop({"reading light thingy": ("Lamps",)})
    after, _ = apply(State(), Move("unclear", text="reading light thingy"), shop)
    assert after.need.scope == ("Lamps",)
    during = listed(LAMPS)  # a need on the go: an unclear message is not searched into another one
    after, reply = apply(during, Move("unclear", text="something to sit on"), SearchingShop(
        {"something to sit on": ("Sofas",)}))
    assert reply.kind == "rephrase" and after.need.scope == ("Lamps",)
    asking_colour = asking("colour")()
    after, reply = apply(asking_colour, Move("unclear", text="reading light thingy"), shop)
    assert reply.kind == "rephrase" and shop.searched == ["reading light thingy"]


def test_the_catalog_search_scopes_by_the_votes_of_the_best_matches() -> None:
    from retrieval.encoder import HashingEncoder
    from retrieval.recommender import Recommender
    from retrieval.search import Retriever
    from retrieval.vocabulary import CatalogVocabulary

    encoder = HashingEncoder(256)
    encoder.related_similarity = 0.3  # the hashing encoder has none: the search is off without one
    retriever = Retriever.build(CATALOG, encoder)
    shop = CatalogShop(Recommender(retriever), CatalogVocabulary(CATALOG))
    lamp = next(p for p in CATALOG if p.category == "Lamps")
    lamp_words = " ".join(lamp.title.lower().split()[:3])
    assert shop.scope_of(f"i want a {lamp_words} please")[0] == "Lamps"
    assert shop.scope_of("just show me something please") == ()  # words that name no kind are not searched
    assert shop.scope_of("zeppelin quasar") == ()  # nothing close
    assert CatalogShop(Recommender(Retriever.build(CATALOG, HashingEncoder(256))),
                       CatalogVocabulary(CATALOG)).scope_of(f"a {lamp_words}") == ()


def test_a_scope_guessed_from_one_word_gives_way_to_what_the_catalog_says() -> None:
    vocabulary = SERVICES.vocabulary
    assert vocabulary.match_how("category", "a sofa") == ("Sofas", "name")
    assert vocabulary.match_how("category", "sofaa") == ("Sofas", "name")  # a typo of the name is still the name
    assert vocabulary.match_how("category", "something for my office") == ("Office Chairs", "alias")
    shop = SearchingShop({"something to light my office": ("Lamps",), "a sofa": ("Sofas",),
                          "a chair for my office": ("Office Chairs", "Armchairs")})
    guessed = Move("state", scope=("Office Chairs",), scope_guessed=True, text="something to light my office")
    after, _ = apply(State(), guessed, shop)
    assert after.need.scope == ("Lamps",)
    # the catalog agrees, or has nothing to say: the guess stands
    agreed = replace(guessed, text="a chair for my office")
    assert apply(State(), agreed, shop)[0].need.scope == ("Office Chairs",)
    silent = replace(guessed, text="office")
    assert apply(State(), silent, shop)[0].need.scope == ("Office Chairs",)
    # the catalog has the guess, but something else first ("electric scooter" → the scooters' own category,
    # before the one whose name says scooters): the catalog's order
    shop.meanings["an office lamp"] = ("Lamps", "Office Chairs")
    second = replace(guessed, text="an office lamp")
    assert apply(State(), second, shop)[0].need.scope == ("Lamps", "Office Chairs")
    # the whole message too loose to search, the kind the NLU tagged in it is not: "home" guessed, "chair" tagged
    shop.meanings["chair"] = ("Armchairs",)
    tagged = replace(guessed, text="my dad works from home, a good chair for him", scope_words="chair")
    assert apply(State(), tagged, shop)[0].need.scope == ("Armchairs",)
    # a category named by its name is never replaced (only widened by a clearly closer best match: see below)
    named = Move("state", scope=("Office Chairs",), text="something to light my office")
    assert apply(State(), named, shop)[0].need.scope == ("Office Chairs",)


def test_an_ok_to_nothing_counts_towards_the_options_and_a_person() -> None:
    state, reply = apply(State(), Move("yes"), SHOP)  # "k", nothing asked
    assert reply.kind == "ack" and state.unclear == 1
    state, reply = apply(state, Move("unclear"), SHOP)  # "j"
    assert reply.kind == "rephrase"
    state, reply = apply(state, Move("unclear"), SHOP)  # "x": no third rephrase prompt in a row
    assert reply.kind != "rephrase" and any(p == "/human_handoff" for _, p in reply.buttons)
    # a yes that answers something is understood, and starts the count again
    asked = replace(listed(LAMPS), pending="consent", unclear=1)
    assert apply(asked, Move("yes"), SHOP)[0].unclear == 0


def test_a_yes_after_a_list_with_nothing_asked_shows_more() -> None:
    state = listed(LAMPS)
    after, reply = apply(state, Move("yes"), SHOP)  # "fine by me, go on"
    assert reply.kind == "cards" and not set(c.product.id for c in reply.cards) & set(state.seen)
    assert all(c.product.category == "Lamps" for c in reply.cards) and after.unclear == 0


def test_everyday_words_stand_for_the_catalog_values_they_cover() -> None:
    """"Wooden" is oak, walnut, pine or bamboo here; "not wooden" rules all of them out, whatever the titles say."""
    wood = {"oak", "walnut", "pine", "bamboo"}
    assert SHOP.vocabulary.covers("material", "wooden") == frozenset(wood)
    state = State(need=Need(scope=("Desks",), scope_words="desk", settled=("budget", "colour", "style")),
                  pending="material")
    _, reply = apply(state, Move("state", wishes={"material": "wooden"}), SHOP)
    assert reply.kind == "cards" and reply.cards
    assert {c.product.material for c in reply.cards} <= wood
    desks = [p for p in CATALOG if p.category == "Desks" and p.in_stock]
    need = Need(scope=("Desks",), wishes={"material": "wooden"})
    assert SHOP.count(need, ()) == sum(p.material in wood for p in desks)
    need = Need(scope=("Desks",), exclusions=("wooden",))
    assert SHOP.count(need, ()) == sum(p.material not in wood for p in desks) > 0
    need = Need(scope=("Sofas",), wishes={"colour": "dark"})
    assert 0 < SHOP.count(need, ()) == sum(p.colour in {"black", "charcoal", "navy"} for p in CATALOG
                                           if p.category == "Sofas" and p.in_stock)


def test_a_scope_of_several_kinds_asks_which_kind_first() -> None:
    """"Somewhere to sit" may be an armchair or a sofa: the shopkeeper asks which, once, and keeps the rest."""
    shop = SearchingShop({"somewhere comfy to sit": ("Armchairs", "Sofas")})
    after, reply = apply(State(), Move("browse", text="somewhere comfy to sit"), shop)
    assert after.pending == "kind" and after.need.scope == ("Armchairs", "Sofas")
    assert reply.kind == "question" and reply.lines == ("Which kind — armchairs or sofas?",)
    assert reply.buttons == (("Armchairs", '/inform{"category": "Armchairs"}'),
                             ("Sofas", '/inform{"category": "Sofas"}'), (texts.ANY_KIND, "/no_preference"))
    # the answer narrows the need: the budget said on the way is kept, and only a budget/detail question follows
    budgeted = replace(after, need=replace(after.need, budget_max=900.0, settled=(*after.need.settled, "budget")))
    narrowed, reply = apply(budgeted, Move("state", scope=("Sofas",), text="sofas"), shop)
    assert narrowed.need.scope == ("Sofas",) and narrowed.need.budget_max == 900.0
    assert narrowed.need.text == "somewhere comfy to sit"
    assert narrowed.pending != "kind" and narrowed.questions <= 2
    assert all(c.product.category == "Sofas" and c.product.price <= 900 for c in reply.cards)
    # "any of these": cards from both kinds, and the question is not asked again
    waived, reply = apply(after, Move("dont_mind"), shop)
    assert reply.kind == "cards" and waived.pending is None and "kind" in waived.need.settled
    assert {c.product.category for c in reply.cards} <= {"Armchairs", "Sofas"}


class ClosestShop(SearchingShop):
    """The shop with the words' nearest items known, as a search box would find them."""

    def __init__(self, meanings: dict[str, tuple[str, ...]], nearest: dict[str, tuple[str, ...]]) -> None:
        super().__init__(meanings)
        self.nearest = nearest
        self.asked: list[str] = []

    def closest(self, need: Need, text: str, k: int, exclude: Sequence[str], *, asked: bool = False) -> list[Scored]:
        self.asked.append(text)
        ids = [i for i in self.nearest.get(text, ()) if i not in exclude][:k]
        return [Scored(product(i), 1.0, rank, "a close match for what you described", 0.5)
                for rank, i in enumerate(ids, start=1)]


def test_words_that_name_no_kind_we_can_tell_get_what_a_search_box_shows() -> None:
    """Below the bar for a scope but with the catalog's own words: the nearest items, and the categories."""
    lamps = ALL_LAMPS[:3]
    shop = ClosestShop({}, {"something to read by at night": lamps})
    after, reply = apply(State(), Move("browse", text="something to read by at night"), shop)
    assert reply.kind == "cards" and reply.intro == texts.CLOSEST
    assert tuple(c.product.id for c in reply.cards) == lamps and after.shown == lamps
    assert reply.buttons == SHOP.categories()  # or a kind, to be sure
    # said as a need (with a budget), the same instead of "what are you shopping for?"
    after, reply = apply(State(), Move("state", budget_max=300.0, text="something to read by at night"), shop)
    assert reply.kind == "cards" and reply.intro == texts.CLOSEST and after.need.budget_max == 300.0
    # "I don't mind" to the category question searches the words said before
    asked = State(need=Need(text="something to read by at night"), pending="category")
    _, reply = apply(asked, Move("dont_mind"), shop)
    assert reply.intro == texts.CLOSEST
    # no word the catalog uses: the starter list, as before
    _, reply = apply(State(), Move("browse", text="a spaceship"), shop)
    assert reply.intro == texts.STARTER
    # a message the NLU could not place ("sunnies"), or placed outside the shop, is searched too
    shop = ClosestShop({}, {"sunnies": lamps, "bed under 2000": lamps})
    _, reply = apply(State(), Move("unclear", text="sunnies"), shop)
    assert reply.intro == texts.CLOSEST and shop.asked[-1] == "sunnies"
    # what the NLU took for small talk keeps its polite redirect, catalog words or not
    after, reply = apply(State(), Move("out_of_scope", text="bed under 2000"), shop)
    assert reply.kind == "out_of_scope" and after == State()
    # a kind the vocabulary does not know, with a budget: the closest within it, not "we don't carry"
    after, reply = apply(State(), Move("state", scope_words="bed", budget_max=2000.0, text="bed under 2000"), shop)
    assert reply.intro == texts.CLOSEST and after.need.budget_max == 2000.0 and after.need.text == "bed under 2000"
    _, reply = apply(State(), Move("out_of_scope", text="how is the weather"), shop)
    assert reply.kind == "out_of_scope"
    _, reply = apply(State(), Move("unclear", text="asdfgh"), shop)
    assert reply.kind == "rephrase"


def test_the_catalog_shop_searches_only_words_it_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    assert SHOP.closest(Need(), "asdfgh qwerty", 3, ()) == []
    found = SHOP.closest(Need(budget_max=200.0), "reading lamp for a dark corner", 3, ())
    assert found and all(s.product.price <= 200 for s in found)
    assert any(s.product.category == "Lamps" for s in found)
    # a word that is no English word reads as the catalog word it misspells ("sofaa" → sofa) ...
    assert SHOP.vocabulary.spelled("a comfy sofaa") == "a comfy sofa"
    assert any(s.product.category == "Sofas" for s in SHOP.closest(Need(), "a comfy sofaa", 3, ()))
    # ... and an English word is no slip for a rarer catalog word: "tell" is not "teal", "budding" not "bedding"
    assert SHOP.vocabulary.spelled("tell me a joke") == "tell me a joke"
    assert SHOP.closest(Need(), "tell me a joke", 3, ()) == []
    # and the best match must be close, by the encoder's own measure of related
    encoder = SHOP.recommender.retriever.encoder
    monkeypatch.setattr(encoder, "related_similarity", 0.0, raising=False)
    assert SHOP.closest(Need(), "reading lamp for a dark corner", 3, ())
    monkeypatch.setattr(encoder, "related_similarity", 2.1, raising=False)  # above any cosine
    assert SHOP.closest(Need(), "reading lamp for a dark corner", 3, ()) == []
    # asked for (the classifier read a request): the search box's best matches, however far, within the budget
    found = SHOP.closest(Need(budget_max=200.0), "reading lamp for a dark corner", 3, (), asked=True)
    assert found and any(s.product.category == "Lamps" for s in found) and all(s.product.price <= 200 for s in found)


def test_words_the_catalog_never_uses_are_searched_only_when_the_match_is_closer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """"Over ear hedphones" where the shop says earphones: as typed, and from a higher bar than shared words."""
    words = "somewhere cosy to perch"
    assert not SHOP._shares_a_word(SHOP._own_words(words))
    assert SHOP.closest(Need(), words, 3, ()) == []  # no measure of related (the hashing encoder): never
    encoder = SHOP.recommender.retriever.encoder
    monkeypatch.setattr(encoder, "related_similarity", -10.0, raising=False)
    found = SHOP.closest(Need(budget_max=300.0), words, 3, ())
    assert found and all(s.product.price <= 300 for s in found)
    best = max(s.semantic for s in found)
    # the bar is CLOSEST_UNSHARED_SHARE of related: just under the best match shows it, just over does not
    monkeypatch.setattr(encoder, "related_similarity", (best - 1e-6) / CLOSEST_UNSHARED_SHARE, raising=False)
    assert SHOP.closest(Need(budget_max=300.0), words, 3, ())
    monkeypatch.setattr(encoder, "related_similarity", (best + 1e-6) / CLOSEST_UNSHARED_SHARE, raising=False)
    assert SHOP.closest(Need(budget_max=300.0), words, 3, ()) == []
    # that bar is above the one for words the catalog uses
    assert CLOSEST_UNSHARED_SHARE > CLOSEST_SHARE
    # words that are all numbers or too short to mean anything are never searched
    monkeypatch.setattr(encoder, "related_similarity", -10.0, raising=False)
    assert SHOP.closest(Need(), "42 x", 3, ()) == []


def test_when_no_one_detail_is_enough_the_details_together_are_offered() -> None:
    """Gold rattan sofas: neither "any colour" nor "any material" frees a sofa, both together do."""
    state = State(need=Need(scope=("Sofas",), scope_words="sofa", settled=("budget", "colour", "material", "style")))
    after, reply = apply(state, Move("state", wishes={"colour": "gold", "material": "rattan"}), SHOP)
    assert reply.kind == "offer_relax" and after.pending == "relax:details"
    assert "that differ in those details" in (reply.question or "")
    shown, reply = apply(after, Move("yes"), SHOP)
    assert reply.kind == "cards" and reply.cards and all(c.product.category == "Sofas" for c in reply.cards)
    assert not shown.need.wishes and shown.need.scope == ("Sofas",)


def test_the_later_word_wins_between_a_wish_and_a_deal_breaker() -> None:
    """"A wooden desk", then "no wood": the wish goes (oak and pine with it); "no leather", then "leather is fine"."""
    wood = {"oak", "walnut", "pine", "bamboo"}
    desks = State(need=Need(scope=("Desks",), scope_words="desk", wishes={"material": "wooden"},
                            settled=("budget", "colour", "material", "style")), lists=(), questions=2)
    after, reply = apply(desks, Move("state", exclusions=("wood",)), SHOP)
    assert "material" not in after.need.wishes and after.need.exclusions == ("wood",)
    assert reply.kind == "cards" and reply.cards and not {c.product.material for c in reply.cards} & wood
    sofas = State(need=Need(scope=("Sofas",), scope_words="sofa", exclusions=("leather",),
                            settled=("budget", "colour", "material", "style")), questions=2)
    after, reply = apply(sofas, Move("state", wishes={"material": "leather"}), SHOP)
    # allowed again, not required: the leather sofas come back among the others
    assert after.need.wishes == {} and after.need.exclusions == ()
    assert reply.cards and all(c.product.category == "Sofas" for c in reply.cards)
    assert SHOP.count(after.need, ()) > SHOP.count(sofas.need, ())


def test_a_wish_filters_only_where_the_catalog_describes_it() -> None:
    """Colours read from a few titles: "black sunglasses" ranks the one described as black first, hides no other."""
    from retrieval.catalog import Catalog
    from retrieval.encoder import HashingEncoder
    from retrieval.recommender import Recommender
    from retrieval.search import Retriever
    from retrieval.vocabulary import CatalogVocabulary

    def shop_of(colours: list[str | None]) -> CatalogShop:
        products = [Product(f"s{i}", f"Aviator sunglasses {i}", 20.0 + i, "USD", "Sunglasses", colour=c)
                    for i, c in enumerate(colours)]
        catalog = Catalog(products)
        return CatalogShop(Recommender(Retriever.build(catalog, HashingEncoder(64))), CatalogVocabulary(catalog))

    need = Need(scope=("Sunglasses",), wishes={"colour": "black"})
    sparse = shop_of(["black", None, None, None, None, None])
    assert sparse.count(need, ()) == 6
    cards = sparse.recommend(need, (), k=3)
    assert len(cards) == 3 and cards[0].product.colour == "black"
    described = shop_of(["black", "brown", "black", "red", None, None])
    assert described.count(need, ()) == 2
    assert {c.product.colour for c in described.recommend(need, (), k=3)} == {"black"}


def _small_shop(products: list[Product], related: float | None = 0.3) -> CatalogShop:
    """A shop over a few products on the hashing encoder, with a bar for "close" when ``related`` is given."""
    from retrieval.catalog import Catalog
    from retrieval.encoder import HashingEncoder
    from retrieval.recommender import Recommender
    from retrieval.search import Retriever
    from retrieval.vocabulary import CatalogVocabulary

    catalog = Catalog(products)
    encoder = HashingEncoder(256)
    if related is not None:
        encoder.related_similarity = related  # type: ignore[attr-defined]
    return CatalogShop(Recommender(Retriever.build(catalog, encoder)), CatalogVocabulary(catalog))


_JEWELLERY_SHOP = [
    Product("j1", "Gold ring with a pearl", 120.0, "USD", "Jewellery", material="gold"),
    Product("j2", "Silver necklace", 80.0, "USD", "Jewellery", material="silver"),
    Product("j3", "Pearl earrings", 60.0, "USD", "Jewellery", material="pearl"),
    Product("b1", "Wooden jewellery box with mirror", 35.0, "USD", "Beauty", material="wood"),
    Product("b2", "Velvet jewellery box organiser", 25.0, "USD", "Beauty", material="velvet"),
    Product("b3", "Red lipstick", 9.0, "USD", "Beauty"),
    Product("g1", "Tempered glass screen guard", 5.0, "USD", "Phone Accessories"),
    Product("g2", "Tempered glass for phone, pack of two", 7.0, "USD", "Phone Accessories"),
    Product("k1", "Glass tumbler", 4.0, "USD", "Kitchen", material="glass"),
    Product("k2", "Glass jug", 6.0, "USD", "Kitchen", material="glass"),
    Product("k3", "Steel mug", 6.0, "USD", "Kitchen", material="steel"),
]


def test_a_kind_named_by_one_word_gives_room_to_the_best_match_of_the_whole_message() -> None:
    """ "wooden jewellery box" names Jewellery; the shop's boxes are under Beauty: both, the boxes first."""
    shop = _small_shop(_JEWELLERY_SHOP)
    assert shop.closer_kind("wooden jewellery box", ("Jewellery",)) == "Beauty"
    after, reply = apply(State(), Move("state", scope=("Jewellery",), text="wooden jewellery box"), shop)
    assert after.need.scope == ("Beauty", "Jewellery")
    assert reply.cards and reply.cards[0].product.id == "b1"
    # the named kind holds the best match: it stands alone
    assert shop.closer_kind("gold ring with a pearl", ("Jewellery",)) is None
    after, _ = apply(State(), Move("state", scope=("Jewellery",), text="gold ring with a pearl"), shop)
    assert after.need.scope == ("Jewellery",)
    # a best match no closer than the named kind's by the margin, or not close at all, changes nothing
    assert shop.closer_kind("pearl jewellery", ("Jewellery",)) is None
    assert _small_shop(_JEWELLERY_SHOP, related=2.1).closer_kind("wooden jewellery box", ("Jewellery",)) is None
    # an encoder that cannot tell near from far never widens a scope
    assert _small_shop(_JEWELLERY_SHOP, related=None).closer_kind("wooden jewellery box", ("Jewellery",)) is None


def test_a_closer_kind_is_looked_for_within_the_customers_price_range() -> None:
    """ "rc car under 50": the kind outside the scope counts only with matches the customer would pay for."""
    shop = _small_shop(_JEWELLERY_SHOP)
    assert shop.closer_kind("wooden jewellery box", ("Jewellery",), Need(budget_max=100.0)) == "Beauty"
    assert shop.closer_kind("wooden jewellery box", ("Jewellery",), Need(budget_max=20.0)) is None  # boxes: $25, $35
    assert shop.closer_kind("wooden jewellery box", ("Jewellery",), Need(exclusions=("wooden", "velvet"))) is None
    after, _ = apply(State(), Move("state", scope=("Jewellery",), text="wooden jewellery box", budget_max=20.0), shop)
    assert after.need.scope == ("Jewellery",)


_BATH_TIME = [
    Product("n1", "Bath time duck", 10.0, "USD", "Nursery"),
    Product("v1", "Bath time boat", 10.0, "USD", "Vehicles"),
    Product("p1", "Bath time whale", 10.0, "USD", "Plush"),
    *(Product(f"l{i}", f"{kind} lamp", 10.0, "USD", f"{kind} lamps")
      for i, kind in enumerate(("Desk", "Floor", "Table", "Reading", "Wall", "Ceiling", "Bedside"))),
]


def test_when_no_kind_has_a_majority_every_kind_among_the_very_best_matches_stays_in_scope() -> None:
    """Loose words whose best matches fall in different kinds: a vote count does not pick the first kind alone."""
    assert _small_shop(_BATH_TIME).scope_of("bath time toys") == ("Nursery", "Vehicles", "Plush")
    # a kind with the majority of the votes stands alone, the near match of another kind notwithstanding
    majority = [Product(f"n{i}", f"Bath time {animal}", 10.0, "USD", "Nursery") for i, animal in enumerate(
        ("duck", "frog", "fish"))] + _BATH_TIME[1:2] + _BATH_TIME[3:]
    assert _small_shop(majority).scope_of("bath time toys") == ("Nursery",)


def test_a_wish_filters_only_where_the_item_the_words_point_at_describes_it() -> None:
    """ "tempered glass": the screen guards give no material, so "glass" ranks instead of hiding them."""
    shop = _small_shop(_JEWELLERY_SHOP)
    scope = ("Phone Accessories", "Kitchen")
    need = Need(scope=scope, wishes={"material": "glass"}, text="tempered glass")
    assert shop.count(need, ()) == 5  # the guards stay (and the steel mug: the wish ranks)
    assert shop.recommend(need, (), k=1)[0].product.category == "Phone Accessories"
    # the words point at a glass item: the wish filters as before
    jug = Need(scope=scope, wishes={"material": "glass"}, text="glass jug")
    assert shop.count(jug, ()) == 2 and {c.product.material for c in shop.recommend(jug, (), k=3)} == {"glass"}


def test_a_surprise_that_says_what_about_is_a_request() -> None:
    """ "something spooky for halloween" opens with a surprise that names what: the closest items, not any."""
    shop = _small_shop(_JEWELLERY_SHOP)
    after, reply = apply(State(), Move("surprise", text="surprise me with a jewellery box"), shop)
    assert reply.kind in ("cards", "question") and after.need.scope and after.need.scope[0] == "Beauty"
    # words that name nothing in the shop: a surprise as before
    _, reply = apply(State(), Move("surprise", text="surprise me"), shop)
    assert reply.kind == "cards" and reply.intro == texts.SURPRISE


def test_a_number_in_a_product_name_is_no_budget() -> None:
    """ "iphnoe 13 pro": an iPhone 13, not a budget of 13; a number after a word the titles never number stays money."""
    from actions.moves import move_from
    from retrieval.catalog import Catalog
    from retrieval.vocabulary import CatalogVocabulary

    catalog = Catalog([Product("p1", "iPhone 13 Pro", 999.0, "USD", "Smartphones"),
                       Product("p2", "iPhone 9", 399.0, "USD", "Smartphones")])
    vocabulary = CatalogVocabulary(catalog)

    def message(text: str, *entities: tuple[str, str]) -> dict[str, Any]:
        return {"text": text, "intent": {"name": "inform", "confidence": 0.9},
                "entities": [{"entity": e, "value": v} for e, v in entities]}

    move = move_from(message("iphnoe 13 pro", ("budget", "iphnoe 13")), State(), vocabulary, catalog)
    assert move.budget_max is None
    move = move_from(message("iphone 13 pro under 1000", ("budget", "under 1000")), State(), vocabulary, catalog)
    assert move.budget_max == 1000.0
    move = move_from(message("a phone for 500", ("budget", "500")), State(), vocabulary, catalog)
    assert move.budget_max == 500.0
    # ages and measures are no money either, whatever the NLU tagged
    move = move_from(message("present for a budding scientist, age 10", ("budget", "10")), State(), vocabulary, catalog)
    assert move.budget_max is None
    assert move_from(message("a phone for 4 people"), State(), vocabulary, catalog).budget_max is None
    assert move_from(message("a 2 seater phone under 900"), State(), vocabulary, catalog).budget_max == 900.0


def test_the_budget_question_of_a_cheap_kind_speaks_of_real_prices() -> None:
    # groceries at $1-$3: rounding to tens had asked 'For example "under $0"' with a "$0–$0" button
    cheap = Catalog([Product(f"g{i}", f"Fresh fruit {i}", 1.0 + i * 0.4, "USD", "Groceries") for i in range(6)])
    retriever = Retriever.build(cheap, HashingEncoder(64))
    shop = CatalogShop(Recommender(retriever), CatalogVocabulary(cheap))
    text, buttons = shop.question(Need(scope=("Groceries",)), "budget")
    assert 'For example "under $2"' in text and "$0" not in text
    titles = [title for title, _ in buttons]
    assert titles[0] == "Under $2" and not any("$0" in t for t in titles) and titles[-1] == "No budget"
    assert len(set(titles)) == len(titles)


def _furniture_shop() -> CatalogShop:
    from retrieval.catalog import Catalog
    from retrieval.encoder import HashingEncoder
    from retrieval.recommender import Recommender
    from retrieval.search import Retriever
    from retrieval.vocabulary import CatalogVocabulary

    products = [Product(f"b{i}", f"Oak bedside table {i}", 90.0 + i, "USD", "Bedside Tables") for i in range(4)]
    products += [Product(f"c{i}", f"Pine chest of drawers {i}", 150.0 + i, "USD", "Chests") for i in range(4)]
    catalog = Catalog(products)
    return CatalogShop(Recommender(Retriever.build(catalog, HashingEncoder(256))), CatalogVocabulary(catalog))


def test_a_guessed_scope_favours_its_kind_without_hiding_what_the_words_match() -> None:
    """Search first: a scope the search guessed is a prior; the customer's words still search every kind."""
    shop = _furniture_shop()
    guessed = Need(scope=("Bedside Tables",), scope_soft=True, text="pine chest of drawers")
    assert any(c.product.category == "Chests" for c in shop.recommend(guessed, (), k=3))
    named = replace(guessed, scope_soft=False)  # a kind the customer named filters
    assert {c.product.category for c in shop.recommend(named, (), k=3)} == {"Bedside Tables"}
    # within the stated limits still: the chests cost more than 120
    capped = replace(guessed, budget_max=120.0)
    assert {c.product.category for c in shop.recommend(capped, (), k=3)} == {"Bedside Tables"}


def test_a_scope_is_soft_only_while_the_search_guessed_it() -> None:
    searched = SearchingShop({"somewhere comfy to sit": ("Armchairs", "Sofas")})
    after, _ = apply(State(), Move("browse", text="somewhere comfy to sit"), searched)
    assert after.need.scope_soft and State.from_dict(after.to_dict()).need.scope_soft
    waived, _ = apply(after, Move("dont_mind"), searched)  # "any of those": the kinds offered are the customer's
    assert not waived.need.scope_soft
    named, _ = apply(State(), Move("state", scope=("Sofas",), text="a sofa"), SHOP)
    assert named.need.scope == ("Sofas",) and not named.need.scope_soft


def test_a_description_whose_kind_was_guessed_gets_a_list_not_a_budget_question() -> None:
    """"something to read by" is a description: the list comes first, never "what's your budget for the lamps?"."""
    shop = SearchingShop({"something to read by": ("Lamps",)})
    after, reply = apply(State(), Move("browse", text="something to read by"), shop)
    assert after.need.scope_soft and reply.kind == "cards" and after.pending is None
    assert not any("budget" in line.lower() for line in (*reply.lines, reply.question))
    # a kind named by the customer ("a lamp") still gets the questions that help
    named, reply = apply(State(), Move("state", scope=("Lamps",), scope_words="lamp", text="a lamp"), SHOP)
    assert reply.kind == "question" and named.pending in ("budget", "colour", "material", "style", "use")


def test_a_request_the_catalog_cannot_place_is_searched_not_answered_with_a_starter_list(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A kind the shop cannot place and no close match: asked which kind; "I don't mind" searches the words."""
    monkeypatch.setattr(SHOP.recommender.retriever.encoder, "related_similarity", 2.1, raising=False)  # none close
    state, reply = apply(State(), Move("state", scope_words="classes", text="classes at night, light to read by"), SHOP)
    assert reply.kind == "unknown_kind" and state.pending == "category"
    assert state.need.text == "classes at night, light to read by"
    state, reply = apply(state, Move("dont_mind"), SHOP)
    assert reply.kind == "cards" and reply.intro == texts.CLOSEST
    assert any(c.product.category == "Lamps" for c in reply.cards)

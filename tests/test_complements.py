""""What goes with it?": what other customers took with an item, from their purchases, likes and choices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from actions import texts
from actions.catalog_shop import CatalogShop
from actions.conversation import Move, Need, State, apply
from actions.moves import move_from
from actions.services import _collaborative
from retrieval.catalog import Catalog
from retrieval.collaborative import CollaborativeModel, collaborative_dir
from retrieval.ranker import Request
from tests.actions_support import make_services
from tests.test_moves import entity, message

SERVICES = make_services()
CATALOG = SERVICES.recommender.catalog
SOFA = next(p for p in CATALOG if p.category == "Sofas")
RUG, LAMP = (next(p for p in CATALOG if p.category == kind) for kind in ("Rugs", "Lamps"))
OTHER_SOFA = next(p for p in CATALOG if p.category == "Sofas" and p.id != SOFA.id)
#: Seven customers took the sofa with the rug, five with the lamp as well, three with another sofa.
TAKEN = ([(f"a{n}", i) for n in range(7) for i in (SOFA.id, RUG.id)] + [(f"a{n}", LAMP.id) for n in range(5)]
         + [(f"b{n}", i) for n in range(3) for i in (SOFA.id, OTHER_SOFA.id)])
MODEL = CollaborativeModel.build(CATALOG, TAKEN)
SHOP = CatalogShop(SERVICES.recommender, SERVICES.vocabulary, collaborative=MODEL)
CHOSEN = State(need=Need(scope=("Sofas",), scope_words="sofa"), lists=((SOFA.id,),), seen=(SOFA.id,),
               chosen=(SOFA.id,), focus=SOFA.id)


def test_what_goes_with_it_shows_what_customers_bought_with_it_and_says_how_many() -> None:
    after, reply = apply(CHOSEN, Move("complements"), SHOP)
    assert reply.kind == "cards"
    assert [s.product.id for s in reply.cards] == [RUG.id, LAMP.id]  # three customers are too few for the other sofa
    assert reply.cards[0].reason == texts.BOUGHT_WITH.format(count=7, title=SOFA.title)
    assert reply.intro == texts.COMPLEMENTS.format(title=SOFA.title)
    assert after.focus == SOFA.id and after.shown == (RUG.id, LAMP.id)


def test_a_stated_budget_holds_for_the_complements() -> None:
    cheaper = min(RUG.price, LAMP.price)
    _, reply = apply(CHOSEN, Move("complements", budget_max=cheaper), SHOP)
    assert [s.product.price <= cheaper for s in reply.cards] == [True]


def test_a_shop_without_interaction_data_says_it_does_not_know_yet() -> None:
    plain = CatalogShop(SERVICES.recommender, SERVICES.vocabulary)
    after, reply = apply(CHOSEN, Move("complements"), plain)
    assert reply.kind == "answer" and not reply.cards
    assert reply.lines == (texts.NO_COMPLEMENTS.format(title=SOFA.title),)
    assert after.need == CHOSEN.need and after.lists == CHOSEN.lists


def test_with_nothing_to_be_about_it_asks_which_item() -> None:
    _, reply = apply(State(), Move("complements"), SHOP)
    assert reply.kind == "help" and reply.lines == (texts.NOTHING_SHOWN,)


def test_the_question_names_its_card_and_budget() -> None:
    shown = (RUG.id, SOFA.id, LAMP.id)
    state = State(need=Need(scope=("Sofas",)), lists=(shown,), seen=shown)
    move = move_from(message("what goes with the second one under 100", "ask_complements",
                             entity("ordinal", "second"), entity("budget", "under 100")),
                     state, SERVICES.vocabulary, CATALOG)
    assert move.kind == "complements" and move.items == (SOFA.id,) and move.budget_max == 100


def test_the_action_server_loads_the_catalogs_model_and_refuses_another(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPKEEPER_INDEX_DIR", str(tmp_path))
    assert _collaborative(CATALOG) is None  # none built: the shop works as without interaction data
    MODEL.save(collaborative_dir(tmp_path))
    loaded = _collaborative(CATALOG)
    assert loaded is not None and loaded.bought_with(SOFA.id) == MODEL.bought_with(SOFA.id)
    assert _collaborative(Catalog(list(CATALOG)[:-1])) is None  # built for another catalog: not used


def test_within_a_need_what_customers_took_with_a_liked_item_ranks_first_and_says_why() -> None:
    need = Need(scope=("Rugs",), scope_words="rug")
    plain = CatalogShop(SERVICES.recommender, SERVICES.vocabulary).recommend(need, (), k=3, liked=(SOFA.id,))
    together = SHOP.recommend(need, (), k=3, liked=(SOFA.id,))
    assert together[0].product.id == RUG.id
    assert together[0].reason.startswith(texts.BOUGHT_WITH.format(count=7, title=SOFA.title))
    assert all("also bought" not in s.reason for s in together[1:])  # said only where it is true
    assert all("also bought" not in s.reason for s in plain)  # without the model, nothing of the kind is said


def test_the_co_taken_item_joins_the_candidates_the_words_did_not_find() -> None:
    recommender = SERVICES.recommender
    query = recommender.retriever.embed_query("sofa")
    mask = np.ones(len(CATALOG), dtype=bool)
    words = Request(query, "sofa", mask)
    assert CATALOG.position(RUG.id) not in recommender.pool(words, 3).positions
    liked = Request(query, "sofa", mask, preferences=SHOP.preferences((SOFA.id,), ()))
    joined = recommender.pool(liked, 3)
    assert joined.sources[joined.positions.index(CATALOG.position(RUG.id))] == "together"
    mask[CATALOG.position(RUG.id)] = False  # the filters still hold for what joins
    assert CATALOG.position(RUG.id) not in recommender.pool(
        Request(query, "sofa", mask, preferences=SHOP.preferences((SOFA.id,), ())), 3).positions


def test_personalisation_off_leaves_out_what_others_took() -> None:
    off = CatalogShop(SERVICES.recommender, SERVICES.vocabulary, personalised=False, collaborative=MODEL)
    assert off.preferences((SOFA.id,), ()).together == {}


def test_surprise_keeps_to_every_kind_of_the_scope_and_to_the_families_ruled_out() -> None:
    """Issue: a sofas + armchairs scope surprised with coffee tables; "no wooden" coffee tables with an oak one."""
    shop = CatalogShop(SERVICES.recommender, SERVICES.vocabulary)
    two_kinds = Need(scope=("Sofas", "Armchairs"))
    for seed in range(5):
        assert {s.product.category for s in shop.surprise(two_kinds, (), k=3, seed=seed)} <= {"Sofas", "Armchairs"}
    wooden = SERVICES.vocabulary.family_of("wooden")
    assert wooden is not None
    no_wood = Need(scope=("Coffee Tables",), exclusions=("wooden",))
    for seed in range(5):
        cards = shop.surprise(no_wood, (), k=3, seed=seed)
        assert cards and all((s.product.attribute(wooden[0]) or "") not in wooden[1] for s in cards)


def test_most_popular_is_ordered_by_how_many_customers_took_each_said_only_from_five() -> None:
    cards = SHOP.recommend(Need(scope=("Sofas",), scope_words="sofa", order="popular"), (), k=3)
    assert cards[0].product.id == SOFA.id
    assert cards[0].reason == texts.ORDER_REASONS["popular"][0].format(kind="sofa", bought=10)
    assert all("bought by" not in s.reason for s in cards[1:])  # three customers or none: not said
    plain = CatalogShop(SERVICES.recommender, SERVICES.vocabulary).recommend(
        Need(scope=("Sofas",), order="popular"), (), k=3)
    assert all("bought by" not in s.reason and "rating" in s.reason for s in plain)  # no interactions: the ratings


def test_a_customer_who_liked_many_items_still_gets_what_others_took_with_them() -> None:
    # What they already have scores high too; the suggestions are the best of the rest, whatever the cut.
    liked = (SOFA.id, RUG.id, LAMP.id)
    scores = MODEL.scores(liked)
    assert min(scores[MODEL.positions[i]] for i in liked) > scores[MODEL.positions[OTHER_SOFA.id]] > 0
    together = SHOP._taken_together(liked, keep=1)
    assert together == {OTHER_SOFA.id: (1.0, "")}  # three customers took it: too few to say so

"""Questions about an item on screen: read as questions, answered from the item's own facts.

A question never becomes a rejection, a critique or a new list, and leaves the need as it was. The
answer states a field's catalog value, quotes the description sentence that answers, or says the
description doesn't say; yes or no only when the facts settle it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path

import pytest

from actions import texts
from actions.catalog_shop import CatalogShop
from actions.conversation import Move, Need, State, apply
from actions.moves import move_from
from retrieval.answers import ItemAnswers, facts_of
from retrieval.catalog import Catalog, Product
from retrieval.encoder import HashingEncoder, Vectors
from retrieval.errors import IndexMismatchError
from retrieval.sentences import SentenceIndex, ensure_sentence_index, sentences
from retrieval.settings import RetrievalSettings
from tests.actions_support import make_services
from tests.test_moves import entity, message

SERVICES = make_services()
SHOP = CatalogShop(SERVICES.recommender, SERVICES.vocabulary)
CATALOG = SERVICES.recommender.catalog
JACKETS = tuple(p.id for p in CATALOG if p.category == "Jackets")[:3]
LISTED = State(need=Need(scope=("Jackets",), scope_words="jacket", budget_max=400.0), lists=(JACKETS,),
               seen=JACKETS, reasons=("a", "b", "c"))


def product(item_id: str) -> Product:
    found = CATALOG.get(item_id)
    assert found is not None
    return found


def ask(state: State, text: str, items: tuple[str, ...] = (), **wishes: str) -> tuple[State, list[str]]:
    after, reply = apply(state, Move("ask", items=items, text=text, wishes=wishes), SHOP)
    assert reply.kind == "answer" and not reply.cards, reply
    assert (after.need, after.lists, after.rejected, after.liked) == \
        (state.need, state.lists, state.rejected, state.liked), "a question changed the conversation"
    return after, list(reply.lines)


def test_a_question_about_a_card_is_answered_about_that_card_and_changes_nothing() -> None:
    second = product(JACKETS[1])
    after, lines = ask(LISTED, "how much is it", items=(second.id,))
    assert len(lines) == 1 and second.title in lines[0]
    assert after.focus == second.id


def test_it_is_the_item_last_asked_about() -> None:
    state, _ = ask(LISTED, "what is it made of", items=(JACKETS[2],))
    _, lines = ask(state, "is it warm")
    assert len(lines) == 1 and product(JACKETS[2]).title in lines[0]


def test_it_with_several_cards_and_nothing_asked_before_answers_for_each_card() -> None:
    _, lines = ask(LISTED, "is it waterproof")
    assert [product(i).title in line for i, line in zip(JACKETS, lines, strict=True)] == [True] * 3


def test_it_after_a_choice_is_the_chosen_item() -> None:
    chosen = replace(LISTED, chosen=(JACKETS[1],), focus=JACKETS[1], pending="satisfaction")
    after, lines = ask(chosen, "does it have a hood")
    assert len(lines) == 1 and product(JACKETS[1]).title in lines[0]
    assert after.pending == "satisfaction"


def test_a_named_value_the_item_has_or_lacks_is_a_yes_or_a_no() -> None:
    item = product(JACKETS[0])
    assert item.colour
    _, (yes,) = ask(LISTED, "is it that colour", items=(item.id,), colour=item.colour)
    other = next(p.colour for p in CATALOG if p.colour and p.colour != item.colour)
    _, (no,) = ask(LISTED, "is it that colour", items=(item.id,), colour=other)
    assert yes.startswith(texts.YES) and no.startswith(texts.NO) and item.colour in no


def test_more_like_it_and_take_it_after_a_question_mean_the_item_asked_about() -> None:
    asked, _ = ask(LISTED, "how much is it", items=(JACKETS[1],))
    _, more = apply(asked, Move("more_like"), SHOP)
    assert more.kind == "cards" and product(JACKETS[1]).title in more.intro
    chosen, reply = apply(asked, Move("choose"), SHOP)
    assert reply.kind == "chosen" and chosen.chosen == (JACKETS[1],)
    moved_on = replace(asked, lists=(*asked.lists, tuple(p.id for p in CATALOG if p.category == "Sofas")[:3]))
    _, which = apply(moved_on, Move("more_like"), SHOP)
    assert which.kind == "help", "an item no longer in view is not 'it'"


def test_a_question_with_nothing_shown_gets_help_not_a_list() -> None:
    after, reply = apply(State(), Move("ask", text="is it waterproof"), SHOP)
    assert reply.kind == "help" and not reply.cards and after == State()


def test_a_question_survives_the_slot_round_trip() -> None:
    state, _ = ask(LISTED, "how much is it", items=(JACKETS[0],))
    assert State.from_dict(state.to_dict()).focus == JACKETS[0]


# -- reading a question -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "entities", "position"), [
    ("is the 2nd one waterproof?", [entity("ordinal", "2nd")], 1),
    ("is the 2nd one waterproof?", [], 1),           # the ordinal untagged: the words point
    ("number 3 in stock?", [], 2),
    ("does it have two pockets", [], None),         # a question's own number is no card
    ("is it for 2 people", [], None),
])
def test_a_question_points_at_a_card_by_ordinal_only(text: str, entities: list[dict[str, str]],
                                                     position: int | None) -> None:
    move = move_from(message(text, "ask_item", *entities), LISTED, SERVICES.vocabulary, CATALOG)
    assert move.kind == "ask"
    assert move.items == (() if position is None else (JACKETS[position],))
    assert "2nd" not in move.text and "number 3" not in move.text


def test_a_message_typed_after_ask_about_this_is_a_question_about_that_card() -> None:
    typed = {**message("cheap?", "request_recommendation"), "metadata": {"ask_about": JACKETS[2]}}
    move = move_from(typed, LISTED, SERVICES.vocabulary, CATALOG)
    assert move.kind == "ask" and move.items == (JACKETS[2],)
    critique = {**message("cheaper than this", "critique_cheaper"), "metadata": {"ask_about": JACKETS[2]}}
    assert move_from(critique, LISTED, SERVICES.vocabulary, CATALOG).kind == "critique"


def unsure(text: str, *ranking: tuple[str, float]) -> dict[str, object]:
    return {"text": text, "intent": {"name": "nlu_fallback", "confidence": 0.4}, "entities": [],
            "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.4},
                               *({"name": n, "confidence": c} for n, c in ranking)]}


def test_an_unsure_question_is_still_answered_unless_its_words_state_a_need() -> None:
    move = move_from(unsure("and who makes it", ("ask_item", 0.43), ("inform", 0.41)), LISTED, SERVICES.vocabulary,
                     CATALOG)
    assert move.kind == "ask"
    colour = next(p.colour for p in CATALOG if p.colour)
    wish = move_from(unsure(f"in {colour} if u have it", ("ask_item", 0.35), ("inform", 0.26)), LISTED,
                     SERVICES.vocabulary, CATALOG)
    assert wish.kind == "state" and wish.wishes == {"colour": colour}
    assert move_from(unsure("and who makes it", ("ask_item", 0.43)), State(), SERVICES.vocabulary,
                     CATALOG).kind != "ask", "nothing on screen to be about"


def test_a_question_with_nothing_on_screen_that_points_at_nothing_is_a_request() -> None:
    move = move_from(message("waterproof jackets?", "ask_item"), State(), SERVICES.vocabulary, CATALOG)
    assert move.kind != "ask"
    asked = State(need=Need(scope=("Sofas",)), pending="budget")
    switched = move_from(message("on second thoughts a lamp", "ask_item", entity("category", "lamp")), asked,
                         SERVICES.vocabulary, CATALOG)
    assert switched.kind == "state" and switched.scope == ("Lamps",), "no item to be about: what the words state"


# -- the answers, with the catalog's own encoder -----------------------------------------------------------------

@cache
def answers() -> ItemAnswers:
    return ItemAnswers(RetrievalSettings.from_env({}).make_encoder())


JACKET = Product(
    "J1", "Fellside Rain Jacket", 89.0, "USD", "Jackets", brand="Fellside", colour="sand", material="polyester",
    size="M", stock=0, description="A light shell for wet walks in the hills. The seams are taped, so it is fully "
    "waterproof. Not suitable for machine washing; sponge clean only. Packs into its own chest pocket.",
    extra={"warranty": "2 year warranty"})


@pytest.mark.parametrize(("question", "field"), [
    ("how much is it", "price"), ("who makes it", "brand"), ("what colour is it", "colour"),
    ("is it in stock", "stock"), ("what's the warranty", "warranty"), ("what is it made of", "material"),
])
def test_a_field_question_is_answered_with_the_field(question: str, field: str) -> None:
    found = answers().answer(JACKET, question)
    assert found.kind == "field" and found.fact is not None and found.fact.field == field


@pytest.mark.parametrize(("question", "words", "says"), [
    ("is it waterproof?", "fully waterproof", "yes"),
    ("can i put it in the washing machine", "machine washing", "no"),   # "Not suitable for machine washing"
    ("does it pack down small", "own chest pocket", None),              # "Packs…": one of its three words
    ("what kind of walks is it for", "wet walks", None),                # no yes/no question: the sentence alone
])
def test_a_description_question_quotes_the_sentence_that_answers(question: str, words: str,
                                                                 says: str | None) -> None:
    found = answers().answer(JACKET, question)
    assert found.kind == "sentence" and found.fact is not None and words in found.fact.text
    assert found.says == says


def test_a_yes_no_question_naming_another_value_of_the_catalog_is_a_no() -> None:
    answers_ = ItemAnswers(RetrievalSettings.from_env({}).make_encoder(),
                           values={"brand": ["Fellside", "Nike", "Puma"], "category": ["Jackets", "Toys"]})
    made = answers_.answer(JACKET, "is it made by nike?")
    assert made.fact is not None and made.fact.field == "brand" and made.says == "no"
    assert answers_.answer(JACKET, "is it made by fellside?").says == "yes"
    assert answers_.answer(JACKET, "is it a toy?").says == "no"


def test_what_the_item_does_not_say_is_unknown() -> None:
    assert answers().answer(JACKET, "does it come with a remote control?").kind == "unknown"


def test_glued_descriptions_are_split_into_sentences() -> None:
    glued = "Blue solid shirt, has a spread collarLong sleeves, button placketMachine wash"
    assert sentences(glued) == ["Blue solid shirt, has a spread collar", "Long sleeves, button placket",
                                "Machine wash"]
    assert sentences("Made by PlayStation. Works with Xbox.") == ["Made by PlayStation.", "Works with Xbox."]


def test_every_field_the_catalog_gives_is_a_fact() -> None:
    fields = {f.field for f in facts_of(JACKET)}
    assert {"price", "brand", "colour", "material", "size", "stock", "warranty", "category"} <= fields
    assert any(f.field is None and "taped" in f.text for f in facts_of(JACKET))


class CountingEncoder(HashingEncoder):
    """The hashing encoder, counting the texts it embeds."""

    def __init__(self) -> None:
        super().__init__(64)
        self.embedded: list[str] = []

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> Vectors:
        self.embedded += list(texts)
        return super().encode(texts, show_progress=show_progress)


def test_the_sentence_index_is_saved_refused_when_stale_and_spares_embedding_at_question_time(tmp_path: Path) -> None:
    catalog = Catalog([JACKET, replace(JACKET, id="J2", description="Warm. Very warm.")])
    encoder = CountingEncoder()
    built = ensure_sentence_index(catalog, encoder, tmp_path)
    assert built.manifest.sentences == len(sentences(JACKET.description)) + 2
    loaded = SentenceIndex.load(tmp_path, expected_model=encoder.name, expected_fingerprint=catalog.fingerprint())
    kept = loaded.of("J1")
    assert kept is not None and kept[0] == sentences(JACKET.description) and kept[1].shape[0] == len(kept[0])
    with pytest.raises(IndexMismatchError):
        SentenceIndex.load(tmp_path, expected_model=encoder.name, expected_fingerprint="another catalog")
    encoder.embedded.clear()
    answers = ItemAnswers(encoder, stored=loaded)
    answers.answer(JACKET, "is it waterproof")
    assert not set(sentences(JACKET.description)) & set(encoder.embedded), "stored sentences were embedded again"
    other = replace(JACKET, id="J9", description="Now with a hood.")
    answers.answer(other, "does it have a hood")
    assert "Now with a hood." in encoder.embedded, "an item the index does not hold has its description embedded"


# -- compare in words, help me decide -----------------------------------------------------------------------------

def test_help_me_decide_picks_one_and_names_a_cheaper_and_a_dearer_one_with_their_trade_offs() -> None:
    _, reply = apply(LISTED, Move("compare"), SHOP)
    said = reply.lines[0]
    pick, *others = [product(i) for i in JACKETS]
    assert reply.kind == "comparison" and said.startswith(texts.DECIDE_PICK.format(title=pick.title, reason="a"))
    cheaper = [p for p in others if p.price < pick.price]
    dearer = [p for p in others if p.price > pick.price]
    assert (min(cheaper, key=lambda p: p.price).title in said) if cheaper else "spend less" not in said
    assert (max(dearer, key=lambda p: p.price).title in said) if dearer else "For more" not in said


def test_compare_two_answers_the_better_for_from_their_descriptions() -> None:
    first, second = product(JACKETS[0]), product(JACKETS[1])
    _, reply = apply(LISTED, Move("compare", items=(first.id, second.id), text="which is better for rain"), SHOP)
    said = reply.lines[0]
    assert reply.kind == "comparison" and said.startswith(texts.COMPARE_INTRO.format(first=first.title,
                                                                                      second=second.title))
    _, plain = apply(LISTED, Move("compare", items=(first.id, second.id)), SHOP)
    assert "description" not in plain.lines[0]

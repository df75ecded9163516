"""Whom an item is for: the customer's words, the catalog's values, and the filter between them."""

from __future__ import annotations

import pytest

from actions.catalog_shop import CatalogShop
from actions.conversation import Move, Need, State, apply
from actions.moves import move_from
from retrieval.audience import groups_of, stated_audience, suits
from retrieval.catalog import Catalog, Product
from retrieval.encoder import HashingEncoder
from retrieval.recommender import Recommender
from retrieval.search import Retriever
from retrieval.vocabulary import CatalogVocabulary


@pytest.mark.parametrize(("text", "groups"), [
    ("mens running shoes", "men"),
    ("men's watch", "men"),
    ("Womens kurta under 900", "women"),
    ("ladies handbag", "women"),
    ("a frock for my daughter", "girls"),
    ("jeans for my 8 year old son", "boys"),
    ("a 10 year old boy", "boys"),
    ("my dad's birthday, a wallet", "men"),
    ("gift for her", "women"),
    ("something for him", "men"),
    ("kids shoes", "girls and boys"),
    ("t-shirts for my son and daughter", "girls and boys"),
    ("unisex hoodie", "women and men"),
    ("for our baby", "babies"),
    ("a rattle for a baby", "babies"),
    ("boy", "boys"),
    # words that name no wearer
    ("boyfriend jeans", None),
    ("a baby pink top", None),
    ("hey man, black jeans", None),
    ("hi guys", None),
    ("her favourite colour is blue", None),
    ("a lamp", None),
])
def test_the_words_say_whom_an_item_is_for(text: str, groups: str | None) -> None:
    assert stated_audience(text) == groups


def test_for_her_son_is_the_son() -> None:
    """A pronoun owning a person word names that person, not itself."""
    assert stated_audience("a jacket for her son") == "boys"


@pytest.mark.parametrize(("value", "groups"), [
    ("Women", {"women"}), ("Men, Boys", {"men", "boys"}), ("Unisex", {"men", "women"}),
    ("Unisex Kids", {"boys", "girls"}), ("Baby Boys, Baby Girls", {"babies", "boys", "girls"}),
    ("Couple", {"men", "women"}), ("Senior", set()), ("girls", {"girls"}),
])
def test_the_catalogs_values_are_read_into_the_same_groups(value: str, groups: set[str]) -> None:
    assert groups_of(value) == groups


def test_unisex_suits_every_adult_and_unisex_kids_every_child() -> None:
    assert suits("men", "Unisex") and suits("women", "Unisex") and not suits("boys", "Unisex")
    assert suits("girls", "Unisex Kids") and not suits("women", "Unisex Kids")
    assert not suits("men", "Women") and not suits("women", "Men")


_SHOP = [
    Product("m1", "Slim fit blue jeans", 40.0, "USD", "Jeans", audience="Men"),
    Product("m2", "Straight blue jeans", 45.0, "USD", "Jeans", audience="Men"),
    Product("w1", "Skinny blue jeans", 42.0, "USD", "Jeans", audience="Women"),
    Product("w2", "Boyfriend blue jeans", 48.0, "USD", "Jeans", audience="Women"),
    Product("u1", "Relaxed blue jeans", 50.0, "USD", "Jeans", audience="Unisex"),
    Product("b1", "Stretch blue jeans", 25.0, "USD", "Jeans", audience="Boys"),
    Product("g1", "Flared blue jeans", 26.0, "USD", "Jeans", audience="Girls"),
    Product("k1", "Pull-on blue jeans", 20.0, "USD", "Jeans", audience="Unisex Kids"),
]


def _shop(products: list[Product]) -> CatalogShop:
    catalog = Catalog(products)
    return CatalogShop(Recommender(Retriever.build(catalog, HashingEncoder(256))), CatalogVocabulary(catalog))


def test_the_vocabulary_covers_the_catalogs_values_that_suit_a_wish() -> None:
    vocabulary = _shop(_SHOP).vocabulary
    assert vocabulary.covers("audience", "men") == {"Men", "Unisex"}
    assert vocabulary.covers("audience", "girls and boys") == {"Boys", "Girls", "Unisex Kids"}


def _first_list(shop: CatalogShop, text: str) -> tuple[Need, list[Product]]:
    message = {"text": text, "intent": {"name": "request_recommendation", "confidence": 0.9},
               "entities": [{"entity": "category", "value": "jeans", "start": text.find("jeans"),
                             "end": text.find("jeans") + 5}]}
    state = State()
    for _ in range(4):  # waive every question until cards come
        state, reply = apply(state, move_from(message, state, shop.vocabulary, shop.catalog), shop)
        if reply.cards:
            return state.need, [s.product for s in reply.cards]
        message = {"text": "I don't mind", "intent": {"name": "no_preference", "confidence": 0.9}, "entities": []}
    raise AssertionError(f"no cards for {text!r}")


@pytest.mark.parametrize(("text", "allowed"), [
    ("mens jeans", {"Men", "Unisex"}),
    ("jeans for my daughter", {"Girls", "Unisex Kids"}),
    ("womens jeans under 45", {"Women", "Unisex"}),
])
def test_a_stated_wearer_filters_the_list(text: str, allowed: set[str]) -> None:
    need, cards = _first_list(_shop(_SHOP), text)
    assert need.wishes.get("audience")
    assert cards and {p.audience for p in cards} <= allowed


def test_no_wearer_stated_no_filter() -> None:
    need, cards = _first_list(_shop(_SHOP), "blue jeans")
    assert "audience" not in need.wishes
    assert len(cards) == 3


def test_a_catalog_that_does_not_say_whom_items_are_for_reads_no_wish() -> None:
    """"men's" on a catalog without audiences stays in the query words; it filters nothing away."""
    shop = _shop([Product(p.id, p.title, p.price, p.currency, p.category) for p in _SHOP])
    need, cards = _first_list(shop, "mens jeans")
    assert "audience" not in need.wishes and len(cards) == 3


def test_nothing_for_the_wearer_offers_anyone_and_says_so() -> None:
    shirt = Product("s1", "Oxford shirt", 30.0, "USD", "Shirts", audience="Men")
    shop = _shop([*(p for p in _SHOP if p.audience in ("Women", "Girls")), shirt])
    state = State(need=Need(scope=("Jeans",), scope_words="jeans",
                            settled=("budget", "colour", "material", "style", "use")))
    _, reply = apply(state, Move("state", wishes={"audience": "men"}), shop)
    said = " ".join([*reply.lines, reply.question])
    assert "for men" in said and "for anyone, not only men" in said

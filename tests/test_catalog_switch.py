"""Another catalog in one command, and a dialogue that adapts to it (the Flipkart sample).

The Flipkart export is unlike the demo catalog: broad categories from category trees
("Clothing", "Bags Wallets Belts") with the customer's words one level down ("a ring", "a
dress"), a few one-off "categories" that are product names, colours and materials on about
half the items, "Ideal For" values spelt several ways ("Women", "Women's"), prices in rupees.
``action_shop`` runs here with Tracker.from_dict and CollectingDispatcher on that catalog.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from actions import texts
from actions.conversation import Need, State
from actions.services import Services
from actions.shop import ActionShop
from retrieval.audience import groups_of
from retrieval.catalog import Catalog
from retrieval.encoder import HashingEncoder
from retrieval.loaders import load_catalog
from retrieval.mapping import load_mapping
from retrieval.questions import answer_entropy
from retrieval.ranker import Pool, Request, Stated
from retrieval.recommender import Needs, Recommender
from retrieval.search import Retriever
from retrieval.vocabulary import CatalogVocabulary, read_nlu_synonyms, value_key
from shopkeeper_cli.main import main, read_catalog_env
from store.db import create_schema, make_engine
from store.profiles import ProfileStore
from tests.actions_support import cards, entity, run, shop_tracker, state_of, texts_of
from tests.conftest import MAPPINGS, ROOT, SHARED_CATALOGS, make_product

FLIPKART = "flipkart-sample.csv"


@pytest.fixture(scope="module")
def flipkart() -> Catalog:
    if not (SHARED_CATALOGS / FLIPKART).is_file():  # as the shared_catalogs fixture, once per module
        pytest.skip(f"foreign catalogs not found at {SHARED_CATALOGS} (clone with ../shared beside the repo)")
    return load_catalog(SHARED_CATALOGS / FLIPKART, load_mapping(MAPPINGS / "flipkart.toml"), strict=False).catalog


@pytest.fixture(scope="module")
def services(flipkart: Catalog) -> Services:
    engine = make_engine("sqlite://")
    create_schema(engine)
    retriever = Retriever.build(flipkart, HashingEncoder(256))
    return Services(recommender=Recommender(retriever), profiles=ProfileStore(engine),
                    vocabulary=CatalogVocabulary(flipkart))


def shop(services: Services, message: str, intent: str = "inform", entities: list[dict[str, Any]] | None = None,
         state: State | None = None) -> tuple[Any, State]:
    """One turn of ``action_shop`` on this catalog: the dispatcher and the state it leaves."""
    said, events = run(ActionShop(lambda: services), shop_tracker(message, intent, entities, state))
    return said, state_of(events)


ASKING_CATEGORY = State(pending="category")


# -- understanding answers ---------------------------------------------------------


@pytest.mark.parametrize(("answer", "category"), [
    ("i need a ring", "Jewellery"),            # a level down the category tree
    ("a dress for a party", "Clothing"),       # a word only that category's titles use
    ("a new wallet", "Bags Wallets Belts"),    # one word of a many-word category name
    ("wrist watches", "Watches"),
    ("coffee mugs", "Kitchen Dining"),
    ("running shoes", "Footwear"),
    ("footwear", "Footwear"),                  # the name itself still comes first
])
def test_category_answers_in_customers_words_map_to_the_broad_category(
    services: Services, answer: str, category: str
) -> None:
    _, state = shop(services, answer, state=ASKING_CATEGORY)
    assert state.need.scope == (category,)


def test_an_unknown_category_names_the_main_ones_not_all_of_them(services: Services, flipkart: Catalog) -> None:
    said, state = shop(services, "spaceship", state=ASKING_CATEGORY)
    assert state.need.scope == () and state.pending == "category"
    message = texts_of(said)[0]
    assert message.startswith('Sorry, we don\'t carry "spaceship".')
    named = message.split("We have: ", 1)[1].rstrip(".").split(", ")
    sizes = Counter(p.category for p in flipkart)
    assert 0 < len(named) <= 13 and len(named) < len(sizes)
    assert "Clothing" in named and all(sizes[c] >= 5 for c in named)


def test_category_buttons_are_the_biggest_categories(services: Services, flipkart: Catalog) -> None:
    said, state = shop(services, "something under 1000", "inform", [entity("budget", "under 1000")])
    assert state.pending == "category" and texts_of(said) == [texts.ASK_CATEGORY]
    offered = [b["title"] for b in said.messages[0]["buttons"]]
    sizes = Counter(p.category for p in flipkart)
    assert offered == sorted(offered, key=str.casefold) and len(offered) == 12
    twelfth = sizes.most_common(12)[-1][1]
    assert all(sizes[c] >= twelfth for c in offered)  # no product name posing as a category


def test_use_answers_match_the_catalog_spellings(services: Services) -> None:
    asking_use = State(need=Need(scope=("Clothing",), settled=("budget",)), pending="use", questions=1)
    _, state = shop(services, "for women", state=asking_use)
    assert value_key(state.need.wishes["use"]) == "women"


@pytest.mark.parametrize(("message", "intent", "state", "allowed"), [
    ("for women", "inform", State(need=Need(scope=("Clothing",), settled=("budget",)), pending="use", questions=1),
     ("women",)),
    ('/inform{"use": "Men, Boys"}', "inform",
     State(need=Need(scope=("Clothing",), settled=("budget",)), pending="use", questions=1), ("men", "boys")),
    ("t-shirts for my son", "request_recommendation", State(), ("boys",)),
])
def test_whom_an_item_is_for_filters_the_cards(services: Services, message: str, intent: str, state: State,
                                               allowed: tuple[str, ...]) -> None:
    """"Ideal For" is the audience too: said, answered or tapped, no item for other people is shown."""
    entities = [entity("use", "Men, Boys")] if message.startswith("/") else []
    said, state = shop(services, message, intent, entities, state=state)
    for _ in range(3):
        if cards(said):
            break
        said, state = shop(services, "i don't mind", "no_preference", state=state)
    assert set(groups_of(state.need.wishes["audience"])) == set(allowed)
    catalog = services.recommender.catalog
    shown = [catalog.get(i["id"]) for i in cards(said)]
    # an item that does not say whom it is for may come; one the catalog says is for others never does
    assert shown and all(p is not None and (p.audience is None or set(groups_of(p.audience)) & set(allowed))
                         for p in shown)
    assert any(p is not None and p.audience for p in shown)


# -- what is asked ---------------------------------------------------------------------


def test_attribute_buttons_offer_each_value_once_however_it_is_spelt(services: Services) -> None:
    all_but_use = State(need=Need(settled=("budget", "colour", "material", "style")))
    said, state = shop(services, "clothes", "inform", [entity("category", "clothing")], state=all_but_use)
    assert state.pending == "use"  # the only question left
    message = said.messages[0]
    assert message["text"] == texts.ASK_ATTRIBUTE["use"] == "Who or what is it for?"
    values = [b["title"] for b in message["buttons"][:-1]]
    assert len(values) == 5 and len({value_key(v) for v in values}) == 5  # never "Women" and "Women's"


def test_a_sparse_attribute_counts_only_for_the_items_it_describes(flipkart: Catalog) -> None:
    clothing = [p for p in flipkart if p.category == "Clothing"]
    coverage = sum(1 for p in clothing if p.colour) / len(clothing)
    assert coverage < 0.8  # the export leaves many colours out …
    full = [p for p in clothing if p.colour]
    # … and the split is discounted by exactly that share
    assert answer_entropy(clothing, "colour") == pytest.approx(coverage * answer_entropy(full, "colour"))


def test_the_questions_ask_what_splits_this_catalog(services: Services, flipkart: Catalog) -> None:
    said, state = shop(services, "clothing", "inform", [entity("category", "clothing")],
                       State(need=Need(settled=("budget",))))
    asked = state.pending
    assert asked in ("colour", "material", "style", "use") and texts_of(said) == [texts.ASK_ATTRIBUTE[asked]]
    clothing = [p for p in flipkart if p.category == "Clothing"]
    best = max(("colour", "material", "style", "use"), key=lambda a: answer_entropy(clothing, a))
    assert asked == best


def test_budget_buttons_are_in_rupees(services: Services) -> None:
    said, state = shop(services, "watches", "inform", [entity("category", "watches")])
    assert state.pending == "budget"
    titles = [b["title"] for b in said.messages[0]["buttons"]]
    assert titles[0].startswith("Under ₹") and "₹" in said.messages[0]["text"]


def test_a_wish_for_men_does_not_favour_womens_items(services: Services) -> None:
    catalog = services.recommender.catalog
    needs = Needs(category="Clothing", preferences={"use": "Men"})
    result = services.recommender.recommend(needs, k=5)
    for scored in result.items:
        use = value_key(scored.product.use or "")
        if "made for" in scored.reason:
            assert "men" in use.split(", ") or "boys, men" in use, (scored.product.use, scored.reason)
    womens = [p for p in catalog if value_key(p.use or "") == "women" and p.category == "Clothing"]
    assert womens
    position = catalog.position(womens[0].id)
    pool = Pool([position], [womens[0]], services.recommender.retriever.index.reconstruct([position]), np.zeros(1))
    stated = Stated(1.0).score(Request(pool.vectors[0], "", np.ones(len(catalog), dtype=bool), needs), pool)
    assert stated["stated:use"].tolist() == [0.0]


def test_recommendations_from_the_flipkart_catalog(services: Services) -> None:
    ents = [entity("category", "watch"), entity("colour", "black"), entity("budget", "under 2000")]
    said, state = shop(services, "a black watch under 2000", "request_recommendation", ents)
    assert state.need.scope == ("Watches",) and value_key(state.need.wishes["colour"]) == "black"
    while not cards(said) and state.pending is not None:
        said, state = shop(services, "i don't mind", "no_preference", state=state)
    items = cards(said)
    assert len(items) == 3 and all(i["category"] == "Watches" and i["price"] <= 2000 for i in items)
    catalog = services.recommender.catalog
    assert all(value_key(catalog.get(i["id"]).colour or "") == "black" for i in items)  # type: ignore[union-attr]
    assert all(i["currency"] == "INR" for i in items)


# -- one command ------------------------------------------------------------------------


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def test_catalog_use_builds_everything_apart_and_switches_back(
    shared_catalogs: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """The whole pipeline on the Flipkart sample; training is a dry run (it takes minutes)."""
    demo_files = [ROOT / "data/nlu/catalog_lookups.yml", ROOT / "models/shopkeeper.tar.gz", ROOT / "build/index"]
    before = {p: _digest(p) if p.is_file() else p.exists() for p in demo_files}
    monkeypatch.setenv("SHOPKEEPER_TRAIN_DRY_RUN", "1")
    monkeypatch.setenv("SHOPKEEPER_CACHE", str(tmp_path / "cache.sqlite"))
    home, active = tmp_path / "flipkart", tmp_path / "active-catalog.env"
    code = main(["catalog", "use", str(shared_catalogs / FLIPKART), "--mapping", str(MAPPINGS / "flipkart.toml"),
                 "--build-dir", str(home), "--active-file", str(active), "--encoder", "hashing", "--quiet"])
    out = capfd.readouterr().out
    assert code == 0, out
    assert "5 row(s) skipped" in out and "is now the active catalog" in out and "make run" in out

    imported = load_catalog(home / "products.jsonl").catalog
    assert len(imported) == 997 and imported.currency == "INR"
    assert sum(1 for p in imported if p.extra.get("subcategory")) > 900  # the tree's second level survives
    manifest = yaml.safe_load((home / "index" / "manifest.json").read_text())
    assert manifest["count"] == 997

    lookups = yaml.safe_load((home / "catalog_lookups.yml").read_text())["nlu"]
    tables = {b["lookup"]: b["examples"] for b in lookups if "lookup" in b}
    assert {"category", "colour", "material", "brand"} <= set(tables)
    assert "- jewellery" in tables["category"] and "- rings" in tables["category"]
    # requests in this catalog's words, so that "i need clothing" is a request and not chitchat
    intents = {b["intent"]: b["examples"] for b in lookups if "intent" in b}
    assert "[clothing](category)" in intents["request_recommendation"]
    assert "[watches](category)" in intents["request_recommendation"]
    assert "asics" not in intents["request_recommendation"]  # one-off "categories" are left out
    assert "[black](colour)" in intents["critique_different"]
    # Rasa refuses a synonym text mapped to two values: none may clash with the shared NLU data.
    others = [p for p in sorted((ROOT / "data/nlu").glob("*.yml")) if p.name != "catalog_lookups.yml"]
    taken = read_nlu_synonyms(others)
    generated = read_nlu_synonyms([home / "catalog_lookups.yml"])
    assert not {t for t in generated if t in taken and taken[t] != generated[t]}

    assert active.read_text().endswith((home / "catalog.env").read_text())
    env = read_catalog_env(home / "catalog.env")
    # the file is sourced by scripts/run.sh: the shell must read the same values
    sourced = subprocess.run(["bash", "-c", f"set -a; . {home / 'catalog.env'}; env -0"], capture_output=True,
                             check=True).stdout.decode().split("\0")
    assert env["SHOPKEEPER_SHOP_NAME"] == "Flipkart Sample" and "SHOPKEEPER_SHOP_NAME=Flipkart Sample" in sourced
    tagline = env["SHOPKEEPER_SHOP_TAGLINE"]
    assert tagline.startswith("Clothing, ") and tagline.endswith(" and more")
    assert Path(env["SHOPKEEPER_RASA_MODEL"]) == home / "models" / "shopkeeper.tar.gz"
    assert env["SHOPKEEPER_CATALOG_MAPPING"] == "" and env["SHOPKEEPER_ENCODER"] == "hashing"
    # the (dry-run) training used the shared NLU data with this catalog's lookups instead of the demo's
    train = next(line for line in out.splitlines() if "rasa train" in line)
    assert str(home / "catalog_lookups.yml") in train and "data/nlu/needs.yml" in train
    assert "data/nlu/catalog_lookups.yml" not in train and f"--out {home / 'models'}" in train

    after = {p: _digest(p) if p.is_file() else p.exists() for p in demo_files}
    assert after == before, "the demo catalog's files must not change"

    assert main(["catalog", "use", "--demo", "--active-file", str(active)]) == 0
    assert not active.exists() and "demo catalog is active" in capfd.readouterr().out


def test_train_script_keeps_the_demo_default() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPKEEPER_")}
    printed = subprocess.run([str(ROOT / "scripts/train.sh")], cwd=ROOT, env={**env, "SHOPKEEPER_TRAIN_DRY_RUN": "1"},
                             capture_output=True, text=True, check=True).stdout
    assert "--data data/nlu data/stories data/rules --out models --fixed-model-name shopkeeper" in printed


def test_a_stray_attribute_word_is_dropped_quietly(services: Services) -> None:
    # "i need home furnishing": the NLU may take "home" for a use while the category is asked
    said, state = shop(services, "home furnishing", "inform", [entity("use", "home")], ASKING_CATEGORY)
    assert state.need.scope == ("Home Furnishing",) and "use" not in state.need.wishes
    assert not any("don't know" in t for t in texts_of(said))


def test_a_wrong_answer_is_explained_with_the_values_there_are(services: Services) -> None:
    asking_use = State(need=Need(scope=("Clothing",), settled=("budget",)), pending="use", questions=1)
    said, state = shop(services, "for aliens", state=asking_use)
    assert "use" not in state.need.wishes
    explained = [t for t in texts_of(said) if "For example: " in t]
    assert explained, texts_of(said)
    listed = explained[0].split("For example: ", 1)[1]
    assert "; " in listed and ("Men, Boys" in listed or "Boys, Men" in listed)  # values holding commas stay whole


def test_words_the_catalog_never_uses_are_read_as_the_catalog_words_they_misspell() -> None:
    catalog = Catalog([
        make_product("a", "Action figure, space ranger", "Toy Figures", 12, tags=("stickers",)),
        make_product("b", "Action figure, knight", "Toy Figures", 14, tags=("stickers",)),
        make_product("c", "Wooden dollhouse with furniture", "Dolls", 80),
        make_product("d", "Dollhouse furniture set", "Dolls", 25),
    ])
    vocabulary = CatalogVocabulary(catalog)
    assert vocabulary.spelled("acton figures") == "action figures"
    assert vocabulary.spelled("stikers for the kids") == "stickers for the kids"
    assert vocabulary.spelled("dolhouse furnture") == "dollhouse furniture"
    # known words, short words, numbers and words with nothing close stay as typed
    assert vocabulary.spelled("a knight for 12 bucks") == "a knight for 12 bucks"
    assert vocabulary.spelled("zeppelin") == "zeppelin"
    assert vocabulary.spelled("just show me") == "just show me"  # the words of a request are no typos
    # an English word is no slip for a catalog word unless that one is far commoner ("acton" above)
    bedding = CatalogVocabulary(Catalog([make_product("e", "Bedding set, cotton", "Bedding", 40),
                                         make_product("f", "Kids bedding, dinosaurs", "Bedding", 30),
                                         make_product("g", "Bluetooth speakers", "Audio", 30),
                                         make_product("h", "Party speakers", "Audio", 60)]))
    assert bedding.spelled("present for a budding scientist") == "present for a budding scientist"
    assert bedding.spelled("sneakers") == "sneakers"
    assert bedding.match("category", "bedding for a budding scientist") == "Bedding"
    assert bedding.spelled("beddding and speakrs") == "bedding and speakers"
    # of two equally close catalog words, the one the products name beside the other words of the message
    magic = CatalogVocabulary(Catalog([make_product("m", "Magic trick set for kids", "Novelty", 15),
                                       make_product("n", "Star Trek phaser", "Collectibles", 30),
                                       make_product("o", "Star Trek poster", "Collectibles", 10),
                                       make_product("r", "Magic tricks, deluxe box", "Novelty", 25)]))
    assert magic.spelled("magic trik set") == "magic trick set"
    assert magic.spelled("star trik poster") == "star trek poster"
    # two catalog words run together read as both
    assert bedding.spelled("kidsbedding") == "kids bedding"
    assert bedding.spelled("partyspeakers for sale") == "party speakers for sale"
    toys = CatalogVocabulary(Catalog([make_product("p", "Play-Doh modelling compound", "Arts & Crafts", 9),
                                      make_product("q", "Play-Doh kitchen set", "Arts & Crafts", 19)]))
    assert toys.spelled("playdoh") == "play-doh"
    # a word said of one reads as the catalog's plural: "speakr" is one edit from "speaker"
    assert bedding.spelled("a bluetooth speakr") == "a bluetooth speaker"
    # a word the catalog uses is not "corrected" into a category's name: "table" is not "tablet"
    tablets = CatalogVocabulary(Catalog([make_product("t", "Tablet 10 inch", "Tablets", 300),
                                         make_product("u", "Oak side table", "Furniture", 90)]))
    assert tablets.match("category", "a bedside table") is None
    assert tablets.match("category", "a tabelt") == "Tablets"

"""Another catalog in one command, and a dialogue that adapts to it (the Flipkart sample).

The Flipkart export is unlike the demo catalog: broad categories from category trees
("Clothing", "Bags Wallets Belts") with the customer's words one level down ("a ring", "a
dress"), a few one-off "categories" that are product names, colours and materials on about
half the items, "Ideal For" values spelt several ways ("Women", "Women's"), prices in rupees.
The actions run here with Tracker.from_dict and CollectingDispatcher on that catalog.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from actions import texts
from actions.needs_form import ActionAskBudget, ActionAskCategory, ActionAskUse, ValidateNeedsForm
from actions.recommend import ActionRecommend
from actions.services import Services
from retrieval.catalog import Catalog
from retrieval.cli import main
from retrieval.encoder import HashingEncoder
from retrieval.loaders import load_catalog
from retrieval.mapping import load_mapping
from retrieval.questions import answer_entropy
from retrieval.recommender import Needs, Recommender
from retrieval.search import Retriever
from retrieval.vocabulary import CatalogVocabulary, read_nlu_synonyms, value_key
from store.db import create_schema, make_engine
from store.profiles import ProfileStore
from tests.actions_support import cards, run, texts_of, tracker
from tests.conftest import MAPPINGS, ROOT, SHARED_CATALOGS

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


@pytest.fixture
def validator(services: Services) -> ValidateNeedsForm:
    return ValidateNeedsForm(lambda: services)


def dispatcher() -> Any:
    from rasa_sdk.executor import CollectingDispatcher

    return CollectingDispatcher()


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
    validator: ValidateNeedsForm, answer: str, category: str
) -> None:
    assert validator.validate_category(answer, dispatcher(), tracker(answer), {}) == {"category": category}


def test_an_unknown_category_names_the_main_ones_not_all_of_them(validator: ValidateNeedsForm,
                                                                 flipkart: Catalog) -> None:
    said = dispatcher()
    assert validator.validate_category("spaceship", said, tracker("spaceship"), {}) == {"category": None}
    message = texts_of(said)[0]
    named = message.split("We have: ", 1)[1].rstrip(".").split(", ")
    assert named[-1] == texts.MORE_OPTIONS and len(named) <= 13
    sizes = Counter(p.category for p in flipkart)
    assert "Clothing" in named and all(sizes[c] >= 5 for c in named[:-1])


def test_category_buttons_are_the_biggest_categories(services: Services, flipkart: Catalog) -> None:
    said, _ = run(ActionAskCategory(lambda: services), tracker("hi", "greet"))
    offered = [b["title"] for b in said.messages[0]["buttons"]]
    sizes = Counter(p.category for p in flipkart)
    assert offered == sorted(offered, key=str.casefold) and len(offered) == 12
    twelfth = sizes.most_common(12)[-1][1]
    assert all(sizes[c] >= twelfth for c in offered)  # no product name posing as a category


def test_use_answers_match_the_catalog_spellings(validator: ValidateNeedsForm) -> None:
    t = tracker("for women", slots={"category": "Clothing"})
    result = validator.validate_use("for women", dispatcher(), t, {})
    assert value_key(result["use"]) == "women"


# -- what is asked ---------------------------------------------------------------------


def test_attribute_buttons_offer_each_value_once_however_it_is_spelt(services: Services) -> None:
    t = tracker("x", slots={"category": "Clothing", "budget": "any"})
    said, _ = run(ActionAskUse(lambda: services), t)
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


def test_the_form_asks_what_splits_this_catalog(validator: ValidateNeedsForm, flipkart: Catalog) -> None:
    t = tracker("x", slots={"category": "Clothing", "budget": "any"})
    listed = __import__("asyncio").run(validator.required_slots([], None, t, {}))  # type: ignore[arg-type]
    asked = listed[-1]
    assert asked in ("colour", "material", "style", "use")
    clothing = [p for p in flipkart if p.category == "Clothing"]
    best = max(("colour", "material", "style", "use"), key=lambda a: answer_entropy(clothing, a))
    assert asked == best


def test_budget_buttons_are_in_rupees(services: Services) -> None:
    said, _ = run(ActionAskBudget(lambda: services), tracker("x", slots={"category": "Watches"}))
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
    signals = services.recommender._signals(womens[0], services.recommender.item_vector(womens[0].id), needs,
                                            __import__("retrieval.recommender", fromlist=["Preferences"]).Preferences())
    assert "stated:use" not in signals


def test_recommendations_from_the_flipkart_catalog(services: Services) -> None:
    t = tracker("a black watch", slots={"category": "Watches", "colour": "Black", "budget_max": 2000.0})
    said, _ = run(ActionRecommend(lambda: services), t)
    items = cards(said)
    assert len(items) == 3 and all(i["category"] == "Watches" and i["price"] <= 2000 for i in items)
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

    env = dict(line.split("=", 1) for line in active.read_text().splitlines() if "=" in line and line[0] != "#")
    assert env == dict(line.split("=", 1) for line in (home / "catalog.env").read_text().splitlines())
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


def test_a_stray_attribute_word_is_dropped_quietly_but_a_wrong_answer_is_explained(
    validator: ValidateNeedsForm,
) -> None:
    # "i need home furnishing": the NLU may take "home" for a use while the form asks the category
    said = dispatcher()
    asking_category = tracker("home furnishing", slots={"requested_slot": "category"})
    assert validator.validate_use("home", said, asking_category, {}) == {"use": None}
    assert said.messages == []
    asking_use = tracker("for aliens", slots={"requested_slot": "use"})
    assert validator.validate_use("aliens", said, asking_use, {}) == {"use": None}
    listed = texts_of(said)[0].split("For example: ", 1)[1]
    assert "; " in listed and ("Men, Boys" in listed or "Boys, Men" in listed)  # values holding commas stay whole

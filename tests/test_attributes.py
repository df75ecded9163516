"""Colours and materials read from titles and descriptions (retrieval/attributes.py) and their use at import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from retrieval.attributes import infer_attributes, infer_colour, infer_material
from retrieval.catalog import Catalog, Product
from retrieval.errors import MappingError
from retrieval.loaders import load_catalog
from retrieval.mapping import CatalogMapping, load_mapping, mapping_from_dict
from tests.conftest import DEMO_CATALOG, MAPPINGS

# --- the lexicon ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("title", "colour"), [
    ("Black Leather Wallet", "black"),
    ("Stainless steel water bottle, navy blue", "navy"),
    ("Gray Dress", "grey"),
    ("Apple MacBook Pro 14 Inch Space Grey", "grey"),
    ("Sky Blue Construction Paper", "blue"),
    ("Woven Throw Blanket, 48\" x 60\", Multi Color", "multicolour"),
    ("Party Banner, Multicolored", "multicolour"),
    ("Kite, Color: Rainbow - Outdoor Fun", "multicolour"),
    ("Hand Drum Musical Toy, Assorted Colors", "multicolour"),
    ("Rose Gold Phone Stand", "rose gold"),
    ("Golden Shoes Woman", "gold"),
    ("Horse Plush, Cuddlekins, Brown 12 Inches", "brown"),
    ("Doll Sofa with Foldout Bed, Pink/White", "pink"),       # several colours: the first
    ("Nike Air Jordan 1 Red And Black", "red"),
    ("Convertible Car for 14\" Dolls, Blue, Orange, Pink", "multicolour"),  # three listed apart: a mix
    ("Latex Balloons, Clear (Pack of 10)", "clear"),         # a weak word alone in its part of the title
    ("Wood Barn Bird House, 8-Inch, Natural", "natural"),
    ("Medieval Princess Fuschia Child Costume", "pink"),
    ("Plush Bear, Off White, 11\"", "white"),
])
def test_colours_in_titles_are_found_and_normalised(title: str, colour: str) -> None:
    assert infer_colour(title) == colour


@pytest.mark.parametrize("title", [
    "Redwood Ventures Foodie Surprise Egg",         # word boundaries: redwood, Bluetooth, goldfish, Whitmor
    "Bluetooth Speaker",
    "Folkmanis Mini Goldfish",
    "Whitmor Frog Collapsible Cube",
    "Black & Decker Cordless Drill",                # names: brands, franchises, places, bands
    "BLACK+DECKER Dustbuster",
    "Orange County Choppers Tee",
    "Red Hot Chili Peppers Poster",
    "White Castle Slider Box",
    "Green Toys Fire Engine",
    "Marvel Black Panther Action Figure",
    "DC Cover Girls: Black Canary Statue",
    "My Little Pony Rainbow Dash Classic Figure",
    "Snow White and The Huntsman Queen Costume",
    "Wild Republic Great White Shark Plush",
    "Pink Floyd - Dark Side of the Moon Keychain",
    "Darice St. Patrick's Day Pot O' Gold Foam Stickers",
    "Ice Cream",                                    # weak words in running text
    "Pokemon TCG: Crimson Invasion Elite Trainer Box",
    "French Lavender Scented Plush",
    "Madame Alexander Doll, Light Skin Tone Blue Eyes/Blonde Hair",   # the colour of a part
    "Rolex Cellini Date Black Dial",
    "Corset With Black Skirt",
    "Action Figures Playset (Packaging & Colors May Vary)",           # not known
    "Maisto R/C Lamborghini, Multicolor (Colors May Vary)",
    'Disney\'s Alice in Wonderland, "The Red Queen\'s Garden" Puzzle',  # a quoted title names a picture
])
def test_names_parts_and_weak_words_are_not_colours(title: str) -> None:
    assert infer_colour(title) is None


def test_the_rows_brand_is_never_a_colour() -> None:
    assert infer_colour("Blue Orange Cube Puzzle") is None  # a name in the lexicon
    assert infer_colour("Velvet Touch Loose Powder", brand="Velvet Touch") is None
    assert infer_material("Velvet Touch Loose Powder", brand="Velvet Touch") is None
    assert infer_colour("Purple Cow Scarf", brand="Purple Cow") is None
    assert infer_colour("Purple Cow Scarf, Green", brand="Purple Cow") == "green"


@pytest.mark.parametrize(("title", "material"), [
    ("Melissa & Doug Wooden Train Set", "wood"),
    ("Stainless steel water bottle, navy blue", "stainless steel"),
    ("Carbon Steel Wok", "carbon steel"),
    ("Black Leather Wallet", "leather"),
    ("White Faux Leather Backpack", "faux leather"),
    ("Vegan Leather Tote", "faux leather"),
    ("Black Aluminium Cup", "aluminium"),
    ("Aluminum Front Bulkhead", "aluminium"),
    ("Fast & Furious Ford F-150, 1:24 Scale Die-Cast Vehicle, Red", "metal"),
    ("Laser-Cut Basswood Hydraulic Arm", "wood"),
    ("Sugarbooger Silicone Teether", "silicone"),
    ("Mickey Pewter Key Ring", "pewter"),
    ("Rainbow Latex Balloons", "latex"),
    ("BPA-free Plastic Plates", "plastic"),       # the BPA is absent, not the plastic
    ("Wood-Look Vinyl Shelf Liner", "vinyl"),     # a look is not a material
])
def test_materials_in_titles_are_found_and_normalised(title: str, material: str) -> None:
    assert infer_material(title) == material


@pytest.mark.parametrize("title", [
    "Leather-Free Wallet",
    "Not Leather Wallet Insert",
    "Faux Wood Blinds",
    "Oak Finish Side Table",
    "Fiberglass Ladder",                      # "glass" inside a word
    "Sun Glasses",
    "Iron Man Helmet",                         # names
    "Metal Gear Solid Poster",
    "Marble Run Starter Set",
    "Silver Pot With Glass Cap",               # the material of a part
    "Walthers HO Scale Hardwood Furniture Factory Structure Kit",  # weak in a title
    "Woodland Scenics Pine Car Derby Graphite",
])
def test_looks_negations_parts_and_names_are_not_materials(title: str) -> None:
    assert infer_material(title) is None


def test_the_description_counts_only_when_the_title_says_nothing() -> None:
    description = "Durable clamps. Color: Silver. Made of stainless steel."
    assert infer_colour("Hose Clamps", description) == "silver"
    assert infer_colour("Hose Clamps, Black", description) == "black"
    assert infer_material("Hose Clamps", description) == "stainless steel"
    assert infer_material("Plastic Hose Clamps", description) == "plastic"
    assert infer_material("Cricket Bat", "It is made of wood and comes in various sizes.") == "wood"
    assert infer_material("Iron Golf", "It features a solid metal head.") == "metal"
    assert infer_material("Plush Puppy", "It is made of 100% polyester; machine wash.") == "polyester"
    assert infer_colour("Blue Frock") == "blue"
    assert infer_colour("Frock", "With a vibrant blue color and a comfortable design.") == "blue"


def test_the_description_must_say_it_outright() -> None:
    # mentions are not statements: a scent, a picture, a list of variants, a negation
    assert infer_colour("Eau de Parfum", "Notes of rose, jasmine and blonde woods.") is None
    assert infer_colour("Sneakers", "Available in red, blue and green.") is None
    assert infer_material("Eau de Parfum", "Notes of rose, jasmine and sandalwood.") is None
    assert infer_material("Baseball", "It features a durable leather cover.") is None
    assert infer_material("Phone Skin", "A soft vinyl skin, not made of rubber, silicone or plastic.") is None
    assert infer_colour("Toy Car", "Colors may vary. Color: Red.") is None


def test_infer_attributes_reads_only_what_is_asked() -> None:
    assert infer_attributes("Black Leather Wallet") == {"colour": "black", "material": "leather"}
    assert infer_attributes("Black Leather Wallet", attributes=["material"]) == {"material": "leather"}
    assert infer_attributes("Wallet") == {}
    with pytest.raises(ValueError, match="style"):
        infer_attributes("Wallet", attributes=["style"])


# --- at import ------------------------------------------------------------------------------------------------------

HEADER = "sku,name,cost,type,about,shade\n"
ROWS = (
    "A,Black Leather Wallet,20,Wallets,Slim.,\n"
    "B,Grey Linen Sofa,500,Sofas,Soft.,Sage Green\n"       # the catalog's own colour
    "C,Cushion,10,Cushions,Made of 100% cotton.,\n"         # from the description
    "D,Gift Card,25,Cards,Any occasion.,\n"                 # nothing to read
)
FIELDS = {"id": "sku", "title": "name", "price": "cost", "category": "type", "description": "about"}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_mapping_without_colour_or_material_columns_infers_both(tmp_path: Path) -> None:
    mapping = mapping_from_dict({"fields": FIELDS})
    assert mapping.infer == ("colour", "material")
    report = load_catalog(write(tmp_path, HEADER + ROWS), mapping)
    got = {p.id: (p.colour, p.material) for p in report.catalog}
    assert got == {"A": ("black", "leather"), "B": ("grey", "linen"), "C": (None, "cotton"), "D": (None, None)}
    assert report.inferred == {"colour": 2, "material": 3}
    assert report.summary().endswith("; read from titles and descriptions: colour for 2, material for 3")


def test_a_catalogs_own_value_is_never_replaced(tmp_path: Path) -> None:
    mapping = mapping_from_dict({"fields": {**FIELDS, "colour": "shade"}, "infer": ["colour", "material"]})
    report = load_catalog(write(tmp_path, HEADER + ROWS), mapping)
    sofa = report.catalog.get("B")
    assert sofa is not None and sofa.colour == "Sage Green" and sofa.material == "linen"
    wallet = report.catalog.get("A")
    assert wallet is not None and wallet.colour == "black"  # its own cell is empty: inferred
    assert report.inferred == {"colour": 1, "material": 3}


def test_a_mapped_column_is_not_inferred_unless_asked(tmp_path: Path) -> None:
    mapping = mapping_from_dict({"fields": {**FIELDS, "colour": "shade"}})
    assert mapping.infer == ("material",)
    report = load_catalog(write(tmp_path, HEADER + ROWS), mapping)
    assert report.catalog.get("A").colour is None  # type: ignore[union-attr]
    assert report.inferred == {"material": 3}


def test_infer_can_be_turned_off(tmp_path: Path) -> None:
    mapping = mapping_from_dict({"fields": FIELDS, "infer": []})
    report = load_catalog(write(tmp_path, HEADER + ROWS), mapping)
    assert all(p.colour is None and p.material is None for p in report.catalog)
    assert report.inferred == {}
    assert "read from titles" not in report.summary()


@pytest.mark.parametrize(("infer", "message"), [
    (["color"], r"infer names \['color'\]; only colour, material"),
    (["style"], r"only colour, material can be read"),
    (True, "infer must be a list"),
    ("colour", "infer must be a list"),
])
def test_a_bad_infer_key_is_named(infer: object, message: str) -> None:
    with pytest.raises(MappingError, match=message):
        mapping_from_dict({"fields": FIELDS, "infer": infer})


def test_the_shipped_mappings_infer_what_they_have_no_column_for() -> None:
    assert load_mapping(MAPPINGS / "amazon.toml").infer == ("colour", "material")
    assert load_mapping(MAPPINGS / "dummyjson.toml").infer == ("colour", "material")
    assert load_mapping(MAPPINGS / "flipkart.toml").infer == ()  # its specifications give both


def test_the_native_format_reads_the_demo_catalog_exactly_as_written() -> None:
    """The demo catalog imports unchanged: every product is its line, nothing inferred, the same fingerprint."""
    assert CatalogMapping.native().infer == ()
    report = load_catalog(DEMO_CATALOG)
    lines = [json.loads(line) for line in DEMO_CATALOG.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [p.to_dict() for p in report.catalog] == lines
    assert report.inferred == {}
    assert report.catalog.fingerprint() == Catalog(Product.from_dict(line) for line in lines).fingerprint()


def test_the_native_format_never_infers(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"id": "x", "title": "Grey Oak Desk", "price": 10, "currency": "USD",
                                "category": "Desks"}) + "\n", encoding="utf-8")
    product = load_catalog(path).catalog[0]
    assert (product.colour, product.material) == (None, None)


# --- the foreign catalogs -------------------------------------------------------------------------------------------

#: Amazon rows checked by hand: id → (colour, material) the import must give.
AMAZON_CHECKED = {
    "4c69b61db1fc16e7013b43fc926e502d": (None, "bamboo"),           # 41" Bamboo Fiberglass Longboard
    "615ba903c134f439eaf8cdd1678ceb5c": ("orange", None),           # Window Valance and Curtain Set, Orange
    "fdd8daf07ddd4a23832f3da7d209252f": ("pink", None),             # Birchwood Owl Growth Chart, Pink
    "39478c1f7ef6ebefe5b8e7fb39b47a8e": ("red", "metal"),           # 1:24 Scale Die-Cast Vehicle, Red
    "9420e473c9c22a99f456589377f4890d": ("navy", None),             # Reusable Tote, Navy Blue Stripe
    "55259e7b18b0f9c485d920d401dafed3": ("black", "felt"),          # Doll Hat: Black Felt Top Hat
    "4449b3fa30a6becd3ede26511c8b2180": (None, "pewter"),           # Golf Ball Spinner Pewter Key Ring
    "a11d9462309527143094a0f68bce0a58": ("silver", "stainless steel"),  # Stainless Steel Hose Clamps; "Color: Silver"
    "16643516084cbe67f8a238a8b02f7287": (None, None),               # Great White Shark Plush
    "c5f4c94653a3befd8dd16adf2914c04e": (None, None),               # DC Cover Girls: Black Canary Statue
    "ea5373e6ca7e332d117a59f9fc5301da": (None, "plastic"),          # Green Toys Fire Engine; "recycled plastic"
    "954fb803841ce010626740c8a776e981": (None, None),               # … (Packaging & Colors May Vary)
    "2eae820fc975e1b08f2c2992c65473ab": (None, None),               # Folkmanis Mini Goldfish
    "cec948582e096cc23f0c63a25c80419f": (None, None),               # Redwood Ventures … Surprise Egg
    "a8dcc79a0625ab0d8176407b5d7a329b": (None, "wood"),             # Blue Orange Games … Wooden … Game
}


@pytest.mark.shared
def test_the_amazon_sample_gets_colours_and_materials_from_its_titles(shared_catalogs: Path) -> None:
    report = load_catalog(shared_catalogs / "amazon-2020-sample.csv", load_mapping(MAPPINGS / "amazon.toml"),
                          strict=False)
    catalog = report.catalog
    coloured = sum(1 for p in catalog if p.colour)
    made_of = sum(1 for p in catalog if p.material)
    assert report.inferred == {"colour": coloured, "material": made_of}  # the export has neither column
    assert coloured >= 0.15 * len(catalog) and made_of >= 0.15 * len(catalog)
    got = {pid: (p.colour, p.material) for pid in AMAZON_CHECKED if (p := catalog.get(pid)) is not None}
    assert got == AMAZON_CHECKED
    assert "multicolour" in catalog.attribute_values("colour")


@pytest.mark.shared
def test_the_dummyjson_catalog_gets_colours_from_its_titles(shared_catalogs: Path) -> None:
    report = load_catalog(shared_catalogs / "dummyjson-products.json", load_mapping(MAPPINGS / "dummyjson.toml"))
    catalog = report.catalog
    checked = {
        "LAP-APP-APP-078": ("grey", None),          # Apple MacBook Pro 14 Inch Space Grey
        "WOM-URB-WHI-175": ("white", "faux leather"),  # White Faux Leather Backpack
        "KIT-BRD-BLA-049": ("black", "aluminium"),  # Black Aluminium Cup
        "SPO-BRD-CRI-143": (None, "wood"),          # Cricket Bat: "It is made of wood"
        "FRA-CHA-CHA-007": (None, None),            # Chanel Coco Noir: "notes of … rose, and sandalwood"
        "BEA-VEL-POW-003": (None, None),            # Powder Canister by Velvet Touch
    }
    assert {pid: (p.colour, p.material) for pid in checked if (p := catalog.get(pid))} == checked
    assert report.inferred["colour"] >= 30 and report.inferred["material"] >= 10

#!/usr/bin/env python3
"""Deterministic generator for the Shopkeeper demo catalog.

Writes a fictional home-and-lifestyle product catalog into an output folder:

* ``products.jsonl`` -- one JSON object per product, sorted by id.
* ``images/SKU-NNNN.svg`` -- one small placeholder illustration per product.
* ``README.md`` -- a description of the catalog and its schema.

The same ``--seed`` and ``--count`` always produce byte-identical files. All
brand and product-line names are invented for the demo.

Example:
    Regenerate the default catalog next to this script::

        python3 data/catalog/generate.py
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

DEFAULT_SEED = 7
DEFAULT_COUNT = 600
OUT_OF_STOCK_SHARE = 0.08
IMAGE_DIR_NAME = "images"
PRODUCTS_FILE_NAME = "products.jsonl"
README_FILE_NAME = "README.md"
SVG_TITLE_MAX_CHARS = 48


@dataclass(frozen=True)
class ProductType:
    """One kind of product inside a category, e.g. a corner sofa.

    Attributes:
        noun: Title-case product noun used in titles, e.g. "Corner Sofa".
        materials: Materials this kind of product is made from.
        sizes: Pairs of (human size string, title fragment); the fragment is
            placed before the noun in the title and may be empty.
        uses: Short use phrases (keys of ``USE_PROSE``).
        tags: Extra lowercase tags that describe this kind of product.
        price: Inclusive (low, high) USD price band.
    """

    noun: str
    materials: tuple[str, ...]
    sizes: tuple[tuple[str, str], ...]
    uses: tuple[str, ...]
    tags: tuple[str, ...]
    price: tuple[float, float]


@dataclass(frozen=True)
class CategorySpec:
    """Everything needed to invent products of one category.

    Attributes:
        name: Title-case plural category name, e.g. "Sofas".
        glyph: Key into ``GLYPHS`` for the placeholder image.
        part: What the material sentence talks about, e.g. "upholstery".
        brands: Fictional brand names.
        models: Fictional product-line names that start each title.
        colours: Default colour palette (materials may override it).
        styles: Style keywords.
        types: Kinds of product within the category.
        openers: Opening description sentences. Each mentions the colour
            (``{colour}``, or ``{a_colour}`` with its article) and ``{material}``.
        details: Optional middle sentences with category-specific details.
    """

    name: str
    glyph: str
    part: str
    brands: tuple[str, ...]
    models: tuple[str, ...]
    colours: tuple[str, ...]
    styles: tuple[str, ...]
    types: tuple[ProductType, ...]
    openers: tuple[str, ...]
    details: tuple[str, ...]


# Colour name -> hex used to tint the placeholder images.
COLOUR_HEX: dict[str, str] = {
    "beige": "#d8c7a6",
    "black": "#222222",
    "blue": "#3d6fb6",
    "blush": "#e8c0be",
    "brown": "#7a5234",
    "charcoal": "#44484e",
    "clear": "#cfe0e6",
    "cognac": "#9a4f22",
    "cream": "#efe6d2",
    "gold": "#c9a244",
    "green": "#3f7d4e",
    "grey": "#8d9096",
    "honey": "#c8913f",
    "mustard": "#c99a2e",
    "natural": "#d6b98c",
    "navy": "#1f2f55",
    "olive": "#6b6b2f",
    "orange": "#e07a2f",
    "pink": "#e59bb0",
    "red": "#b3332e",
    "rust": "#a4471f",
    "sage": "#9caf88",
    "sand": "#cdb891",
    "silver": "#b9bec4",
    "smoke": "#6b6f75",
    "tan": "#b5835a",
    "teal": "#1f7a7a",
    "terracotta": "#c0643e",
    "white": "#f4f4f2",
    "yellow": "#e2b93b",
}

# Materials whose colour range is narrower than the category palette.
MATERIAL_COLOURS: dict[str, tuple[str, ...]] = {
    "aluminium": ("silver", "black", "grey", "navy"),
    "bamboo": ("natural", "honey"),
    "brass": ("gold",),
    "ceramic": ("white", "cream", "terracotta", "sage", "blue", "black"),
    "glass": ("clear", "smoke", "green"),
    "jute": ("natural", "beige"),
    "leather": ("black", "brown", "cognac", "tan", "navy", "green", "grey", "white"),
    "marble": ("white", "black", "green", "pink"),
    "metal": ("black", "white", "silver", "grey", "green", "blue"),
    "oak": ("natural", "white", "black", "honey"),
    "pine": ("natural", "white", "honey", "grey"),
    "rattan": ("natural", "honey", "black"),
    "suede": ("tan", "brown", "sand", "grey", "navy", "olive"),
    "walnut": ("natural", "brown"),
}

# Material -> descriptive phrases used in the material sentence.
MATERIAL_PHRASES: dict[str, tuple[str, ...]] = {
    "aluminium": ("lightweight anodised aluminium", "brushed aluminium that stays cool to the touch"),
    "bamboo": ("fast-growing bamboo with a natural oil finish", "pressed bamboo that resists warping"),
    "bouclé": ("nubby bouclé with a cosy, tactile feel", "a looped bouclé weave that hides everyday wear"),
    "brass": ("solid brushed brass that ages gracefully", "lacquered brass with a warm glow"),
    "canvas": ("heavyweight waxed canvas", "rugged cotton canvas that softens with use"),
    "ceramic": ("glazed ceramic with a hand-thrown look", "stoneware ceramic with a reactive glaze"),
    "cotton": ("soft, breathable cotton", "tightly woven organic cotton that holds its shape"),
    "fabric": ("a hard-wearing woven fabric", "a durable, easy-clean performance fabric"),
    "glass": ("tempered safety glass", "thick tempered glass with polished edges"),
    "jute": ("hand-braided jute", "natural jute fibres with an earthy texture"),
    "knit": ("a stretchy engineered knit", "a seamless knit that moves with your foot"),
    "leather": (
        "full-grain leather that develops a soft patina over time",
        "supple leather with hand-finished edges",
    ),
    "linen": (
        "breathable, slightly textured linen that softens with use",
        "a washed linen blend with a relaxed look",
    ),
    "marble": ("honed marble, so every piece has its own veining", "polished marble with natural veining"),
    "mesh": ("breathable, flexible mesh", "an engineered mesh that keeps air moving"),
    "metal": ("powder-coated steel", "sturdy powder-coated metal"),
    "nylon": ("ripstop nylon with a water-repellent coating", "tough recycled nylon"),
    "oak": ("solid oak with a clear matt lacquer", "FSC-certified oak with a visible grain"),
    "pine": ("sustainably sourced pine", "solid pine with a hard-wax oil finish"),
    "plastic": ("matte recycled plastic", "a tough, fingerprint-resistant plastic"),
    "polyester": ("recycled polyester", "hard-wearing recycled polyester"),
    "rattan": ("hand-woven rattan", "natural rattan woven by hand"),
    "suede": ("soft brushed suede", "velvety suede with a natural nap"),
    "velvet": ("plush velvet with a subtle sheen", "a soft cotton-blend velvet that catches the light"),
    "walnut": ("oiled solid walnut with a rich, warm grain", "walnut veneer over a stable birch core"),
    "wool": ("naturally resilient wool", "soft, tightly spun wool"),
}

MATERIAL_SENTENCES: tuple[str, ...] = (
    "The {part} is made from {mphrase}.",
    "Its {part} uses {mphrase}.",
    "We chose {mphrase} for the {part}.",
    "For the {part}, the makers went with {mphrase}.",
)

# Use phrase (the ``use`` field) -> how it reads inside a sentence.
USE_PROSE: dict[str, str] = {
    "bedside": "a bedside table",
    "city walks": "long city walks",
    "commuting": "the daily commute",
    "cycling": "cycling to work",
    "dining area": "a dining area",
    "entertaining": "entertaining friends",
    "everyday wear": "everyday wear",
    "family dinners": "family dinners",
    "family living room": "a busy family living room",
    "festivals": "festival weekends",
    "gaming": "long gaming sessions",
    "guest room": "a guest room",
    "gym": "gym sessions",
    "hallway": "a hallway or entrance",
    "hiking": "weekend hikes",
    "home library": "a growing home library",
    "home office": "a home office",
    "kids' room": "a kids' room",
    "living room": "the living room",
    "long workdays": "long workdays at the desk",
    "master bedroom": "the main bedroom",
    "movie nights": "movie nights",
    "open-plan living": "open-plan living",
    "rainy days": "rainy days",
    "reading": "reading",
    "reading corner": "a reading corner",
    "running": "road running",
    "school": "the school run",
    "small bedroom": "a small bedroom",
    "small flat": "a small flat",
    "small kitchen": "a small kitchen",
    "studio mixing": "studio mixing",
    "study": "study sessions",
    "trail running": "trail running",
    "travel": "travel",
    "winter weekends": "winter weekends",
    "workouts": "workouts",
}

CLOSERS: tuple[str, ...] = (
    "A great pick for {use_p}.",
    "Made with {use_p} in mind.",
    "A dependable choice for {use_p}.",
    "Works especially well for {use_p}.",
    "A favourite with customers for {use_p}.",
    "Ideal for {use_p}.",
)

FURNITURE_COLOURS: tuple[str, ...] = (
    "grey", "charcoal", "blue", "navy", "green", "sage", "olive", "beige",
    "cream", "brown", "terracotta", "rust", "mustard", "pink", "blush", "black",
)
APPAREL_COLOURS: tuple[str, ...] = (
    "black", "navy", "olive", "grey", "sand", "red", "blue", "green",
    "yellow", "orange", "white", "teal", "rust",
)

FEET_SIZES: tuple[tuple[str, str], ...] = tuple((f"EU {n}", "") for n in range(36, 47))
CLOTHING_SIZES: tuple[tuple[str, str], ...] = (
    ("XS", ""), ("S", ""), ("M", ""), ("L", ""), ("XL", ""), ("XXL", ""),
)

CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(
        name="Sofas",
        glyph="sofa",
        part="upholstery",
        brands=("Halvard Home", "Søren & Vik", "Larkspur Living", "Mossgrove", "Atelier Noé"),
        models=("Halden", "Tove", "Ansel", "Marlow", "Åsa", "Brisa", "Corrie", "Fenwick",
                "Linnea", "Rowan", "Selby", "Wilder", "Juno", "Hollis", "Ostby", "Calder"),
        colours=FURNITURE_COLOURS,
        styles=("modern", "scandinavian", "mid-century", "classic", "minimalist", "rustic"),
        types=(
            ProductType("Sofa", ("linen", "velvet", "leather", "fabric", "bouclé", "cotton"),
                        (("2-seater, 160 cm", "2-Seater"), ("3-seater, 210 cm", "3-Seater"),
                         ("4-seater, 250 cm", "4-Seater")),
                        ("small flat", "family living room", "movie nights", "open-plan living"),
                        ("sofa", "couch", "living room"), (399.0, 2499.0)),
            ProductType("Corner Sofa", ("linen", "velvet", "fabric", "bouclé"),
                        (("Corner, 260x180 cm", ""), ("Corner, 280x200 cm", "")),
                        ("family living room", "movie nights", "open-plan living"),
                        ("corner sofa", "sectional", "living room"), (899.0, 2499.0)),
            ProductType("Sofa Bed", ("fabric", "linen", "velvet", "cotton"),
                        (("3-seater, 200 cm, sleeps 2", "3-Seater"),
                         ("2-seater, 150 cm, sleeps 1", "2-Seater")),
                        ("guest room", "small flat"),
                        ("sofa bed", "sleeper", "space saving"), (349.0, 1299.0)),
        ),
        openers=(
            "The {model} {noun_l} brings {a_style} shape to the living room in {colour} {material}.",
            "Deep seats, plump cushions and {colour} {material} upholstery make the {model} an easy "
            "place to unwind.",
            "{A_style} {noun_l} with clean lines and a low back, covered in {colour} {material}.",
            "Wrapped in {colour} {material}, the {model} {noun_l} balances comfort with a tidy "
            "{style} profile.",
        ),
        details=(
            "The cushion covers zip off and can go in the washing machine.",
            "Pocket-sprung seat cushions keep their shape year after year.",
            "It arrives in two parts and assembles in about fifteen minutes.",
            "Solid beech legs lift it just enough to clean underneath.",
        ),
    ),
    CategorySpec(
        name="Armchairs",
        glyph="armchair",
        part="upholstery",
        brands=("Halvard Home", "Søren & Vik", "Atelier Noé", "Wrenfield", "Larkspur Living"),
        models=("Elsie", "Bram", "Otto", "Nell", "Ivo", "Mira", "Pia", "Loke", "Wren",
                "Ada", "Felix", "Greta", "Hugo", "Lumi", "Noor", "Saga"),
        colours=FURNITURE_COLOURS,
        styles=("modern", "scandinavian", "mid-century", "classic", "rustic"),
        types=(
            ProductType("Armchair", ("velvet", "linen", "leather", "bouclé", "fabric"),
                        (("W 78 x D 84 cm", ""), ("W 85 x D 90 cm", "")),
                        ("reading corner", "living room", "small flat"),
                        ("armchair", "accent seating"), (199.0, 999.0)),
            ProductType("Accent Chair", ("velvet", "bouclé", "linen"),
                        (("W 70 x D 76 cm", ""),),
                        ("small flat", "master bedroom", "living room"),
                        ("accent chair", "statement piece"), (149.0, 649.0)),
            ProductType("Wingback Chair", ("velvet", "wool", "leather"),
                        (("W 82 x D 88 cm", ""),),
                        ("reading corner", "living room"),
                        ("wingback", "fireside"), (299.0, 1199.0)),
            ProductType("Lounge Chair", ("rattan", "leather", "linen"),
                        (("W 74 x D 80 cm", ""), ("W 90 x D 95 cm", "")),
                        ("reading corner", "living room", "open-plan living"),
                        ("lounge chair", "relaxing"), (229.0, 1099.0)),
        ),
        openers=(
            "The {model} {noun_l} is a compact seat in {colour} {material} that fits where a sofa will not.",
            "{A_style} {noun_l} upholstered in {colour} {material}, with a gently sloped back.",
            "Curl up in the {model}: {a_colour} {material} {noun_l} with a generous, supportive seat.",
            "Finished in {colour} {material}, the {model} {noun_l} adds a soft, {style} accent to "
            "any corner.",
        ),
        details=(
            "High-resilience foam in the seat bounces back after every sit.",
            "The tapered legs screw on in seconds, no tools needed.",
            "A matching footstool is sold separately.",
            "The seat height of 44 cm makes it easy to get in and out of.",
        ),
    ),
    CategorySpec(
        name="Coffee Tables",
        glyph="coffee_table",
        part="top",
        brands=("Oakhaven", "Juniper Row", "Søren & Vik", "Wrenfield", "Fernhollow"),
        models=("Kiln", "Tarn", "Brook", "Cove", "Dune", "Ember", "Fjord", "Glen",
                "Holm", "Isle", "Knoll", "Ledge", "Mesa", "Ridge", "Skerry", "Vale"),
        colours=("natural", "black", "white", "brown", "grey"),
        styles=("modern", "scandinavian", "industrial", "minimalist", "mid-century", "rustic"),
        types=(
            ProductType("Coffee Table", ("oak", "walnut", "marble", "glass", "metal", "pine"),
                        (("110x60 cm", ""), ("120x65 cm", "")),
                        ("living room", "small flat", "open-plan living"),
                        ("coffee table", "living room"), (99.0, 899.0)),
            ProductType("Round Coffee Table", ("oak", "walnut", "marble", "rattan", "metal"),
                        (("Ø 80 cm", ""), ("Ø 90 cm", "")),
                        ("small flat", "living room"),
                        ("round", "coffee table"), (89.0, 749.0)),
            ProductType("Nesting Table Set", ("oak", "walnut", "metal", "glass"),
                        (("Set of 2, Ø 70 / Ø 50 cm", ""),),
                        ("small flat", "entertaining"),
                        ("nesting", "set of 2", "space saving"), (79.0, 599.0)),
        ),
        openers=(
            "The {model} {noun_l} pairs {a_style} outline with {a_colour} {material} finish.",
            "{A_style} {noun_l} in {colour} {material}, low enough to keep sightlines open.",
            "Built around {a_colour} {material} top, the {model} gives mugs, books and remotes a "
            "proper home.",
            "With its {colour} {material} surface, the {model} {noun_l} anchors a seating area "
            "without taking over.",
        ),
        details=(
            "A lower shelf keeps magazines and board games out of the way.",
            "Felt pads under the feet protect wooden floors.",
            "Rounded edges make it friendlier in homes with small children.",
            "It takes about ten minutes to put together.",
        ),
    ),
    CategorySpec(
        name="Dining Tables",
        glyph="dining_table",
        part="tabletop",
        brands=("Oakhaven", "Juniper Row", "Fernhollow", "Halvard Home", "Mossgrove"),
        models=("Harvest", "Long Acre", "Orchard", "Bramble", "Millbrook", "Supper", "Trestle",
                "Ashby", "Kitchener", "Nordlys", "Refectory", "Sundby", "Tavern", "Yardley"),
        colours=("natural", "black", "white", "brown", "honey"),
        styles=("scandinavian", "rustic", "industrial", "classic", "modern", "mid-century"),
        types=(
            ProductType("Dining Table", ("oak", "walnut", "pine", "marble"),
                        (("4-seat, 140x80 cm", "4-Seat"), ("6-seat, 180x90 cm", "6-Seat"),
                         ("8-seat, 220x100 cm", "8-Seat")),
                        ("family dinners", "entertaining", "open-plan living"),
                        ("dining table", "dining room"), (249.0, 2199.0)),
            ProductType("Round Dining Table", ("oak", "walnut", "marble", "glass"),
                        (("4-seat, Ø 110 cm", ""), ("6-seat, Ø 130 cm", "")),
                        ("small kitchen", "family dinners", "small flat"),
                        ("round", "dining table", "pedestal"), (279.0, 1699.0)),
            ProductType("Extending Dining Table", ("oak", "walnut", "pine", "glass"),
                        (("6–10 seats, 180–260x95 cm", ""),),
                        ("entertaining", "family dinners"),
                        ("extendable", "dining table", "seats 10"), (499.0, 2199.0)),
        ),
        openers=(
            "The {model} {noun_l} is built for long meals, with {a_colour} {material} top and sturdy legs.",
            "{A_style} {noun_l} in {colour} {material} that seats the whole family without feeling bulky.",
            "Gather round the {model}: {a_colour} {material} {noun_l} with room for serving dishes "
            "and elbows alike.",
            "In {colour} {material}, the {model} {noun_l} brings {a_style} feel to the kitchen or "
            "dining room.",
        ),
        details=(
            "Adjustable feet keep it level on uneven floors.",
            "The surface is sealed against water rings and red wine.",
            "Leg positions leave space for chairs at the corners.",
            "Two people can assemble it in around half an hour.",
        ),
    ),
    CategorySpec(
        name="Desks",
        glyph="desk",
        part="desktop",
        brands=("Oakhaven", "Kestrel Works", "Juniper Row", "Fernhollow", "Deskwright"),
        models=("Quill", "Ledger", "Atlas", "Bureau", "Drafter", "Folio", "Margin", "Nook",
                "Pilot", "Scribe", "Studio", "Vellum", "Workshop", "Index"),
        colours=("natural", "black", "white", "grey", "brown"),
        styles=("minimalist", "industrial", "scandinavian", "modern", "mid-century"),
        types=(
            ProductType("Desk", ("oak", "walnut", "pine", "metal", "bamboo"),
                        (("100x50 cm", ""), ("120x60 cm", ""), ("140x70 cm", "")),
                        ("home office", "small flat", "study", "kids' room"),
                        ("desk", "workspace"), (119.0, 899.0)),
            ProductType("Standing Desk", ("oak", "walnut", "bamboo", "metal"),
                        (("140x70 cm, height 65–130 cm", ""), ("160x80 cm, height 65–130 cm", "")),
                        ("home office", "long workdays"),
                        ("standing desk", "height adjustable", "ergonomic"), (329.0, 1099.0)),
            ProductType("Writing Desk", ("oak", "walnut", "pine", "glass"),
                        (("90x45 cm", ""),),
                        ("small flat", "study", "small bedroom"),
                        ("writing desk", "compact"), (119.0, 599.0)),
        ),
        openers=(
            "The {model} {noun_l} gives you a calm place to work, with {a_colour} {material} surface "
            "and a slim frame.",
            "{A_style} {noun_l} in {colour} {material}, sized for a laptop, a monitor and a cup of coffee.",
            "{A_colour} {material} top and tidy proportions make the {model} {noun_l} easy to fit "
            "into any room.",
            "Work, study or sketch at the {model}, {a_colour} {material} {noun_l} with {a_style} feel.",
        ),
        details=(
            "A hidden cable tray keeps chargers and leads off the floor.",
            "A shallow drawer holds notebooks, pens and the odd snack.",
            "The frame is rated for up to 80 kg.",
            "Pre-drilled holes make a monitor arm easy to mount.",
        ),
    ),
    CategorySpec(
        name="Office Chairs",
        glyph="office_chair",
        part="seat and backrest",
        brands=("Kestrel Works", "Deskwright", "Pacefield", "Halvard Home"),
        models=("Posture", "Axis", "Balance", "Contour", "Flex", "Glide", "Lumbar", "Pivot",
                "Recline", "Swivel", "Tilt", "Upright", "Vector", "Zephyr"),
        colours=("black", "grey", "charcoal", "navy", "white", "green", "blue"),
        styles=("modern", "minimalist", "industrial", "sporty", "classic"),
        types=(
            ProductType("Ergonomic Office Chair", ("mesh", "fabric"),
                        (("Standard, seat height 42–52 cm", ""), ("Tall, seat height 48–60 cm", "")),
                        ("home office", "long workdays", "gaming"),
                        ("ergonomic", "lumbar support", "adjustable"), (179.0, 899.0)),
            ProductType("Executive Chair", ("leather",),
                        (("Standard, seat height 45–55 cm", ""),),
                        ("home office", "long workdays"),
                        ("executive", "high back", "padded"), (249.0, 899.0)),
            ProductType("Task Chair", ("fabric", "mesh", "polyester"),
                        (("Compact, seat height 40–50 cm", ""), ("Standard, seat height 42–52 cm", "")),
                        ("study", "home office", "kids' room"),
                        ("task chair", "compact", "swivel"), (89.0, 349.0)),
        ),
        openers=(
            "The {model} {noun_l} supports you through the working day with {a_colour} {material} "
            "seat and back.",
            "{A_style} {noun_l} in {colour} {material} with adjustable height and a smooth tilt.",
            "Sit back in the {model}, {a_colour} {material} {noun_l} with a contoured backrest.",
            "Upholstered in {colour} {material}, the {model} keeps its shape and stays comfortable "
            "for hours.",
        ),
        details=(
            "Soft castors roll quietly on both carpet and hard floors.",
            "The armrests move up, down and sideways.",
            "Adjustable lumbar support follows the curve of your lower back.",
            "It is tested for users up to 120 kg.",
        ),
    ),
    CategorySpec(
        name="Beds",
        glyph="bed",
        part="frame",
        brands=("Halvard Home", "Mossgrove", "Oakhaven", "Larkspur Living", "Søren & Vik"),
        models=("Slumber", "Dusk", "Haven", "Lull", "Meadow", "Nightfall", "Pillowby", "Quiet",
                "Rest", "Stillwater", "Twilight", "Dreamwood", "Solace", "Nestle"),
        colours=FURNITURE_COLOURS,
        styles=("scandinavian", "modern", "classic", "minimalist", "rustic", "mid-century"),
        types=(
            ProductType("Bed Frame", ("oak", "walnut", "pine", "metal"),
                        (("Single, 90x200 cm", "Single"), ("Double, 140x200 cm", "Double"),
                         ("King, 160x200 cm", "King"), ("Super King, 180x200 cm", "Super King")),
                        ("master bedroom", "guest room", "small bedroom", "kids' room"),
                        ("bed frame", "bedroom"), (229.0, 1899.0)),
            ProductType("Upholstered Bed", ("velvet", "linen", "bouclé", "fabric"),
                        (("Double, 140x200 cm", "Double"), ("King, 160x200 cm", "King"),
                         ("Super King, 180x200 cm", "Super King")),
                        ("master bedroom", "guest room"),
                        ("upholstered", "headboard", "bedroom"), (399.0, 2399.0)),
            ProductType("Storage Bed", ("oak", "pine", "fabric"),
                        (("Double, 140x200 cm", "Double"), ("King, 160x200 cm", "King")),
                        ("small bedroom", "small flat"),
                        ("storage", "drawers", "space saving"), (449.0, 1899.0)),
        ),
        openers=(
            "The {model} {noun_l} sets a calm tone for the bedroom in {colour} {material}.",
            "{A_style} {noun_l} in {colour} {material}, with a low profile and a padded headboard.",
            "Sleep well on the {model}: a sturdy {noun_l} finished in {colour} {material}.",
            "Finished in {colour} {material}, the {model} {noun_l} is simple, solid and quiet.",
        ),
        details=(
            "Sprung wooden slats give the mattress good airflow.",
            "There is room underneath for storage boxes.",
            "Mattress and bedding are sold separately.",
            "A centre rail with extra legs stops any creaking.",
        ),
    ),
    CategorySpec(
        name="Bookcases",
        glyph="bookcase",
        part="shelves",
        brands=("Oakhaven", "Juniper Row", "Fernhollow", "Kestrel Works", "Wrenfield"),
        models=("Chapter", "Library", "Archive", "Stack", "Spine", "Tome", "Verse", "Anthology",
                "Catalogue", "Footnote", "Manuscript", "Paperback", "Shelfie", "Volume"),
        colours=("natural", "white", "black", "grey", "green", "brown"),
        styles=("scandinavian", "industrial", "minimalist", "classic", "rustic", "modern"),
        types=(
            ProductType("Bookcase", ("oak", "walnut", "pine", "metal"),
                        (("4 shelves, 60x150 cm", ""), ("5 shelves, 80x180 cm", ""),
                         ("6 shelves, 100x200 cm", "")),
                        ("home library", "living room", "home office"),
                        ("bookcase", "storage", "shelving"), (79.0, 799.0)),
            ProductType("Ladder Shelf", ("oak", "bamboo", "metal", "pine"),
                        (("5 tiers, 60x180 cm", ""),),
                        ("small flat", "living room"),
                        ("ladder shelf", "display"), (59.0, 299.0)),
            ProductType("Low Bookcase", ("oak", "walnut", "pine"),
                        (("2 shelves, 120x75 cm", ""), ("3 shelves, 80x110 cm", "")),
                        ("kids' room", "living room", "home office"),
                        ("low", "storage", "shelving"), (69.0, 549.0)),
        ),
        openers=(
            "The {model} {noun_l} gives books and keepsakes room to breathe in {colour} {material}.",
            "{A_style} {noun_l} in {colour} {material} with open shelves that keep everything in sight.",
            "Line up novels, records and plants on the {model}, {a_colour} {material} {noun_l}.",
            "In {colour} {material}, the {model} {noun_l} adds storage without making a room feel crowded.",
        ),
        details=(
            "Each shelf holds up to 25 kg.",
            "A wall bracket is included to keep it steady.",
            "The shelves can be moved in 3 cm steps.",
            "Back panels are open, so light passes through.",
        ),
    ),
    CategorySpec(
        name="Lamps",
        glyph="lamp",
        part="body",
        brands=("Café Lumo", "Glimmerwick", "Atelier Noé", "Søren & Vik", "Tallowlight"),
        models=("Lucent", "Beacon", "Candela", "Dusklight", "Ember", "Flicker", "Glow", "Halo",
                "Lantern", "Lumière", "Moonbeam", "Nova", "Orb", "Sunspot", "Twinkle", "Wick"),
        colours=("white", "black", "cream", "sage", "terracotta", "blue", "mustard", "pink"),
        styles=("modern", "mid-century", "scandinavian", "industrial", "minimalist", "classic"),
        types=(
            ProductType("Table Lamp", ("ceramic", "glass", "linen", "marble", "brass"),
                        (("Height 45 cm", ""), ("Height 55 cm", "")),
                        ("bedside", "living room", "reading"),
                        ("table lamp", "lighting", "e27"), (29.0, 189.0)),
            ProductType("Floor Lamp", ("metal", "brass", "rattan", "linen"),
                        (("Height 160 cm", ""), ("Height 175 cm", "")),
                        ("reading corner", "living room"),
                        ("floor lamp", "lighting"), (59.0, 299.0)),
            ProductType("Desk Lamp", ("metal", "aluminium", "brass"),
                        (("Height 38 cm, adjustable arm", ""),),
                        ("home office", "study", "reading"),
                        ("desk lamp", "task light", "led"), (24.0, 149.0)),
            ProductType("Pendant Lamp", ("rattan", "glass", "metal", "linen"),
                        (("Ø 40 cm, 1.5 m cord", ""), ("Ø 55 cm, 1.5 m cord", "")),
                        ("dining area", "living room"),
                        ("pendant", "ceiling light", "lighting"), (39.0, 259.0)),
        ),
        openers=(
            "The {model} {noun_l} casts a warm, even glow from {a_colour} {material} body with a "
            "slim profile.",
            "{A_style} {noun_l} in {colour} {material} that looks as good switched off as on.",
            "Soft light and {a_colour} {material} finish make the {model} {noun_l} an easy upgrade.",
            "In {colour} {material}, the {model} {noun_l} brings {a_style} touch to evening light.",
        ),
        details=(
            "It takes a standard E27 bulb, up to 40 W LED equivalent.",
            "An in-line dimmer lets you set the mood.",
            "The fabric cord is 1.8 m long.",
            "A warm-white LED bulb is included in the box.",
        ),
    ),
    CategorySpec(
        name="Rugs",
        glyph="rug",
        part="weave",
        brands=("Mossgrove", "Larkspur Living", "Loomfield", "Atelier Noé", "Tidewell"),
        models=("Kasbah", "Atlasmoor", "Berber", "Drift", "Heath", "Kilim", "Lattice", "Meadowsweet",
                "Pebble", "Saffron", "Tundra", "Weave", "Zigzag", "Oasis", "Prairie"),
        colours=("grey", "beige", "cream", "sage", "blue", "navy", "terracotta", "rust",
                 "mustard", "pink", "green", "charcoal"),
        styles=("modern", "rustic", "scandinavian", "classic", "minimalist", "mid-century"),
        types=(
            ProductType("Flatweave Rug", ("cotton", "wool", "jute"),
                        (("120x170 cm", ""), ("160x230 cm", ""), ("200x300 cm", "")),
                        ("living room", "dining area", "kids' room"),
                        ("flatweave", "rug", "reversible"), (49.0, 699.0)),
            ProductType("Shaggy Rug", ("polyester", "wool"),
                        (("120x170 cm", ""), ("160x230 cm", ""), ("200x300 cm", "")),
                        ("master bedroom", "living room"),
                        ("shaggy", "rug", "soft"), (69.0, 799.0)),
            ProductType("Hand-Tufted Rug", ("wool",),
                        (("160x230 cm", ""), ("200x300 cm", "")),
                        ("living room", "master bedroom"),
                        ("hand-tufted", "rug"), (249.0, 899.0)),
            ProductType("Runner Rug", ("cotton", "jute", "wool"),
                        (("80x250 cm", ""), ("70x300 cm", "")),
                        ("hallway",),
                        ("runner", "rug", "hallway"), (39.0, 249.0)),
            ProductType("Round Rug", ("wool", "jute", "cotton"),
                        (("Ø 150 cm", ""), ("Ø 200 cm", "")),
                        ("kids' room", "reading corner", "dining area"),
                        ("round", "rug"), (59.0, 449.0)),
        ),
        openers=(
            "The {model} {noun_l} adds warmth underfoot with {a_colour} {material} weave.",
            "{A_style} {noun_l} in {colour} {material} that softens hard floors and echoey rooms.",
            "Woven in {colour} {material}, the {model} pulls a room together without shouting.",
            "{A_colour} {material} {noun_l} with {a_style} pattern that hides everyday crumbs and "
            "paw prints.",
        ),
        details=(
            "Use a non-slip underlay on wooden or tiled floors.",
            "Spot clean with a damp cloth and mild soap.",
            "Expect some shedding in the first weeks; it settles quickly.",
            "It is OEKO-TEX certified and free from harmful dyes.",
        ),
    ),
    CategorySpec(
        name="Backpacks",
        glyph="backpack",
        part="shell",
        brands=("Ridgeback Outfitters", "Granite Fox", "Tidewell", "Northbeam", "Kestrel Works"),
        models=("Trailhead", "Summit", "Switchback", "Basecamp", "Cairn", "Scree", "Tarn",
                "Ridgeline", "Voyager", "Transit", "Metro", "Pathfinder", "Wayfarer", "Rambler"),
        colours=APPAREL_COLOURS,
        styles=("sporty", "minimalist", "modern", "rustic", "classic"),
        types=(
            ProductType("Hiking Backpack", ("nylon", "polyester"),
                        (("28 L", "28 L"), ("35 L", "35 L"), ("45 L", "45 L")),
                        ("hiking", "travel"),
                        ("hiking", "outdoor", "hip belt"), (59.0, 249.0)),
            ProductType("Commuter Backpack", ("nylon", "polyester", "canvas", "leather"),
                        (("18 L", "18 L"), ("22 L", "22 L")),
                        ("commuting", "cycling", "school"),
                        ("commuter", "laptop sleeve", "everyday"), (39.0, 219.0)),
            ProductType("Rolltop Backpack", ("canvas", "nylon"),
                        (("25 L", "25 L"), ("30 L", "30 L")),
                        ("cycling", "commuting", "travel"),
                        ("rolltop", "waterproof"), (49.0, 189.0)),
            ProductType("Daypack", ("nylon", "polyester", "canvas"),
                        (("15 L", "15 L"), ("20 L", "20 L")),
                        ("hiking", "school", "festivals"),
                        ("daypack", "lightweight"), (29.0, 119.0)),
        ),
        openers=(
            "The {model} {noun_l} carries the day's kit in {colour} {material}, with padded straps "
            "that spread the load.",
            "{A_style} {noun_l} in {colour} {material} with a roomy main compartment and quick-grab pockets.",
            "Pack it, zip it, go: the {model} is {a_colour} {material} {noun_l} that shrugs off bad weather.",
            "Made from {colour} {material}, the {model} {noun_l} keeps things organised without the bulk.",
        ),
        details=(
            "A padded sleeve fits most 15-inch laptops.",
            "The back panel is ventilated to reduce sweat on warm days.",
            "Reflective details help you stay visible after dark.",
            "Side pockets take a full-size water bottle.",
        ),
    ),
    CategorySpec(
        name="Jackets",
        glyph="jacket",
        part="outer fabric",
        brands=("Ridgeback Outfitters", "Granite Fox", "Tidewell", "Northbeam", "Mossgrove"),
        models=("Squall", "Drizzle", "Gale", "Headland", "Moorland", "Fellside", "Harbour",
                "Kittiwake", "Longshore", "Nimbus", "Puffin", "Stormway", "Tidal", "Windrush"),
        colours=APPAREL_COLOURS,
        styles=("sporty", "classic", "minimalist", "modern", "rustic"),
        types=(
            ProductType("Rain Jacket", ("nylon", "polyester"), CLOTHING_SIZES,
                        ("rainy days", "commuting", "hiking"),
                        ("waterproof", "hooded", "packable"), (59.0, 279.0)),
            ProductType("Puffer Jacket", ("nylon", "polyester"), CLOTHING_SIZES,
                        ("winter weekends", "commuting", "city walks"),
                        ("insulated", "warm", "winter"), (79.0, 349.0)),
            ProductType("Chore Jacket", ("cotton", "canvas"), CLOTHING_SIZES,
                        ("everyday wear", "city walks"),
                        ("workwear", "pockets"), (59.0, 169.0)),
            ProductType("Overcoat", ("wool",), CLOTHING_SIZES,
                        ("commuting", "winter weekends"),
                        ("tailored", "warm", "winter"), (149.0, 449.0)),
            ProductType("Biker Jacket", ("leather", "suede"), CLOTHING_SIZES,
                        ("city walks", "festivals"),
                        ("biker", "zip front"), (149.0, 449.0)),
            ProductType("Fleece Jacket", ("polyester",), CLOTHING_SIZES,
                        ("hiking", "everyday wear"),
                        ("fleece", "layering", "warm"), (39.0, 129.0)),
        ),
        openers=(
            "The {model} {noun_l} is cut from {colour} {material} with a relaxed, layer-friendly fit.",
            "{A_style} {noun_l} in {colour} {material} that keeps its shape wash after wash.",
            "Zip up the {model}: {a_colour} {material} {noun_l} with deep hand pockets and a clean finish.",
            "In {colour} {material}, the {model} {noun_l} works with jeans, chinos or hiking trousers alike.",
        ),
        details=(
            "The hood adjusts with a single toggle at the back.",
            "An inner pocket is sized for a phone and keys.",
            "It runs true to size; size up if you wear thick knits underneath.",
            "Machine washable at 30 °C.",
        ),
    ),
    CategorySpec(
        name="Sneakers",
        glyph="sneaker",
        part="upper",
        brands=("Pacefield", "Northbeam", "Granite Fox", "Strideline", "Tidewell"),
        models=("Sprint", "Stride", "Cadence", "Dash", "Fleetfoot", "Kick", "Lunge", "Pace",
                "Rebound", "Skip", "Tempo", "Velo", "Zoomer", "Courtside", "Hopscotch"),
        colours=("white", "black", "grey", "navy", "red", "green", "sand", "blue", "pink", "yellow"),
        styles=("sporty", "classic", "minimalist", "retro", "modern"),
        types=(
            ProductType("Running Sneakers", ("mesh", "knit"), FEET_SIZES,
                        ("running", "gym", "workouts"),
                        ("running", "cushioned", "breathable"), (69.0, 219.0)),
            ProductType("Court Sneakers", ("leather", "suede", "canvas"), FEET_SIZES,
                        ("everyday wear", "city walks"),
                        ("court", "low-top"), (59.0, 179.0)),
            ProductType("High-Top Sneakers", ("canvas", "leather", "suede"), FEET_SIZES,
                        ("everyday wear", "festivals"),
                        ("high-top", "lace-up"), (49.0, 169.0)),
            ProductType("Trail Sneakers", ("mesh", "nylon"), FEET_SIZES,
                        ("trail running", "hiking"),
                        ("trail", "grippy", "outdoor"), (79.0, 209.0)),
            ProductType("Slip-On Sneakers", ("canvas", "knit", "suede"), FEET_SIZES,
                        ("everyday wear", "travel"),
                        ("slip-on", "easy on"), (45.0, 119.0)),
        ),
        openers=(
            "The {model} {noun_l} pair {a_colour} {material} upper with a cushioned, flexible sole.",
            "{Style} {noun_l} in {colour} {material} that go with almost everything in the wardrobe.",
            "Step into the {model}: {colour} {material} {noun_l} with a grippy rubber outsole.",
            "With {a_colour} {material} upper, the {model} {noun_l} are light enough to wear all day.",
        ),
        details=(
            "The removable insole makes room for custom orthotics.",
            "They fit true to size with a roomy toe box.",
            "The outsole contains 30% recycled rubber.",
            "A padded heel collar prevents rubbing on long days.",
        ),
    ),
    CategorySpec(
        name="Headphones",
        glyph="headphones",
        part="housing",
        brands=("Soundkeel", "Quietfern", "Ondré Audio", "Northbeam", "Pacefield"),
        models=("Echo", "Aria", "Bassline", "Chord", "Decibel", "Fader", "Hush", "Lyric",
                "Octave", "Reverb", "Sonnet", "Timbre", "Treble", "Vinyl", "Waveform"),
        colours=("black", "white", "grey", "navy", "sand", "green", "pink", "silver"),
        styles=("modern", "minimalist", "sporty", "retro", "classic"),
        types=(
            ProductType("Wireless Over-Ear Headphones", ("aluminium", "plastic", "leather"),
                        (("Over-ear", ""),),
                        ("commuting", "travel", "home office"),
                        ("wireless", "bluetooth", "over-ear"), (59.0, 299.0)),
            ProductType("Noise-Cancelling Headphones", ("aluminium", "plastic", "leather"),
                        (("Over-ear", ""),),
                        ("commuting", "travel", "home office"),
                        ("noise cancelling", "anc", "wireless"), (129.0, 449.0)),
            ProductType("On-Ear Headphones", ("plastic", "metal", "leather"),
                        (("On-ear", ""),),
                        ("commuting", "everyday wear"),
                        ("on-ear", "foldable"), (29.0, 149.0)),
            ProductType("Wireless Earbuds", ("plastic", "aluminium"),
                        (("In-ear, S/M/L tips", ""),),
                        ("workouts", "running", "commuting"),
                        ("earbuds", "true wireless", "sweat resistant"), (25.0, 249.0)),
            ProductType("Studio Headphones", ("metal", "plastic", "leather"),
                        (("Over-ear, 3 m cable", ""),),
                        ("studio mixing", "gaming"),
                        ("studio", "wired", "monitoring"), (79.0, 349.0)),
        ),
        openers=(
            "The {model} {noun_l} deliver clear, balanced sound from {a_colour} {material} housing.",
            "{Style} {noun_l} in {colour} {material} with soft cushions you forget you are wearing.",
            "Press play on the {model}: {colour} {material} {noun_l} tuned for rich bass and crisp vocals.",
            "Finished in {colour} {material}, the {model} {noun_l} fold flat and slip into any bag.",
        ),
        details=(
            "Battery life is around 30 hours on a single charge.",
            "A ten-minute charge gives roughly three hours of playback.",
            "Multipoint pairing lets you switch between phone and laptop.",
            "Built-in microphones keep calls clear in noisy places.",
        ),
    ),
)

# Price multipliers for premium and budget materials.
MATERIAL_PRICE_FACTOR: dict[str, float] = {
    "aluminium": 1.15, "bamboo": 0.95, "bouclé": 1.1, "brass": 1.2, "canvas": 0.95,
    "leather": 1.3, "marble": 1.25, "pine": 0.8, "plastic": 0.8, "polyester": 0.9,
    "suede": 1.15, "velvet": 1.1, "walnut": 1.25, "wool": 1.15,
}

# Placeholder glyphs, drawn inside a 400x300 canvas. "FG" is replaced by the
# foreground colour; elements without a fill attribute inherit it.
GLYPHS: dict[str, str] = {
    "sofa": (
        '<rect x="100" y="100" width="200" height="65" rx="12"/>'
        '<rect x="80" y="135" width="38" height="70" rx="12"/>'
        '<rect x="282" y="135" width="38" height="70" rx="12"/>'
        '<rect x="116" y="160" width="168" height="40" rx="8" opacity=".8"/>'
        '<rect x="96" y="205" width="10" height="18"/><rect x="294" y="205" width="10" height="18"/>'
    ),
    "armchair": (
        '<rect x="145" y="85" width="110" height="85" rx="16"/>'
        '<rect x="125" y="140" width="32" height="68" rx="12"/>'
        '<rect x="243" y="140" width="32" height="68" rx="12"/>'
        '<rect x="155" y="165" width="90" height="38" rx="8" opacity=".8"/>'
        '<rect x="140" y="208" width="9" height="22"/><rect x="251" y="208" width="9" height="22"/>'
    ),
    "coffee_table": (
        '<rect x="90" y="140" width="220" height="18" rx="4"/>'
        '<rect x="105" y="158" width="11" height="58"/><rect x="284" y="158" width="11" height="58"/>'
        '<rect x="105" y="192" width="190" height="8" opacity=".7"/>'
    ),
    "dining_table": (
        '<rect x="80" y="110" width="240" height="16" rx="3"/>'
        '<rect x="96" y="126" width="12" height="104"/><rect x="292" y="126" width="12" height="104"/>'
        '<rect x="150" y="126" width="100" height="10" opacity=".7"/>'
    ),
    "desk": (
        '<rect x="80" y="115" width="240" height="14" rx="3"/>'
        '<rect x="90" y="129" width="12" height="100"/>'
        '<rect x="220" y="129" width="90" height="60" opacity=".8"/>'
        '<rect x="250" y="155" width="30" height="6" fill="#fff" opacity=".7"/>'
        '<rect x="298" y="189" width="12" height="40"/>'
        '<rect x="140" y="70" width="70" height="42" rx="3" opacity=".6"/>'
    ),
    "office_chair": (
        '<rect x="160" y="65" width="80" height="85" rx="16"/>'
        '<rect x="145" y="152" width="110" height="22" rx="8"/>'
        '<rect x="195" y="174" width="10" height="36"/>'
        '<rect x="140" y="210" width="120" height="8" rx="4"/>'
        '<circle cx="146" cy="226" r="7"/><circle cx="200" cy="226" r="7"/><circle cx="254" cy="226" r="7"/>'
    ),
    "bed": (
        '<rect x="80" y="95" width="18" height="125" rx="4"/>'
        '<rect x="98" y="150" width="222" height="35" rx="6" opacity=".75"/>'
        '<rect x="106" y="132" width="55" height="20" rx="9" opacity=".6"/>'
        '<rect x="98" y="185" width="232" height="15"/>'
        '<rect x="318" y="140" width="12" height="80" rx="3"/>'
    ),
    "bookcase": (
        '<rect x="130" y="60" width="140" height="180" fill="none" stroke="FG" stroke-width="8"/>'
        '<path d="M130 105h140M130 150h140M130 195h140" stroke="FG" stroke-width="6"/>'
        '<rect x="145" y="75" width="12" height="28"/><rect x="160" y="80" width="10" height="23"/>'
        '<rect x="200" y="120" width="14" height="28"/><rect x="217" y="124" width="10" height="24"/>'
        '<rect x="150" y="165" width="40" height="28" opacity=".6"/>'
    ),
    "lamp": (
        '<polygon points="160,70 240,70 268,135 132,135"/>'
        '<rect x="196" y="135" width="8" height="88"/>'
        '<ellipse cx="200" cy="226" rx="46" ry="10"/>'
    ),
    "rug": (
        '<rect x="95" y="85" width="210" height="140" rx="4"/>'
        '<rect x="115" y="103" width="170" height="104" fill="none" stroke="#fff" stroke-width="4" '
        'opacity=".6"/>'
        '<path d="M83 95h12M83 115h12M83 135h12M83 155h12M83 175h12M83 195h12M83 215h12'
        'M305 95h12M305 115h12M305 135h12M305 155h12M305 175h12M305 195h12M305 215h12"'
        ' stroke="FG" stroke-width="3"/>'
    ),
    "backpack": (
        '<path d="M180 88a20 20 0 0 1 40 0" fill="none" stroke="FG" stroke-width="8"/>'
        '<rect x="145" y="85" width="110" height="150" rx="30"/>'
        '<rect x="165" y="165" width="70" height="50" rx="10" opacity=".7"/>'
        '<rect x="160" y="120" width="80" height="6" rx="3" fill="#fff" opacity=".5"/>'
    ),
    "jacket": (
        '<polygon points="170,70 230,70 270,95 270,230 130,230 130,95"/>'
        '<polygon points="130,95 95,205 115,212 145,135"/>'
        '<polygon points="270,95 305,205 285,212 255,135"/>'
        '<path d="M200 78V230" stroke="#fff" stroke-width="3" opacity=".6"/>'
    ),
    "sneaker": (
        '<path d="M90 200V150q5-20 40-15l45 5q25-20 55 10l70 25q20 10 15 25z"/>'
        '<rect x="85" y="198" width="235" height="16" rx="8" opacity=".7"/>'
        '<path d="M180 150l12 12M195 145l12 12M210 148l12 12" stroke="#fff" stroke-width="3" opacity=".7"/>'
    ),
    "headphones": (
        '<path d="M130 175V150a70 70 0 0 1 140 0V175" fill="none" stroke="FG" stroke-width="12"/>'
        '<rect x="112" y="160" width="40" height="65" rx="14"/>'
        '<rect x="248" y="160" width="40" height="65" rx="14"/>'
    ),
}

SCHEMA: tuple[tuple[str, str, str], ...] = (
    ("id", "string", 'Stable product id, "SKU-0001" … in catalog order.'),
    ("title", "string", "Unique shop title: line name, size, product noun, colour and material."),
    ("description", "string", "Two or three sentences about look, material, colour and intended use."),
    ("price", "number", "Price in USD (realistic per category; ends in .00, .50, .95 or .99)."),
    ("currency", "string", 'Always "USD".'),
    ("category", "string", 'Title-case plural category, e.g. "Sofas", "Office Chairs".'),
    ("brand", "string", "Fictional brand name (some brands span several categories)."),
    ("colour", "string", 'Lowercase main colour, e.g. "grey", "navy", "natural".'),
    ("material", "string", 'Lowercase main material, e.g. "linen", "oak", "nylon".'),
    ("size", "string", 'Human-readable size, e.g. "3-seater, 210 cm", "M", "EU 42", "25 L".'),
    ("style", "string", 'Lowercase style keyword, e.g. "scandinavian", "industrial", "sporty".'),
    ("use", "string", 'Short intended-use phrase, e.g. "small flat", "home office", "hiking".'),
    ("rating", "number", "Average customer rating, one decimal, 2.8–5.0."),
    ("rating_count", "integer", "Number of ratings behind `rating`."),
    ("stock", "integer", "Units in stock; 0 means out of stock (about 8% of products)."),
    ("image_url", "string", 'Site path of the placeholder image, "/catalog/images/SKU-0001.svg".'),
    ("url", "string", 'Site path of the product page, "/shop/products/SKU-0001".'),
    ("tags", "array of string", "Two to five short lowercase tags."),
)


def article(word: str) -> str:
    """Return the indefinite article that fits before ``word``.

    Args:
        word: The word that follows the article.

    Returns:
        "an" for words starting with a vowel sound, otherwise "a".
    """
    return "an" if word[:1].lower() in "aeiou" else "a"


def sku(index: int) -> str:
    """Format a 1-based product number as a SKU id.

    Args:
        index: 1-based product number.

    Returns:
        The id, e.g. "SKU-0001".
    """
    return f"SKU-{index:04d}"


def allocate(count: int, n_categories: int) -> list[int]:
    """Split ``count`` products as evenly as possible across categories.

    Args:
        count: Total number of products.
        n_categories: Number of categories.

    Returns:
        How many products each category gets, in category order.
    """
    base, extra = divmod(count, n_categories)
    return [base + (1 if i < extra else 0) for i in range(n_categories)]


def make_price(rng: random.Random, ptype: ProductType, size_index: int, material: str) -> float:
    """Pick a realistic shop price for one product.

    Larger sizes and premium materials cost more; the result always stays
    inside the product type's price band and ends in a typical shop ending.

    Args:
        rng: The generator's random source.
        ptype: The product type, which gives the price band.
        size_index: Position of the chosen size in ``ptype.sizes``.
        material: The chosen material.

    Returns:
        The price in USD, rounded to cents.
    """
    low, high = ptype.price
    size_frac = size_index / (len(ptype.sizes) - 1) if len(ptype.sizes) > 1 else 0.5
    position = 0.45 * size_frac + 0.55 * rng.random()
    raw = (low + (high - low) * position) * MATERIAL_PRICE_FACTOR.get(material, 1.0)
    raw = min(max(raw, low), high)
    whole = int(raw)
    if whole >= 100:
        whole = whole - whole % 10 + rng.choice((9, 9, 5, 0))
    elif whole >= 20:
        whole = whole - whole % 5 + rng.choice((4, 4, 0))
    cents = rng.choice((0.99, 0.99, 0.0, 0.5, 0.95))
    price = whole + cents
    if price > high:
        price = high
    if price < low:
        price = low
    return round(price, 2)


def make_rating(rng: random.Random) -> float:
    """Draw a customer rating skewed towards the top of 2.8–5.0.

    Args:
        rng: The generator's random source.

    Returns:
        The rating rounded to one decimal.
    """
    value = 5.0 - 2.2 * rng.betavariate(1.4, 4.5)
    return round(min(max(value, 2.8), 5.0), 1)


def make_tags(
    rng: random.Random, ptype: ProductType, material: str, colour: str, style: str, use: str
) -> list[str]:
    """Pick two to five short lowercase tags without duplicates.

    Args:
        rng: The generator's random source.
        ptype: The product type, which contributes its own tags.
        material: The product's material.
        colour: The product's colour.
        style: The product's style.
        use: The product's intended use.

    Returns:
        The tags in a stable order.
    """
    pool = [ptype.tags[0], material, style, *ptype.tags[1:], colour, use]
    wanted = rng.randint(2, 5)
    tags: list[str] = []
    for tag in pool:
        if tag not in tags:
            tags.append(tag)
        if len(tags) == wanted:
            break
    return tags


def make_description(
    rng: random.Random,
    spec: CategorySpec,
    ptype: ProductType,
    model: str,
    colour: str,
    material: str,
    style: str,
    use: str,
) -> str:
    """Write a two- or three-sentence product description.

    The opener names colour and material, an optional middle sentence covers
    the material or a practical detail, and the closer names the use.

    Args:
        rng: The generator's random source.
        spec: The product's category.
        ptype: The product type.
        model: The product-line name.
        colour: The colour.
        material: The material.
        style: The style keyword.
        use: The intended use (a key of ``USE_PROSE``).

    Returns:
        The description text.
    """
    a_style = f"{article(style)} {style}"
    a_colour = f"{article(colour)} {colour}"
    fields = {
        "model": model,
        "noun_l": ptype.noun.lower(),
        "colour": colour,
        "a_colour": a_colour,
        "A_colour": a_colour.capitalize(),
        "material": material,
        "style": style,
        "Style": style.capitalize(),
        "a_style": a_style,
        "A_style": a_style[0].upper() + a_style[1:],
        "part": spec.part,
        "mphrase": rng.choice(MATERIAL_PHRASES[material]),
        "use_p": USE_PROSE[use],
    }
    sentences = [rng.choice(spec.openers).format(**fields)]
    middle = rng.random()
    if middle < 0.35:
        sentences.append(rng.choice(MATERIAL_SENTENCES).format(**fields))
    elif middle < 0.7:
        sentences.append(rng.choice(spec.details))
    sentences.append(rng.choice(CLOSERS).format(**fields))
    return " ".join(sentences)


def make_title(model: str, fragment: str, noun: str, colour: str, material: str, comma: bool) -> str:
    """Compose a shop title such as "Halden 3-Seater Sofa in Grey Linen".

    Args:
        model: Product-line name.
        fragment: Size fragment placed before the noun; may be empty.
        noun: Title-case product noun.
        colour: Lowercase colour.
        material: Lowercase material.
        comma: Use "Noun, Colour Material" instead of "Noun in Colour Material".

    Returns:
        The title.
    """
    head = " ".join(part for part in (model, fragment, noun) if part)
    finish = f"{colour.title()} {material.title()}"
    return f"{head}, {finish}" if comma else f"{head} in {finish}"


def check_tables() -> None:
    """Check that the lookup tables cover every value the categories use.

    Raises:
        ValueError: If a material, colour, use or glyph has no table entry.
    """
    problems: list[str] = []
    for spec in CATEGORIES:
        if spec.glyph not in GLYPHS:
            problems.append(f"{spec.name}: no glyph {spec.glyph!r}")
        problems.extend(f"{spec.name}: no hex for colour {c!r}" for c in spec.colours if c not in COLOUR_HEX)
        for ptype in spec.types:
            for material in ptype.materials:
                if material not in MATERIAL_PHRASES:
                    problems.append(f"{ptype.noun}: no phrases for material {material!r}")
                for colour in MATERIAL_COLOURS.get(material, ()):
                    if colour not in COLOUR_HEX:
                        problems.append(f"{material}: no hex for colour {colour!r}")
            problems.extend(f"{ptype.noun}: no prose for use {u!r}" for u in ptype.uses if u not in USE_PROSE)
    if problems:
        raise ValueError("; ".join(problems))


def build_products(seed: int, count: int) -> list[dict[str, object]]:
    """Invent the whole catalog.

    Args:
        seed: Random seed; the same seed always yields the same catalog.
        count: Number of products to create.

    Returns:
        Product records sorted by id, with keys in schema order.

    Raises:
        ValueError: If ``count`` is not positive, a lookup table is
            incomplete, or unique titles run out.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    check_tables()
    rng = random.Random(seed)
    slots: list[int] = []
    for cat_index, n in enumerate(allocate(count, len(CATEGORIES))):
        slots.extend([cat_index] * n)
    rng.shuffle(slots)
    out_of_stock = set(rng.sample(range(count), round(count * OUT_OF_STOCK_SHARE)))

    titles: set[str] = set()
    products: list[dict[str, object]] = []
    for position, cat_index in enumerate(slots):
        spec = CATEGORIES[cat_index]
        design = pick_design(rng, spec, titles)
        titles.add(design.title)
        products.append(make_product(rng, spec, design, position, in_stock=position not in out_of_stock))
    return products


@dataclass(frozen=True)
class Design:
    """The choices that make a product's title: its type, material, colour, size and product line."""

    ptype: ProductType
    material: str
    colour: str
    size_index: int
    size: str
    model: str
    title: str


def pick_design(rng: random.Random, spec: CategorySpec, titles: set[str]) -> Design:
    """Draw a product design in a category whose title is not taken yet.

    Args:
        rng: The catalog's random generator (drawn from in a fixed order).
        spec: The category.
        titles: Titles already used.

    Returns:
        The design.

    Raises:
        ValueError: If 200 draws all gave a title already used.
    """
    for _attempt in range(200):
        ptype = rng.choice(spec.types)
        material = rng.choice(ptype.materials)
        colour = rng.choice(MATERIAL_COLOURS.get(material, spec.colours))
        size_index = rng.randrange(len(ptype.sizes))
        size, fragment = ptype.sizes[size_index]
        model = rng.choice(spec.models)
        title = make_title(model, fragment, ptype.noun, colour, material, rng.random() < 0.35)
        if title not in titles:
            return Design(ptype, material, colour, size_index, size, model, title)
    raise ValueError(f"ran out of unique titles for {spec.name}; lower --count")


def make_product(rng: random.Random, spec: CategorySpec, design: Design, position: int,
                 *, in_stock: bool) -> dict[str, object]:
    """Fill in one product record around its design.

    Args:
        rng: The catalog's random generator (drawn from in the record's key order).
        spec: The category.
        design: The title's choices (:func:`pick_design`).
        position: The product's place in the catalog (0-based); its id is ``sku(position + 1)``.
        in_stock: Whether the product gets a stock count (else 0).

    Returns:
        The record, with keys in schema order.
    """
    ptype, colour, material = design.ptype, design.colour, design.material
    style = rng.choice(spec.styles)
    use = rng.choice(ptype.uses)
    product_id = sku(position + 1)
    return {
        "id": product_id,
        "title": design.title,
        "description": make_description(rng, spec, ptype, design.model, colour, material, style, use),
        "price": make_price(rng, ptype, design.size_index, material),
        "currency": "USD",
        "category": spec.name,
        "brand": rng.choice(spec.brands),
        "colour": colour,
        "material": material,
        "size": design.size,
        "style": style,
        "use": use,
        "rating": make_rating(rng),
        "rating_count": min(int(rng.lognormvariate(3.6, 1.1)) + 3, 4800),
        "stock": rng.randint(1, 140) if in_stock else 0,
        "image_url": f"/catalog/{IMAGE_DIR_NAME}/{product_id}.svg",
        "url": f"/shop/products/{product_id}",
        "tags": make_tags(rng, ptype, material, colour, style, use),
    }


def _mix(hex_colour: str, other: tuple[int, int, int], amount: float) -> str:
    """Blend a hex colour towards another RGB colour.

    Args:
        hex_colour: Colour as "#rrggbb".
        other: The RGB colour to blend towards.
        amount: 0 keeps ``hex_colour``, 1 gives ``other``.

    Returns:
        The blended colour as "#rrggbb".
    """
    rgb = [int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]
    mixed = [round(c + (o - c) * amount) for c, o in zip(rgb, other, strict=True)]
    return "#" + "".join(f"{c:02x}" for c in mixed)


def _luminance(hex_colour: str) -> float:
    """Approximate perceived brightness of a colour.

    Args:
        hex_colour: Colour as "#rrggbb".

    Returns:
        Brightness between 0 (black) and 1 (white).
    """
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 0.299 * r + 0.587 * g + 0.114 * b


def render_svg(product: dict[str, object]) -> str:
    """Draw the placeholder SVG for one product.

    Args:
        product: A product record from ``build_products``.

    Returns:
        The SVG document text.
    """
    base = COLOUR_HEX[str(product["colour"])]
    background = _mix(base, (255, 255, 255), 0.65)
    foreground = base if _luminance(base) < 0.75 else _mix(base, (0, 0, 0), 0.45)
    category = str(product["category"])
    glyph_key = next(spec.glyph for spec in CATEGORIES if spec.name == category)
    glyph = GLYPHS[glyph_key].replace("FG", foreground)
    title = str(product["title"])
    short = title if len(title) <= SVG_TITLE_MAX_CHARS else title[:SVG_TITLE_MAX_CHARS - 1].rstrip(" ,") + "…"
    text = 'text-anchor="middle" font-family="sans-serif" fill="#222"'
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300" viewBox="0 0 400 300">\n'
        f"<title>{escape(title)}</title>\n"
        f'<rect width="400" height="300" fill="{background}"/>\n'
        f'<g fill="{foreground}">{glyph}</g>\n'
        f'<text x="200" y="40" {text} font-size="20" font-weight="bold">{escape(category)}</text>\n'
        f'<text x="200" y="274" {text} font-size="15">{escape(short)}</text>\n'
        "</svg>\n"
    )


def render_readme(products: Sequence[dict[str, object]], seed: int) -> str:
    """Write the catalog README.

    Args:
        products: The generated products.
        seed: The seed they were generated with.

    Returns:
        The README text in Markdown.
    """
    counts = {spec.name: 0 for spec in CATEGORIES}
    for product in products:
        counts[str(product["category"])] += 1
    lines = [
        "# Demo catalog",
        "",
        "A fictional home-and-lifestyle shop catalog for developing and demoing Shopkeeper",
        "without a real product feed. All brands and product lines are invented. Every",
        "product has a small placeholder SVG in `images/`.",
        "",
        "The files are generated: do not edit them by hand. Regenerate them (byte-identical",
        "for the same seed and count) with:",
        "",
        "```sh",
        "python3 data/catalog/generate.py            # defaults: --seed 7 --count 600",
        "python3 data/catalog/generate.py --help     # options: --seed, --count, --out",
        "```",
        "",
        "Regenerating removes SVGs in `images/` that no longer belong to a product.",
        "",
        "## Contents",
        "",
        f"`products.jsonl` holds {len(products)} products (seed {seed}), one JSON object per line,",
        "sorted by `id`, UTF-8. Products per category:",
        "",
        "| category | products |",
        "| --- | ---: |",
        *(f"| {name} | {n} |" for name, n in counts.items() if n),
        "",
        "## Schema",
        "",
        "| field | type | meaning |",
        "| --- | --- | --- |",
        *(f"| `{field}` | {kind} | {meaning} |" for field, kind, meaning in SCHEMA),
        "",
    ]
    return "\n".join(lines)


def _write_if_changed(path: Path, text: str) -> bool:
    """Write UTF-8 text with LF line endings unless the file already matches.

    Args:
        path: Destination file.
        text: Full file content.

    Returns:
        True if the file was written.
    """
    data = text.encode("utf-8")
    if path.is_file() and path.read_bytes() == data:
        return False
    path.write_bytes(data)
    return True


def write_catalog(out_dir: Path, seed: int, count: int) -> dict[str, int]:
    """Generate the catalog and write all files into ``out_dir``.

    Args:
        out_dir: Folder that receives products.jsonl, README.md and images/.
        seed: Random seed.
        count: Number of products.

    Returns:
        Counters: "products", "written" (files changed), "removed" (stale SVGs).
    """
    products = build_products(seed, count)
    image_dir = out_dir / IMAGE_DIR_NAME
    image_dir.mkdir(parents=True, exist_ok=True)

    written = 0
    jsonl = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in products)
    written += _write_if_changed(out_dir / PRODUCTS_FILE_NAME, jsonl)
    written += _write_if_changed(out_dir / README_FILE_NAME, render_readme(products, seed))

    expected: set[str] = set()
    for product in products:
        name = f"{product['id']}.svg"
        expected.add(name)
        written += _write_if_changed(image_dir / name, render_svg(product))

    removed = 0
    for stale in sorted(image_dir.glob("*.svg")):
        if stale.name not in expected:
            stale.unlink()
            removed += 1
    return {"products": len(products), "written": written, "removed": removed}


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point.

    Args:
        argv: Arguments without the program name; defaults to ``sys.argv[1:]``.

    Returns:
        Process exit status.
    """
    parser = argparse.ArgumentParser(
        description="Generate the deterministic Shopkeeper demo catalog "
        "(products.jsonl, images/*.svg, README.md).",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED,
                        help=f"random seed (default: {DEFAULT_SEED})")
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT,
                        help=f"number of products (default: {DEFAULT_COUNT})")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent,
                        help="output folder (default: the folder this script is in)")
    args = parser.parse_args(argv)
    if args.count < 1:
        parser.error("--count must be at least 1")
    try:
        result = write_catalog(args.out, args.seed, args.count)
    except ValueError as exc:
        parser.error(str(exc))
    print(
        f"{result['products']} products in {args.out}: "
        f"{result['written']} files written, {result['removed']} stale images removed"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

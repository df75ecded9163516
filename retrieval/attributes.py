"""Colours and materials read from a product's title and description.

Many real catalogs have no column for colour or material and say them only in
words: "Melissa & Doug Wooden Train Set", "Black Leather Wallet", "Stainless
steel water bottle, navy blue". The loaders call :func:`infer_attributes` at
import time for the rows that have no value of their own (the ``infer`` key of
a mapping, :mod:`retrieval.mapping`), so that such a catalog can be asked about
colours and filtered by them.

>>> infer_attributes("Stainless steel water bottle, navy blue")
{'colour': 'navy', 'material': 'stainless steel'}
>>> infer_attributes("Melissa & Doug Wooden Train Set")
{'material': 'wood'}
>>> infer_colour("Marvel Black Panther Action Figure") is None
True

Precision comes before recall: a wrong colour hides the right product behind a
filter, a missing one only leaves a question unasked. Hence:

* a curated lexicon matched on whole words ("redwood", "Bluetooth" and
  "goldfish" hold no colour) with normalised values ("gray" → "grey",
  "navy blue" → "navy", "wooden" → "wood", "multi-color" → "multicolour");
* names are not colours: franchises, brands, teams and places ("Black
  Panther", "Green Toys", "Snow White", "Orange County"), the row's own brand,
  and quoted titles of artworks ("The Hatter's Mad");
* words with another everyday meaning ("cream", "clear", "natural", "rose",
  "crimson") count only when a part of the title says nothing but the colour
  (", Natural"); likewise "hardwood", "pine" and "mesh" count only where the
  description says what the item is made of;
* the colour of a part or of a picture is not the item's: "blue eyes",
  "black dial", "…with white bands", "…for black boards"; a material that is
  only a look or is negated is not the item's: "wood-look", "leather-free",
  "faux wood", "not made of rubber";
* "colours may vary" means no colour;
* the title first: its colour-only parts (", Red", "(Pink/White)",
  "Color: Rainbow"), then its words in order; the description only when the
  title says nothing, and only where it says so outright ("Color: Silver",
  "made of pewter", "100% polyester", "a vibrant blue color"). Several colours
  in one place give the first ("Black and Red" → "black"); three listed apart
  are a mix (", Blue, Orange, Pink" → "multicolour").

No maintained library fits: colour-name lists such as webcolors' CSS names
carry "chocolate", "tomato" and "peru" but no materials, no shades to fold and
nothing to tell "Black Panther" from "black panther plush"; a general
named-entity model would need weights downloaded at run time and has no colour
or material entity. A lexicon of a few hundred words, tested on the foreign
catalogs, does better here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

__all__ = ["INFERABLE_ATTRIBUTES", "infer_attributes", "infer_colour", "infer_material"]

#: The attributes this module can read from text.
INFERABLE_ATTRIBUTES: tuple[str, ...] = ("colour", "material")

# --- the lexicon ------------------------------------------------------------------------------------------------
# Each entry: normalised value → surface forms, regular expressions in which a space stands for spaces or a
# hyphen (" ?" for an optional one), matched case-insensitively on whole words.

_MULTICOLOUR = "multicolour"

#: Colours that mean a colour wherever they stand.
_COLOURS: dict[str, tuple[str, ...]] = {
    _MULTICOLOUR: (
        r"multi ?colou?r(?:ed|s)?", r"multi/colou?r(?:ed)?", r"tri ?colou?r(?:ed)?", r"rainbow",
        r"(?:assorted|multiple|various|mixed|many) colou?rs", r"colou?r mix",
    ),
    "black": (r"black",),
    "white": (r"off ?white", r"white"),
    "grey": (r"gr[ae]y",),
    "silver": (r"silver",),
    "rose gold": (r"rose gold",),
    "gold": (r"gold(?:en)?",),
    "red": (r"red",),
    "burgundy": (r"burgundy",),
    "maroon": (r"maroon",),
    "navy": (r"navy blue", r"navy"),
    "blue": (r"blue",),
    "teal": (r"teal",),
    "turquoise": (r"turquoise", r"cyan"),
    "green": (r"green",),
    "khaki": (r"khaki",),
    "yellow": (r"yellow",),
    "orange": (r"orange",),
    "purple": (r"purple", r"violet", r"lilac"),
    "pink": (r"pink", r"fuchsia", r"fuschia", r"magenta"),
    "brown": (r"brown",),
    "beige": (r"beige",),
    "taupe": (r"taupe",),
    "ivory": (r"ivory",),
    "clear": (r"transparent",),
}

#: Colours whose words mostly mean something else ("ice cream", "clear instructions",
#: "natural ingredients", "Crimson Invasion"): only in a colour-only part of a title
#: or after "Color:".
_WEAK_COLOURS: dict[str, tuple[str, ...]] = {
    _MULTICOLOUR: (r"multi", r"mixed"),
    "cream": (r"cream",),
    "clear": (r"clear",),
    "natural": (r"natural",),
    "charcoal": (r"charcoal",),
    "olive": (r"olive",),
    "mint": (r"mint",),
    "sage": (r"sage",),
    "green": (r"lime",),
    "tan": (r"tan",),
    "coral": (r"coral",),
    "peach": (r"peach",),
    "mustard": (r"mustard",),
    "bronze": (r"bronze",),
    "copper": (r"copper",),
    "pink": (r"rose", r"blush"),
    "purple": (r"lavender", r"plum"),
    "red": (r"crimson", r"scarlet"),
    "blue": (r"cobalt", r"indigo"),
    "turquoise": (r"aqua",),
    "brown": (r"chocolate", r"coffee", r"cognac"),
    "burgundy": (r"wine",),
}

#: Words that shade a colour without changing its value ("light blue" → "blue", "space grey" → "grey").
_SHADES = (
    "light", "dark", "pale", "bright", "deep", "hot", "neon", "matte", "matt", "pastel", "royal", "sky", "baby",
    "dusty", "soft", "jet", "cherry", "forest", "sea", "ocean", "midnight", "powder", "metallic", "antique",
    "electric", "cosmic", "space", "candy", "slate", "brick", "burnt", "hunter", "kelly", "army", "lemon", "ice",
    "glossy", "gloss", "shiny", "vivid", "classic",
)

#: After a colour, a word that makes it the colour of a part or a figure of speech:
#: "blue eyes", "red-nosed", "black dial", "Black Friday", "red wine glasses".
_COLOUR_NOT_BEFORE = (
    "eyes?", "eyed", "hair", "haired", "skin", "skinned", "skin tone", "nose", "nosed", "beard", "bearded",
    "tail", "tailed", "belly", "bellied", "breasted", "winged", "throated", "footed", "faced", "dial", "trim",
    "stitching", "laces", "lenses", "label", "friday", "market", "list", "mail", "hole", "tea", "wine", "noise",
    "pages", "level", "sheep", "mailer", "border", "accents?", "lettering", "print", "letters",
)

#: Names that hold a colour word but say nothing of the item's colour.
_COLOUR_NAMES = (
    r"black ?(?:&|and|\+) ?decker", r"black (?:panther|widow|canary|lightning|adam|manta|bolt|cat|series|ops)",
    r"black (?:sabbath|clover|butler|mirror|pearl|hawk|heart|knight|diamond|jack|eyed peas|belt)",
    r"goku black", r"jack black", r"orange county", r"orange is the new black", r"clockwork orange",
    r"red hot chili(?: peppers)?", r"red (?:bull|sox|wings|skull|hood|dead|cross|lobster|robin|velvet|ryder|dwarf)",
    r"(?:little )?red riding hood", r"white (?:castle|claw|house|walkers?|mountain|sox|stripes|christmas|fang)",
    r"snow white", r"great white", r"betty white", r"barry white", r"walter white",
    r"blue orange", r"blue'?s clues", r"blue (?:jays|jackets|apron|buffalo|diamond|moon|beetle|exorcist|angels)",
    r"blue (?:bloods|ivy|man group|bell|lock)", r"green (?:toys|lantern|arrow|goblin|bay|day|giant|mountain)",
    r"green (?:card|beret|mile|hornet|eggs)", r"golden (?:state|books?|girls|gate|globes?|knights|corral)",
    r"little golden", r"gold (?:toe|coast|rush|medal|standard|edition|award|bond)", r"pot o'? gold",
    r"pot of gold", r"silver (?:surfer|cross|screen|sable|linings|edition)", r"pink (?:floyd|panther|lady)",
    r"pinkie pie", r"rainbow (?:dash|six|brite|loom|high)", r"deep purple", r"purple (?:rain|heart)",
    r"yellow tail", r"gr[ae]y'?s anatomy", r"shades of gr[ae]y", r"earl gr[ae]y", r"grey goose",
    r"(?:charlie|james|chris|bobby|encyclopedia|father|dan) brown", r"brown university",
    r"navy seals?", r"u\.? ?s\.? navy", r"royal navy", r"navy pier", r"old navy", r"ivory coast",
    r"blue ribbon",
)

#: Materials (a space stands for spaces or a hyphen).
_MATERIALS: dict[str, tuple[str, ...]] = {
    "faux leather": (
        r"(?:faux|vegan|synthetic|artificial|imitation|pu|eco|man made|bonded) leather", r"leatherette", r"pleather",
    ),
    "faux fur": (r"faux fur",),
    "leather": (r"leather",),
    "suede": (r"suede",),
    "stainless steel": (r"stainless steel", r"stainless"),
    "carbon steel": (r"carbon steel",),
    "cast iron": (r"cast iron", r"wrought iron"),
    "steel": (r"steel",),
    "aluminium": (r"alumin(?:i)?um",),
    "sterling silver": (r"sterling silver",),
    "brass": (r"brass",),
    "pewter": (r"pewter",),
    "titanium": (r"titanium",),
    "metal": (r"metal", r"die ?cast"),
    "wood": (r"wood(?:en)?", r"solid wood", r"basswood", r"balsa(?: wood)?", r"plywood"),
    "bamboo": (r"bamboo",),
    "oak": (r"oak",),
    "walnut": (r"walnut",),
    "mahogany": (r"mahogany",),
    "teak": (r"teak",),
    "beech": (r"beech",),
    "rattan": (r"rattan",),
    "wicker": (r"wicker",),
    "glass": (r"glass",),
    "ceramic": (r"ceramics?",),
    "porcelain": (r"porcelain",),
    "stoneware": (r"stoneware",),
    "marble": (r"marble",),
    "granite": (r"granite",),
    "plastic": (r"plastics?",),
    "acrylic": (r"acrylic",),
    "vinyl": (r"vinyl",),
    "pvc": (r"pvc",),
    "resin": (r"resin",),
    "silicone": (r"silicone",),
    "rubber": (r"rubber",),
    "latex": (r"latex",),
    "foam": (r"(?:memory |eva )?foam",),
    "nylon": (r"nylon",),
    "polyester": (r"polyester",),
    "microfibre": (r"microfib(?:er|re)",),
    "fleece": (r"fleece",),
    "flannel": (r"flannel",),
    "cotton": (r"(?:organic )?cotton",),
    "linen": (r"linen",),
    "wool": (r"(?:merino )?wool(?:en)?",),
    "cashmere": (r"cashmere",),
    "silk": (r"silk",),
    "satin": (r"satin",),
    "velvet": (r"velvet",),
    "denim": (r"denim",),
    "canvas": (r"canvas",),
    "felt": (r"felt",),
    "jute": (r"jute", r"burlap"),
    "paper": (r"paper",),
    "cardboard": (r"cardboard",),
    "clay": (r"clay",),
}

#: Materials whose words often mean something else ("Pine Car Derby lubricant", a
#: "Hardwood Furniture Factory" model kit, a "fine mesh" pattern): only where the
#: description says what the item is made of.
_WEAK_MATERIALS: dict[str, tuple[str, ...]] = {
    "wood": (r"hardwood",),
    "pine": (r"pine(?:wood)?",),
    "maple": (r"maple",),
    "cedar": (r"cedar",),
    "birch": (r"birch",),
    "cork": (r"cork",),
    "mesh": (r"mesh",),
    "copper": (r"copper",),
    "tin": (r"tin",),
    "plastic": (r"abs",),
}

#: After a material, a word that makes it a look, a colour or an absence:
#: "wood-look", "marble effect", "leather-free", "wood grain", "steel blue".
_MATERIAL_NOT_BEFORE = (
    "look", "looking", "effect", "print", "printed", "grain", "pattern", "patterned", "finish", "finished",
    "like", "style", "tone", "toned", "colou?r", "colou?red", "free", "texture", "textured", "imitation",
)

#: Names that hold a material word.
_MATERIAL_NAMES = (
    r"heavy metal", r"metal gear", r"metal slug", r"death metal", r"full ?metal", r"metal detectors?",
    r"metal surface", r"man of steel", r"iron man", r"iron maiden", r"paper mario", r"paper towns",
    r"cotton candy", r"cotton ?tail", r"cotton eye", r"leather ?face", r"silk road", r"glass slipper",
    r"glass onion", r"marble (?:run|maze|race|game|track)", r"velvet underground", r"red velvet",
    r"wood(?:en)? spoon award",
)

#: Before a word, what negates it: "not leather", "non-toxic", "without glass", "faux wood".
_NEGATION = re.compile(
    r"(?:\b(?:not|no|non|without|nor|except|instead of|free of|free from|faux|imitation|fake|mock)[\s-]+"
    r"(?:[\w'%]+[\s,/-]+){0,3}|n't\s+(?:[\w'%]+[\s,/-]+){0,3})$",
    re.IGNORECASE,
)

#: "Colors may vary", "Color/Packaging May Vary": the colour is not known.
_VARIES = re.compile(r"\bcolou?rs?(?:\s*(?:/|&|and)\s*\w+)?\s+(?:may|might|will|can)\s+vary\b", re.IGNORECASE)

# A part of a title: between commas, brackets, bars, spaced dashes or a colon.
_SEGMENTS = re.compile(r"[,;|()\[\]{}]|\s[-–—]+\s|:\s")
# Where the words about the item itself end and those about its parts or uses begin.
_CLAUSE_END = re.compile(r"\b(?:with|w/|for|includes?|including|compatible|fits|featuring)\b", re.IGNORECASE)
# A straight or curly quotation (not inch marks: 24" x 36").
_QUOTED = re.compile(r"(?<![\w\"])\"(?=[A-Za-z])[^\"]{1,80}\"(?![A-Za-z])|“[^”]{1,80}”")
# What may stand beside a colour in a colour-only part: "Brown 12 Inches", "Pink/White", "One Size".
_FILLER = re.compile(
    r"(?:[\s\d.,/&+'\"”″×*#%=:-]|\b(?:and|or|with|in|inch(?:es)?|cm|mm|ft|feet|foot|oz|ounces?|lbs?|pounds?|pack|"
    r"pk|pcs?|pieces?|count|ct|set|of|by|x|one|size|small|medium|large|x ?large|xx?l|xs|s|m|l|standard|colou?rs?|"
    r"colou?red|tone|two tone|shades?|stripes?|striped|dots?|check|version|edition)\b)*",
    re.IGNORECASE,
)
_NAME = " § "  # stands in for a removed name: no colour, and not filler


def _alternation(forms: Iterable[str]) -> str:
    ordered = sorted(set(forms), key=len, reverse=True)  # longest first: "navy blue" before "navy"
    return "|".join(f.replace(" ?", r"[\s-]*").replace(" ", r"[\s-]+") for f in ordered)


@dataclass(frozen=True)
class _Lexicon:
    """One attribute's compiled terms: the value of each surface form, and which are weak."""

    pattern: re.Pattern[str]
    values: dict[str, str]
    weak: frozenset[str]

    @classmethod
    def build(
        cls, strong: dict[str, tuple[str, ...]], weak: dict[str, tuple[str, ...]], *,
        prefix: str = "", not_before: tuple[str, ...] = (),
    ) -> _Lexicon:
        forms = [(f, v, False) for v, fs in strong.items() for f in fs]
        forms += [(f, v, True) for v, fs in weak.items() for f in fs]
        forms.sort(key=lambda form: len(form[0]), reverse=True)  # "rose gold" before "rose", "navy blue" before "navy"
        terms = "|".join(f"(?P<t{i}>{_alternation([form])})" for i, (form, _, _) in enumerate(forms))
        following = f"(?![\\s-]+(?:{'|'.join(not_before)})\\b)" if not_before else ""
        pattern = re.compile(rf"(?<![\w'’-]){prefix}(?:{terms})(?![\w'’]){following}", re.IGNORECASE)
        values = {f"t{i}": value for i, (_, value, _) in enumerate(forms)}
        weak_groups = frozenset(f"t{i}" for i, (_, _, is_weak) in enumerate(forms) if is_weak)
        return cls(pattern, values, weak_groups)

    def matches(self, text: str) -> Iterator[tuple[re.Match[str], str, bool]]:
        """Every term in ``text``: the match, its normalised value and whether it is weak."""
        for match in self.pattern.finditer(text):
            group = match.lastgroup or ""
            yield match, self.values[group], group in self.weak


_SHADE = rf"(?:(?:{'|'.join(_SHADES)})[\s-]+)?"
_COLOUR_LEXICON = _Lexicon.build(_COLOURS, _WEAK_COLOURS, prefix=_SHADE, not_before=_COLOUR_NOT_BEFORE)
_MATERIAL_LEXICON = _Lexicon.build(_MATERIALS, _WEAK_MATERIALS, not_before=_MATERIAL_NOT_BEFORE)
_COLOUR_NAME_RE = re.compile(rf"(?<![\w-])(?:{_alternation(_COLOUR_NAMES)})(?![\w])", re.IGNORECASE)
_MATERIAL_NAME_RE = re.compile(rf"(?<![\w-])(?:{_alternation(_MATERIAL_NAMES)})(?![\w])", re.IGNORECASE)

#: "Color: Silver", "Colour - Red", "Color Blue": an explicit colour, weak words included.
_COLOUR_LABEL = re.compile(r"\bcolou?r\b\s*(?:[:=-]\s*|is\s+)?(?=\S)", re.IGNORECASE)
#: "a vibrant blue color", "a blue coloured case" (not "blue colors": a list of variants).
_COLOUR_WORD = re.compile(r"[\s-]+colou?r(?:ed)?\b", re.IGNORECASE)
#: "made of high quality vinyl", "Material: Plastic", "crafted from fine ceramic", "100% polyester".
_MADE_OF = re.compile(
    r"\b(?:(?:made|crafted|constructed|manufactured|built|moulded|molded)\s+(?:entirely\s+|mainly\s+|mostly\s+|"
    r"completely\s+)?(?:out\s+of|of|from|with|in)\s+|materials?\s*[:=-]\s*)",
    re.IGNORECASE,
)
#: "solid oak", "genuine leather", "100% cotton": the material must come next.
_PURE = re.compile(
    r"\b(?:(?:solid|genuine|real|pure)\s+|100\s*%\s*(?:(?:recycled|organic|natural|pure|premium|soft|virgin)\s+)*)",
    re.IGNORECASE,
)
#: How far after "made of" the material may come ("made of super strong, superior quality BPA free plastic").
_MADE_OF_REACH = 60


def _without_names(text: str, names: re.Pattern[str], brand: str | None) -> str:
    text = _QUOTED.sub(_NAME, text)
    if brand and len(brand.strip()) >= 3:
        text = re.sub(rf"(?<!\w){re.escape(brand.strip())}(?!\w)", _NAME, text, flags=re.IGNORECASE)
    return names.sub(_NAME, text)


def _negated(text: str, start: int) -> bool:
    return bool(_NEGATION.search(text[max(0, start - 40):start]))


def _segments(title: str) -> list[str]:
    return [s for s in _SEGMENTS.split(title) if s.strip()]


def _head(segment: str) -> str:
    """The part of a title segment about the item itself, before "with …" or "for …"."""
    end = _CLAUSE_END.search(segment)
    return segment[: end.start()] if end else segment


def _first_in(lexicon: _Lexicon, text: str, *, weak_too: bool = False) -> str | None:
    for match, value, weak in lexicon.matches(text):
        if (weak_too or not weak) and not _negated(text, match.start()):
            return value
    return None


def _colour_only(segment: str) -> str | None:
    """The colour a segment names when it names nothing else (", Pink/White", "Brown 12 Inches")."""
    found = list(_COLOUR_LEXICON.matches(segment))
    if not found:
        return None
    rest = _COLOUR_LEXICON.pattern.sub(" ", segment)
    if _FILLER.fullmatch(rest) is None:
        return None
    return found[0][1]


def _labelled_colour(text: str) -> str | None:
    for label in _COLOUR_LABEL.finditer(text):
        match = _COLOUR_LEXICON.pattern.match(text, label.end())
        if match is not None:
            return _COLOUR_LEXICON.values[match.lastgroup or ""]
    return None


def _described_colour(text: str) -> str | None:
    """A colour the description states outright: "Color: Silver", "a vibrant blue color"."""
    labelled = _labelled_colour(text)
    if labelled is not None:
        return labelled
    for said in _COLOUR_WORD.finditer(text):  # then the colour just before "color"
        start = max(0, said.start() - 40)
        window = text[start: said.start()]
        found = list(_COLOUR_LEXICON.matches(window))
        if not found:
            continue
        match, value, weak = found[-1]
        whole_word = match.start() > 0 or start == 0
        if match.end() == len(window) and whole_word and not weak and not _negated(window, match.start()):
            return value
    return None


def infer_colour(title: str, description: str = "", *, brand: str | None = None) -> str | None:
    """The colour a product's words give it, or ``None`` when they do not say for sure.

    Args:
        title: the product's title.
        description: its description; read only when the title names no colour.
        brand: the row's brand, which is never read as a colour ("Off White").

    Returns:
        A normalised lower-case colour ("grey", "navy", "multicolour"), or ``None``.

    >>> infer_colour("Gray Dress"), infer_colour("Ice Cream"), infer_colour("Party Plates, Cream")
    ('grey', None, 'cream')
    >>> infer_colour("Aurora Plush Bear, Brown 12 Inches"), infer_colour("Doll, Light Skin Tone Blue Eyes")
    ('brown', None)
    >>> infer_colour("Glasses Case", "Durable. Color: Silver.")
    'silver'
    """
    title = _without_names(title, _COLOUR_NAME_RE, brand)
    if _VARIES.search(title) or _VARIES.search(description):
        return None
    labelled = _labelled_colour(title)
    if labelled is not None:
        return labelled
    segments = _segments(title)
    # The first part is the item's name ("Orange", "Silver Unicorn"); three colours listed apart are a mix
    # ("Convertible Car, Blue, Orange, Pink").
    listed = [c for c in map(_colour_only, segments[1:]) if c is not None]
    if len(set(listed)) >= 3:
        return _MULTICOLOUR
    if listed:
        return listed[0]
    for segment in segments:
        found = _first_in(_COLOUR_LEXICON, _head(segment))
        if found is not None:
            return found
    if _COLOUR_WORD.search(description) is None and _COLOUR_LABEL.search(description) is None:
        return None  # most descriptions never say "colour": skip the costlier reading
    return _described_colour(_without_names(description, _COLOUR_NAME_RE, brand))


def _described_material(text: str) -> str | None:
    """A material the description states outright: "made of pewter", "Material: Plastic", "solid oak"."""
    said = sorted([*_MADE_OF.finditer(text), *_PURE.finditer(text)], key=lambda m: m.start())
    for trigger in said:
        if _negated(text, trigger.start()):
            continue  # "is not made of rubber, silicone or plastic"
        if trigger.re is _PURE:
            match = _MATERIAL_LEXICON.pattern.match(text, trigger.end())
            if match is not None:
                return _MATERIAL_LEXICON.values[match.lastgroup or ""]
            continue
        reach = re.split(r"[.|;:!?\n]", text[trigger.end(): trigger.end() + _MADE_OF_REACH], maxsplit=1)[0]
        found = _first_in(_MATERIAL_LEXICON, reach, weak_too=True)
        if found is not None:
            return found
    return None


def infer_material(title: str, description: str = "", *, brand: str | None = None) -> str | None:
    """The material a product's words give it, or ``None`` when they do not say for sure.

    Args:
        title: the product's title.
        description: its description; read only when the title names no material.
        brand: the row's brand, which is never read as a material ("Velvet Touch").

    Returns:
        A normalised lower-case material ("wood", "stainless steel", "faux leather"), or ``None``.

    >>> infer_material("White Faux Leather Backpack"), infer_material("Wood-Look Vinyl Shelf Liner")
    ('faux leather', 'vinyl')
    >>> infer_material("Silver Pot With Glass Cap"), infer_material("Cricket Bat", "It is made of wood.")
    (None, 'wood')
    >>> infer_material("Phone Skin", "A soft skin, not made of rubber, silicone or plastic.") is None
    True
    """
    title = _without_names(title, _MATERIAL_NAME_RE, brand)
    for segment in _segments(title):
        found = _first_in(_MATERIAL_LEXICON, _head(segment))
        if found is not None:
            return found
    if _MADE_OF.search(description) is None and _PURE.search(description) is None:
        return None
    return _described_material(_without_names(description, _MATERIAL_NAME_RE, brand))


def infer_attributes(
    title: str,
    description: str = "",
    *,
    brand: str | None = None,
    attributes: Iterable[str] = INFERABLE_ATTRIBUTES,
) -> dict[str, str]:
    """The colour and material a product's words give it (see :func:`infer_colour`, :func:`infer_material`).

    Args:
        title: the product's title.
        description: its description (read only for what the title does not say).
        brand: the row's brand, never read as a colour or material.
        attributes: which of :data:`INFERABLE_ATTRIBUTES` to look for.

    Returns:
        Attribute name → normalised value, for those found.

    Raises:
        ValueError: for an attribute this module cannot read.
    """
    readers = {"colour": infer_colour, "material": infer_material}
    found: dict[str, str] = {}
    for name in attributes:
        if name not in readers:
            raise ValueError(f"cannot infer {name!r}; only {', '.join(INFERABLE_ATTRIBUTES)}")
        value = readers[name](title, description, brand=brand)
        if value is not None:
            found[name] = value
    return found

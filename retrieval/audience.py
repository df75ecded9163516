"""Whom an item is for (men, women, boys, girls, babies), as a catalog states it and a customer says it.

Fashion and gift catalogs carry a column for it — Myntra's ``Gender`` ("Women", "Unisex Kids"),
Flipkart's "Ideal For" ("Men, Boys", "Baby Boys, Baby Girls") — mapped to the ``audience`` field.
Customers say it in a few everyday ways: "men's jeans", "a dress for my daughter", "a gift for
him". Both sides are read into the same five groups, so a wish filters the catalog's own values
however the catalog spells them, and an item made for everyone ("Unisex") suits every adult.

The words are a closed set (the English nouns for people by sex and age, and the family and
partner words that imply them), so they are listed here rather than learnt; see
docs/ARCHITECTURE.md, "Hand-written patterns".

>>> stated_audience("mens running shoes"), stated_audience("a frock for my daughter")
('men', 'girls')
>>> stated_audience("boyfriend jeans"), stated_audience("something for my boyfriend")
(None, 'men')
>>> sorted(groups_of("Unisex Kids")), sorted(groups_of("Men, Boys"))
(['boys', 'girls'], ['boys', 'men'])
>>> suits("women", "Unisex"), suits("women", "Men"), suits("boys", "Baby Boys, Baby Girls")
(True, False, True)
"""

from __future__ import annotations

import re

__all__ = ["GROUPS", "audience_of", "groups_of", "stated_audience", "suits"]

#: The groups, in the order a wish names them.
GROUPS: tuple[str, ...] = ("women", "men", "girls", "boys", "babies")
_ADULTS = frozenset(("women", "men"))
_CHILDREN = frozenset(("girls", "boys"))

#: Words naming a group wherever they stand ("men's", "ladies", "kids", "womens kurta").
_GROUP_WORDS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("women", "womens", "ladies", "womenswear"), frozenset(("women",))),
    **dict.fromkeys(("men", "mens", "gents", "gentlemen", "menswear"), frozenset(("men",))),
    **dict.fromkeys(("girls",), frozenset(("girls",))),
    **dict.fromkeys(("boys",), frozenset(("boys",))),
    **dict.fromkeys(("kids", "children", "childrens", "toddlers", "teens", "teenagers"), _CHILDREN),
    **dict.fromkeys(("babies", "infants", "newborns"), frozenset(("babies",))),
    **dict.fromkeys(("unisex",), _ADULTS),
}
#: Words that name one person, and so a group, only as the one the item is for: "for my boyfriend",
#: "a 10 year old boy", "my son's", "for her" — not "boyfriend jeans", "baby pink" or "hey man".
_PERSON_WORDS: dict[str, frozenset[str]] = {
    **dict.fromkeys(("woman", "lady", "wife", "girlfriend", "mum", "mom", "mother", "mummy", "mommy", "sister",
                     "grandma", "grandmother", "aunt", "auntie", "fiancee", "bride", "her"), frozenset(("women",))),
    **dict.fromkeys(("man", "gentleman", "husband", "boyfriend", "dad", "father", "daddy", "brother", "grandpa",
                     "grandfather", "uncle", "fiance", "groom", "him"), frozenset(("men",))),
    **dict.fromkeys(("girl", "daughter", "daughters", "niece", "granddaughter"), frozenset(("girls",))),
    **dict.fromkeys(("boy", "son", "sons", "nephew", "grandson"), frozenset(("boys",))),
    **dict.fromkeys(("kid", "child", "toddler", "teen", "teenager"), _CHILDREN),
    **dict.fromkeys(("baby", "newborn", "infant"), frozenset(("babies",))),
}
#: Pronouns: a person word only after "for" or "to" ("for her"), and not as an owner ("for her son").
_PRONOUNS = frozenset(("her", "him"))
#: What stands before a person word the item is for ("for my", "a 10 year old", "our little").
_BEFORE_PERSON = frozenset(("for", "to", "my", "our", "his", "her", "your", "a", "an", "the", "little", "lil",
                            "young", "old", "older", "younger", "teenage", "small", "new", "baby", "newborn",
                            "and", "or"))
#: "Baby" is a shade too ("a baby pink top"): it names a wearer only after these, articles aside ("for a baby").
_BEFORE_BABY = frozenset(("for", "to", "my", "our", "his", "her", "your", "newborn"))
_ARTICLES = frozenset(("a", "an", "the"))
_TOKEN = re.compile(r"[a-z]+(?:-[a-z]+)*(?:['’]s\b)?")


def _words(text: str) -> list[str]:
    return _TOKEN.findall(text.casefold())


def _person(words: list[str], position: int) -> frozenset[str]:
    """The groups of the person word at ``position``, if it stands as the one the item is for."""
    token = words[position]
    owner = token.endswith(("'s", "’s"))
    word = token[:-2] if owner else token
    groups = _PERSON_WORDS.get(word, frozenset())
    if not groups:
        return groups
    before = words[position - 1] if position else ""
    after = words[position + 1] if position + 1 < len(words) else ""
    if word in _PRONOUNS:
        person_after = after.removesuffix("'s").removesuffix("’s") in _PERSON_WORDS
        return groups if before in ("for", "to") and not person_after else frozenset()
    if word == "baby":
        earlier = [w for w in words[:position] if w not in _ARTICLES]
        return groups if owner or len(words) == 1 or (earlier and earlier[-1] in _BEFORE_BABY) else frozenset()
    if owner or before in _BEFORE_PERSON or len(words) == 1:
        return groups
    return frozenset()


def stated_audience(text: str) -> str | None:
    """The groups the customer's words say the item is for, joined ("men", "girls and boys"), or ``None``.

    A group word counts anywhere ("womens kurta"); a word for one person only as the one the item is
    for: after "for", "my", "a", "old" ("for my son", "a 10 year old boy"), as an owner ("my dad's") or
    alone (the answer "boy"); "her" and "him" only after "for" or "to". So "boyfriend jeans" and
    "baby pink" say nothing of whom the item is for.
    """
    found: set[str] = set()
    words = _words(text)
    for position, token in enumerate(words):
        found |= _GROUP_WORDS.get(token.removesuffix("'s").removesuffix("’s"), frozenset())
        found |= _person(words, position)
    return _named(found)


def _named(groups: set[str] | frozenset[str]) -> str | None:
    return " and ".join(g for g in GROUPS if g in groups) or None


def groups_of(value: str) -> frozenset[str]:
    """The groups a catalog's value (or a stated wish) names: "Unisex Kids" → girls and boys.

    "Unisex" alone is every adult; "Baby Boys" is boys and babies; a value naming no group ("Senior")
    names none.
    """
    words = {w.removesuffix("'s").removesuffix("’s") for w in _words(value)}
    if "unisex" in words and words & {"kids", "kid", "children", "child"}:
        return _CHILDREN
    found: set[str] = set()
    for word in words - _PRONOUNS:
        found |= _GROUP_WORDS.get(word, frozenset()) | _PERSON_WORDS.get(word, frozenset())
        if word in ("couple", "couples"):
            found |= _ADULTS
    return frozenset(found)


def audience_of(value: str) -> str | None:
    """A catalog value as a wish: "Men, Boys" → "men and boys"; ``None`` when it names no group ("Senior")."""
    return _named(groups_of(value))


def suits(wish: str, value: str) -> bool:
    """Whether an item whose audience is ``value`` suits a wish for ``wish`` (both read by :func:`groups_of`)."""
    return bool(groups_of(wish) & groups_of(value))

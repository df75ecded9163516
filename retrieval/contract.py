"""The names the layers share: slots, actions, the card payload, the attribute list, affinity keys.

The Rasa domain (``bot/domain/*.yml``), the action server, the console's summaries of the
tracker store, the web app, the widget and the evaluation all talk about the same few things
by name. A name spelled twice drifts: a renamed slot would silently zero the console's
metrics, a card key read under another spelling would show empty cards. Each of those names
is spelled once, here, and everything else imports it::

    SlotName.SHOP_STATE          # "shop_state", the slot holding the conversation model
    ActionName.SHOP              # "action_shop", the action every shopping move goes to
    recommendation_payload([recommendation_card(product, rank=1, reason="grey")], "r-1")
    recommendations_in(message["custom"])   # the payload back, in either wrapping
    ATTRIBUTES                   # ("colour", "material", "style", "brand", "use")
    affinity_key("colour", "Grey")          # "colour:grey", a key of the profile's affinities

Why here: the module has to be importable by every layer — ``actions`` and ``web`` above,
``store`` and ``retrieval`` below, ``evaluation`` and the benchmarks beside — without dragging
one layer's dependencies into another. It imports nothing but the standard library, and
:mod:`retrieval`'s package root loads its modules only when they are asked for, so importing
``retrieval.contract`` loads neither NumPy nor FAISS nor SQLAlchemy. It sits in ``retrieval``
rather than a package of its own because ``retrieval`` is the installed package that the
others already build on and that depends on none of them; the names it holds are plain
strings, so nothing of Rasa leaks into ``retrieval`` (no ``rasa_sdk`` import).

``tests/test_contract.py`` checks these names against the Rasa domain and fails when one of
them is spelled as a literal elsewhere; the widget (JavaScript) is checked against the card
keys there too. The Rasa domain YAML stays the other place where slot and action names are
written, since Rasa reads them from there.

>>> from types import SimpleNamespace
>>> sofa = SimpleNamespace(id="SKU-1", title="Halden sofa", price=699.0, price_from=False, currency="USD",
...                        category="Sofas", image_url=None, url=None, rating=4.5)
>>> payload = recommendation_payload([recommendation_card(sofa, rank=1, reason="grey, under $800")], "r-1")
>>> payload["type"], payload["items"][0]["id"], payload["items"][0]["reason"]
('recommendations', 'SKU-1', 'grey, under $800')
>>> [card[CardKey.ID] for card in cards_in(recommendations_in(wrapped(payload)))]
['SKU-1']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final, Literal, Protocol, TypedDict

__all__ = [
    "ASKED_ATTRIBUTES",
    "ATTRIBUTES",
    "AUDIENCE",
    "CUSTOM_DATA",
    "NAMED_ATTRIBUTES",
    "PRODUCT_ATTRIBUTES",
    "ActionName",
    "Awaiting",
    "CardKey",
    "CardProduct",
    "DataExportPayload",
    "DescribedProduct",
    "PayloadKey",
    "PayloadType",
    "RasaAction",
    "RecommendationItem",
    "RecommendationPayload",
    "SlotName",
    "affinity_key",
    "affinity_parts",
    "card_ids",
    "cards_in",
    "custom_payload",
    "data_export_payload",
    "names_of",
    "recommendation_card",
    "recommendation_payload",
    "recommendations_in",
    "taught_attributes",
    "wrapped",
]


def names_of(namespace: type) -> tuple[str, ...]:
    """The string values a namespace class below holds, in the order written.

    >>> names_of(PayloadType)
    ('recommendations', 'data_export')
    """
    return tuple(v for k, v in vars(namespace).items() if k.isupper() and isinstance(v, str))


# ------------------------------------------------------------------------------------- slots


class SlotName:
    """The slots of ``bot/domain/slots.yml``.

    ``action_shop`` keeps the whole conversation model in :attr:`SHOP_STATE`; the list slots
    and :attr:`AWAITING` mirror it for the review console and the profile. The need slots
    mirror entities of the same names.
    """

    SHOP_STATE: Final = "shop_state"
    CATEGORY: Final = "category"
    BUDGET: Final = "budget"
    COLOUR: Final = "colour"
    MATERIAL: Final = "material"
    STYLE: Final = "style"
    USE: Final = "use"
    BRAND: Final = "brand"
    BUDGET_MIN: Final = "budget_min"
    BUDGET_MAX: Final = "budget_max"
    EXCLUSIONS: Final = "exclusions"
    SHOWN_ITEMS: Final = "shown_items"
    SHOWN_REASONS: Final = "shown_reasons"
    #: No longer written (``shop_state`` holds the items seen); still declared in the domain so that
    #: conversations stored before load without an error for each of its events.
    SEEN_ITEMS: Final = "seen_items"
    REJECTED_ITEMS: Final = "rejected_items"
    LIKED_ITEMS: Final = "liked_items"
    REQUEST_ID: Final = "request_id"
    LIKE_ITEM: Final = "like_item"
    AWAITING: Final = "awaiting"


class Awaiting:
    """The values of the :attr:`SlotName.AWAITING` slot: the yes/no question the assistant waits on.

    They are the conversation model's ``pending`` values for those two questions too.
    """

    CONSENT: Final = "consent"
    SATISFACTION: Final = "satisfaction"


# ----------------------------------------------------------------------------------- actions


class ActionName:
    """The custom actions of ``bot/domain/actions.yml``, served by ``actions/``."""

    GREET: Final = "action_greet"
    SHOP: Final = "action_shop"
    DESCRIBE_PROFILE: Final = "action_describe_profile"
    FORGET_ME: Final = "action_forget_me"
    SET_PERSONALISATION: Final = "action_set_personalisation"
    HANDOFF: Final = "action_handoff"
    EXPORT_DATA: Final = "action_export_data"


class RasaAction:
    """Rasa's own actions that our code names (they are in no domain file)."""

    LISTEN: Final = "action_listen"
    SESSION_START: Final = "action_session_start"
    UNLIKELY_INTENT: Final = "action_unlikely_intent"
    DEFAULT_FALLBACK: Final = "action_default_fallback"
    TWO_STAGE_FALLBACK: Final = "action_two_stage_fallback"


# -------------------------------------------------------------------------------- attributes

#: What a customer can wish for or rule out, what the NLU tags as entities, and what the profile
#: learns a taste for — in the order reasons name them.
ATTRIBUTES: Final[tuple[str, ...]] = ("colour", "material", "style", "brand", "use")
#: The attributes whose values are names, the catalog's own words ("oak", "grey", "Ikea"): a wish for one can
#: filter, ruling one out counts against the taste, the NLU gets a lookup table of them. A use ("for a small
#: flat") is worded too loosely for any of that.
NAMED_ATTRIBUTES: Final[tuple[str, ...]] = tuple(name for name in ATTRIBUTES if name != "use")
#: The attributes the needs questions may ask about (a brand is named, not asked for).
ASKED_ATTRIBUTES: Final[tuple[str, ...]] = ("colour", "material", "style", "use")
#: Whom an item is for (men, women, girls, boys, babies: :mod:`retrieval.audience`). Stated in closed-set words
#: ("men's", "for my son") rather than tagged by the NLU, and a filter wherever the catalog gives it.
AUDIENCE: Final = "audience"
#: Every descriptive field of a catalog product, in the catalog's field order: :data:`ATTRIBUTES`, the size
#: (compared by the bigger/smaller critiques, never wished for by name) and the :data:`AUDIENCE`.
PRODUCT_ATTRIBUTES: Final[tuple[str, ...]] = ("brand", "colour", "material", "style", "size", "use", AUDIENCE)


class DescribedProduct(Protocol):
    """What :func:`taught_attributes` reads of a product (``retrieval.catalog.Product`` is one)."""

    @property
    def category(self) -> str:
        """The product's category."""

    def attribute(self, name: str) -> str | None:
        """The value of one of :data:`PRODUCT_ATTRIBUTES`, or ``None``."""


def taught_attributes(product: DescribedProduct) -> dict[str, str | None]:
    """What liking a product teaches the profile: its category and each of :data:`ATTRIBUTES`.

    A like, and the likes kept when the customer agrees to be remembered, teach this same
    mapping; the profile turns each value into an affinity (:func:`affinity_key`), and the
    recommender scores the same attributes.
    """
    return {"category": product.category, **{name: product.attribute(name) for name in ATTRIBUTES}}


# ---------------------------------------------------------------------------- affinity keys


def affinity_key(attribute: str, value: str) -> str:
    """The key of a profile affinity: ``"attribute:value"``, the value case-folded.

    >>> affinity_key("colour", "Grey")
    'colour:grey'
    """
    return f"{attribute}:{value.casefold()}"


def affinity_parts(key: str) -> tuple[str, str]:
    """The attribute and value of an affinity key (the value as stored, case-folded).

    >>> affinity_parts("material:faux leather")
    ('material', 'faux leather')
    """
    attribute, _, value = key.partition(":")
    return attribute, value


# ------------------------------------------------------------------------------ the payload

#: The key a custom payload is wrapped in: Rasa 3.6's socket.io channel passes a custom payload
#: as keyword arguments, so an unwrapped ``{"type": …}`` raises ``TypeError`` and the whole
#: response is lost. The socket.io channel delivers the payload unwrapped; the REST channel and
#: the tracker store keep it as ``custom.data``.
CUSTOM_DATA: Final = "data"


class PayloadType:
    """The ``type`` of each custom payload the assistant sends."""

    RECOMMENDATIONS: Final = "recommendations"
    DATA_EXPORT: Final = "data_export"


class PayloadKey:
    """The keys of a payload (the keys of :class:`RecommendationPayload` and :class:`DataExportPayload`)."""

    TYPE: Final = "type"
    REQUEST_ID: Final = "request_id"
    ITEMS: Final = "items"
    TITLE: Final = "title"


class CardKey:
    """The keys of one card (:class:`RecommendationItem`)."""

    ID: Final = "id"
    TITLE: Final = "title"
    PRICE: Final = "price"
    PRICE_FROM: Final = "price_from"
    CURRENCY: Final = "currency"
    CATEGORY: Final = "category"
    IMAGE_URL: Final = "image_url"
    URL: Final = "url"
    RATING: Final = "rating"
    RANK: Final = "rank"
    REASON: Final = "reason"


class RecommendationItem(TypedDict):
    """One card."""

    id: str
    title: str
    price: float
    #: the price is the lowest of a range: show "from …"
    price_from: bool
    currency: str
    category: str
    image_url: str | None
    url: str | None
    rating: float | None
    rank: int
    reason: str


class RecommendationPayload(TypedDict):
    """A list of cards answering one request."""

    type: Literal["recommendations"]
    request_id: str
    items: list[RecommendationItem]


class DataExportPayload(TypedDict):
    """A "download my data" button: the widget fetches ``GET /api/chat/export`` with the conversation's token."""

    type: Literal["data_export"]
    title: str


class CardProduct(Protocol):
    """What a card shows of a product (``retrieval.catalog.Product`` is one)."""

    @property
    def id(self) -> str:
        """The product id."""

    @property
    def title(self) -> str:
        """The product's name."""

    @property
    def price(self) -> float:
        """The price (the lowest of a range when :attr:`price_from`)."""

    @property
    def price_from(self) -> bool:
        """Whether the price is the lowest of a range."""

    @property
    def currency(self) -> str:
        """The ISO currency code."""

    @property
    def category(self) -> str:
        """The category."""

    @property
    def image_url(self) -> str | None:
        """The picture, if any."""

    @property
    def url(self) -> str | None:
        """The product page, if any."""

    @property
    def rating(self) -> float | None:
        """The mean rating, if any."""


def recommendation_card(product: CardProduct, *, rank: int, reason: str) -> RecommendationItem:
    """One card: the product as the customer sees it, its rank in the list and why it was chosen."""
    return {
        "id": product.id,
        "title": product.title,
        "price": product.price,
        "price_from": product.price_from,
        "currency": product.currency,
        "category": product.category,
        "image_url": product.image_url,
        "url": product.url,
        "rating": product.rating,
        "rank": rank,
        "reason": reason,
    }


def recommendation_payload(cards: Iterable[RecommendationItem], request_id: str) -> RecommendationPayload:
    """The payload of a list of cards answering one request."""
    return {"type": "recommendations", "request_id": request_id, "items": list(cards)}


def data_export_payload(title: str) -> DataExportPayload:
    """The button that downloads the customer's copy of their data."""
    return {"type": "data_export", "title": title}


def wrapped(payload: RecommendationPayload | DataExportPayload) -> dict[str, Any]:
    """The custom message an action sends for a payload (see :data:`CUSTOM_DATA`)."""
    return {CUSTOM_DATA: payload}


def custom_payload(custom: object) -> Mapping[str, Any] | None:
    """The payload a message's ``custom`` part carries, wrapped in :data:`CUSTOM_DATA` or not.

    >>> custom_payload({"data": {"type": "data_export", "title": "Download"}})
    {'type': 'data_export', 'title': 'Download'}
    >>> custom_payload({"type": "data_export", "title": "Download"})["title"]
    'Download'
    >>> custom_payload(None) is None
    True
    """
    if not isinstance(custom, Mapping):
        return None
    inner = custom.get(CUSTOM_DATA)
    return inner if isinstance(inner, Mapping) else custom


def recommendations_in(custom: object) -> Mapping[str, Any] | None:
    """The recommendation payload a message's ``custom`` part carries (either wrapping), or ``None``.

    >>> recommendations_in({"data": {"type": "recommendations", "items": []}})
    {'type': 'recommendations', 'items': []}
    >>> recommendations_in({"data": {"type": "data_export", "title": "Download"}}) is None
    True
    """
    payload = custom_payload(custom)
    if payload is not None and payload.get(PayloadKey.TYPE) == PayloadType.RECOMMENDATIONS:
        return payload
    return None


def cards_in(payload: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """The cards of a recommendation payload, in order (anything that is not a card left out).

    >>> cards_in({"type": "recommendations", "items": [{"id": "A"}, "junk"]})
    [{'id': 'A'}]
    >>> cards_in(None)
    []
    """
    items = (payload or {}).get(PayloadKey.ITEMS) or []
    return [item for item in items if isinstance(item, Mapping)]


def card_ids(messages: Iterable[Mapping[str, Any]]) -> list[str]:
    """The ids of the cards in a reply's messages (REST format: ``custom`` in either wrapping), in order.

    >>> card_ids([{"text": "Here"}, {"custom": {"data": {"type": "recommendations", "items": [{"id": "A"}]}}}])
    ['A']
    """
    return [str(card.get(CardKey.ID)) for message in messages
            for card in cards_in(recommendations_in(message.get("custom")))]


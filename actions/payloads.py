"""The recommendation message the bot sends to clients (see DESIGN.md).

Sent as a custom payload wrapped in ``{"data": …}``: Rasa 3.6's socket.io
channel passes a custom payload as keyword arguments, so an unwrapped
``{"type": …}`` raises ``TypeError`` and the whole response is lost. The REST
channel returns it as ``custom.data``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Literal, TypedDict

from retrieval.recommender import Scored

__all__ = [
    "DataExportPayload", "RecommendationItem", "RecommendationPayload", "data_export_payload", "new_request_id",
    "recommendation_payload",
]


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


def new_request_id() -> str:
    """A fresh id that ties impressions, feedback and logs to one recommendation."""
    return f"r-{uuid.uuid4().hex[:12]}"


def recommendation_payload(items: Sequence[Scored], request_id: str) -> RecommendationPayload:
    """Build the payload from ranked items (each carries its reason)."""
    cards: list[RecommendationItem] = [
        {
            "id": s.product.id,
            "title": s.product.title,
            "price": s.product.price,
            "price_from": s.product.price_from,
            "currency": s.product.currency,
            "category": s.product.category,
            "image_url": s.product.image_url,
            "url": s.product.url,
            "rating": s.product.rating,
            "rank": s.rank,
            "reason": s.reason,
        }
        for s in items
    ]
    return {"type": "recommendations", "request_id": request_id, "items": cards}


class DataExportPayload(TypedDict):
    """A "download my data" button: the widget fetches ``GET /api/chat/export`` with the conversation's token."""

    type: Literal["data_export"]
    title: str


def data_export_payload(title: str) -> DataExportPayload:
    """The button that downloads the customer's copy of their data."""
    return {"type": "data_export", "title": title}

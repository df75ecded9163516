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

from retrieval.search import Match

__all__ = ["RecommendationItem", "RecommendationPayload", "new_request_id", "recommendation_payload"]


class RecommendationItem(TypedDict):
    """One card."""

    id: str
    title: str
    price: float
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


def recommendation_payload(
    matches: Sequence[Match], reasons: Sequence[str], request_id: str
) -> RecommendationPayload:
    """Build the payload from search matches and one reason per match."""
    items: list[RecommendationItem] = [
        {
            "id": m.product.id,
            "title": m.product.title,
            "price": m.product.price,
            "currency": m.product.currency,
            "category": m.product.category,
            "image_url": m.product.image_url,
            "url": m.product.url,
            "rating": m.product.rating,
            "rank": m.rank,
            "reason": reason,
        }
        for m, reason in zip(matches, reasons, strict=True)
    ]
    return {"type": "recommendations", "request_id": request_id, "items": items}

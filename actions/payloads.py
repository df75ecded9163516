"""The recommendation message the bot sends to clients (see DESIGN.md), built from ranked items.

The payload's shape — its keys, its wrapping in ``{"data": …}`` for Rasa 3.6's socket.io
channel, and how clients read it back — is owned by :mod:`retrieval.contract`; this module
fills it from what the recommender returns and gives each request its id.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from retrieval.contract import (
    DataExportPayload,
    RecommendationItem,
    RecommendationPayload,
    data_export_payload,
    recommendation_card,
)
from retrieval.contract import recommendation_payload as _payload_of
from retrieval.recommender import Scored

__all__ = [
    "DataExportPayload", "RecommendationItem", "RecommendationPayload", "data_export_payload", "new_request_id",
    "recommendation_payload",
]


def new_request_id() -> str:
    """A fresh id that ties impressions, feedback and logs to one recommendation."""
    return f"r-{uuid.uuid4().hex[:12]}"


def recommendation_payload(items: Sequence[Scored], request_id: str) -> RecommendationPayload:
    """Build the payload from ranked items (each carries its reason)."""
    return _payload_of((recommendation_card(s.product, rank=s.rank, reason=s.reason) for s in items), request_id)

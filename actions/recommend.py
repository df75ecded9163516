"""``action_recommend``: answer a request with a few items from the catalog."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services, texts
from actions.payloads import new_request_id, recommendation_payload
from retrieval.explain import reason_for
from retrieval.search import Retriever

logger = logging.getLogger(__name__)

#: Items shown per recommendation turn.
ITEMS_PER_TURN = 3
#: MMR trade-off between relevance and variety within one list of cards.
DIVERSITY = 0.3


class ActionRecommend(Action):
    """Search the catalog for the customer's last message and show cards.

    Args:
        retriever: returns the catalog retriever; tests pass their own.
    """

    def __init__(self, retriever: Callable[[], Retriever] = services.retriever) -> None:
        self._retriever = retriever

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_recommend"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Show up to three matching items with a reason each."""
        query = (tracker.latest_message or {}).get("text") or ""
        try:
            matches = self._retriever().search(query, k=ITEMS_PER_TURN, diversity=DIVERSITY)
        except Exception:  # never leave the customer without an answer
            logger.exception("recommendation failed for %r", query)
            dispatcher.utter_message(text=texts.RECOMMENDATION_FAILED)
            return []
        if not matches:
            dispatcher.utter_message(text=texts.NOTHING_FOUND)
            return []
        payload = recommendation_payload(
            matches, [reason_for(m.product, query) for m in matches], new_request_id()
        )
        dispatcher.utter_message(text=texts.HERE_ARE_SOME, json_message={"data": payload})
        return []

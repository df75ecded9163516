"""Showing recommendations: the first list, more of the same, and "more like this"."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import texts
from actions.base import Events, ShopAction
from actions.payloads import new_request_id, recommendation_payload
from actions.services import Services
from actions.state import exclusions_in_message, needs_from, preferences_for, referenced_items
from retrieval.recommender import Needs, Preferences, Recommendation
from store.models import InteractionKind

__all__ = [
    "ITEMS_PER_TURN", "ActionMoreLike", "ActionRecommend", "ActionShowMore", "ActionSurprise", "present", "recommend",
]

#: Cards shown per recommendation turn.
ITEMS_PER_TURN = 3


def allowed_preferences(tracker: Tracker, services: Services) -> Preferences:
    """What may personalise this customer's ranking: nothing in an experiment's unpersonalised variant."""
    if not services.personalised(tracker.sender_id):
        return Preferences()
    return preferences_for(tracker, services, services.profiles.snapshot(tracker.sender_id))


def recommend(
    tracker: Tracker,
    services: Services,
    needs: Needs,
    *,
    exclude: Sequence[str] = (),
    like_item: str | None = None,
) -> Recommendation:
    """Run the recommender for this customer, personalised as their settings and experiment variant allow."""
    preferences = allowed_preferences(tracker, services)
    rejected = list(tracker.get_slot("rejected_items") or [])
    return services.recommender.recommend(
        needs, preferences, k=ITEMS_PER_TURN, exclude_ids=[*rejected, *exclude], like_item=like_item
    )


def present(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    services: Services,
    result: Recommendation,
    intro: str,
    *,
    empty: str = texts.NOTHING_FOUND,
) -> Events:
    """Show a recommendation as cards, log the impressions and remember what was shown.

    Also asks, once, whether the customer may be remembered — after they gave
    feedback, when the question means something to them.
    """
    if not result.items:
        dispatcher.utter_message(text=empty)
        return []
    if result.relaxed:
        dispatcher.utter_message(text=texts.RELAXED.format(notes="; ".join(result.relaxed)))
    request_id = new_request_id()
    dispatcher.utter_message(text=intro, json_message={"data": recommendation_payload(result.items, request_id)})
    services.profiles.record_many(
        tracker.sender_id,
        [(InteractionKind.IMPRESSION, s.product.id, s.rank) for s in result.items],
        request_id=request_id,
    )
    shown = [s.product.id for s in result.items]
    seen = list(tracker.get_slot("seen_items") or [])
    events: Events = [
        SlotSet("shown_items", shown),
        SlotSet("shown_reasons", [s.reason for s in result.items]),
        SlotSet("seen_items", seen + [i for i in shown if i not in seen]),
        SlotSet("request_id", request_id),
    ]
    gave_feedback = bool(tracker.get_slot("liked_items") or tracker.get_slot("rejected_items"))
    if gave_feedback and tracker.get_slot("awaiting") is None:
        snapshot = services.profiles.snapshot(tracker.sender_id)
        if snapshot.consent is None and not snapshot.consent_asked:
            services.profiles.mark_consent_asked(tracker.sender_id)
            dispatcher.utter_message(
                text=texts.CONSENT_QUESTION,
                buttons=[{"title": texts.YES, "payload": "/affirm"}, {"title": texts.NO, "payload": "/deny"}],
            )
            events.append(SlotSet("awaiting", "consent"))
    return events


def with_message_exclusions(tracker: Tracker) -> Events:
    """SlotSet for exclusions named in the latest message ("no leather"), if any."""
    new = exclusions_in_message(tracker)
    current = list(tracker.get_slot("exclusions") or [])
    added = [w for w in new if w not in current]
    return [SlotSet("exclusions", current + added)] if added else []


class ActionRecommend(ShopAction):
    """Recommend from the needs gathered so far."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_recommend"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Show the best items for the current needs."""
        events = with_message_exclusions(tracker)
        needs = needs_from(tracker)
        if events:
            needs = dataclasses.replace(needs, exclusions=tuple(events[0]["value"]))
        result = recommend(tracker, self.services, needs)
        return events + present(dispatcher, tracker, self.services, result, texts.HERE_ARE_SOME)


class ActionShowMore(ShopAction):
    """Next page: same needs, nothing shown before."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_show_more"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Show items not yet seen in this conversation."""
        seen = list(tracker.get_slot("seen_items") or [])
        result = recommend(tracker, self.services, needs_from(tracker), exclude=seen)
        # A page never relaxes constraints silently: running out is said plainly.
        if result.relaxed:
            result = Recommendation([], [], result.candidates)
        return present(dispatcher, tracker, self.services, result, texts.HERE_ARE_MORE, empty=texts.NO_MORE)


class ActionMoreLike(ShopAction):
    """"More like the second one": steer the search by that item."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_more_like"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Show items similar to the referenced one."""
        items = referenced_items(tracker, self.services)
        if not items:
            dispatcher.utter_message(text=texts.WHICH_ITEM if tracker.get_slot("shown_items") else texts.NOTHING_SHOWN)
            return []
        seed = items[0]
        needs = needs_from(tracker)
        result = recommend(tracker, self.services, needs, exclude=[seed.id, *(tracker.get_slot("shown_items") or [])],
                           like_item=seed.id)
        events = [SlotSet("like_item", seed.id)]
        return events + present(dispatcher, tracker, self.services, result, texts.MORE_LIKE.format(title=seed.title))


class ActionSurprise(ShopAction):
    """"Surprise me": well-rated items away from what the customer's profile already knows."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_surprise"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Explore within the customer's hard limits (category if said, budget, exclusions)."""
        services = self.services
        preferences = allowed_preferences(tracker, services)
        seen = [*(tracker.get_slot("rejected_items") or []), *(tracker.get_slot("seen_items") or [])]
        seed = int.from_bytes(hashlib.sha256(f"{tracker.sender_id}:{len(seen)}".encode()).digest()[:4], "big")
        result = services.recommender.surprise(needs_from(tracker), preferences, k=ITEMS_PER_TURN,
                                               exclude_ids=seen, seed=seed)
        return present(dispatcher, tracker, services, result, texts.SURPRISE)

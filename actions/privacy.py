"""The customer in control of their data: what is known, a copy of it, personalisation, forget me."""

from __future__ import annotations

import logging
import time
from concurrent.futures import Future
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import AllSlotsReset, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import texts
from actions.base import Events, ShopAction
from retrieval.contract import ActionName, SlotName, affinity_parts, data_export_payload, wrapped
from retrieval.explain import format_price
from store.profiles import ProfileSnapshot

__all__ = ["ActionDescribeProfile", "ActionExportData", "ActionForgetMe", "ActionSetPersonalisation", "describe"]

logger = logging.getLogger(__name__)
#: Background erasures still running (kept so they are not garbage-collected).
_PENDING: set[Future[int]] = set()


def describe(snapshot: ProfileSnapshot, titles: dict[str, str], currency: str) -> list[str]:
    """What is remembered about a customer, in plain words, one fact per line."""
    if snapshot.consent is False:
        return [texts.PROFILE_NO_CONSENT]
    if not snapshot.known or not snapshot.consent:
        return [texts.PROFILE_NOTHING]
    lines = [texts.PROFILE_INTRO]
    if snapshot.last_category:
        lines.append(f"• you were last looking at {snapshot.last_category.lower()}")
    if snapshot.budget_max is not None:
        lines.append(f"• your budget was up to {format_price(snapshot.budget_max, currency)}")
    liked = sorted(((v, k) for k, v in snapshot.affinities.items() if v > 0), reverse=True)[:4]
    disliked = sorted((v, k) for k, v in snapshot.affinities.items() if v < 0)[:4]
    if liked:
        lines.append("• you tend to like: " + ", ".join(affinity_parts(k)[1] for _, k in liked))
    if disliked:
        lines.append("• you tend to avoid: " + ", ".join(affinity_parts(k)[1] for _, k in disliked))
    if snapshot.liked_items:
        names = [titles.get(i, i) for i in snapshot.liked_items[:3]]
        lines.append("• items you liked: " + "; ".join(names))
    lines.append(f"• feedback so far: {snapshot.likes} 👍, {snapshot.dislikes} 👎, {snapshot.choices} chosen")
    if not snapshot.personalisation:
        lines.append(texts.PROFILE_PERSONALISATION_OFF)
    lines.append(texts.PROFILE_HINT)
    return lines


class ActionDescribeProfile(ShopAction):
    """"What do you know about me?"."""

    def name(self) -> str:
        """The action's name in the domain."""
        return ActionName.DESCRIBE_PROFILE

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """List what is remembered, in plain words."""
        snapshot = self.services.profiles.snapshot(tracker.sender_id)
        catalog = self.services.recommender.catalog
        titles = {i: p.title for i in snapshot.liked_items if (p := catalog.get(i)) is not None}
        dispatcher.utter_message(text="\n".join(describe(snapshot, titles, catalog.currency)))
        return []


class ActionForgetMe(ShopAction):
    """Erase the profile, the interactions and this sender's conversation events."""

    def name(self) -> str:
        """The action's name in the domain."""
        return ActionName.FORGET_ME

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Erase now what is ours; erase the conversation once Rasa has stored this turn."""
        started = time.time() - 1.0
        report = self.services.profiles.forget(tracker.sender_id)
        logger.info("forgot a customer: %s", report)
        conversations = self.services.conversations
        if conversations is not None:
            task = self.later(conversations.erase_after_turn(tracker.sender_id, self.name(), started))
            _PENDING.add(task)
            task.add_done_callback(_PENDING.discard)
        dispatcher.utter_message(text=texts.FORGOTTEN)
        return [AllSlotsReset(), SlotSet(SlotName.AWAITING, None)]


class ActionSetPersonalisation(ShopAction):
    """Switch personalised ranking off or on."""

    def name(self) -> str:
        """The action's name in the domain."""
        return ActionName.SET_PERSONALISATION

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Store the switch and confirm it."""
        enabled = ((tracker.latest_message or {}).get("intent") or {}).get("name") == "personalisation_on"
        self.services.profiles.set_personalisation(tracker.sender_id, enabled)
        dispatcher.utter_message(text=texts.PERSONALISATION_ON if enabled else texts.PERSONALISATION_OFF)
        return []


class ActionExportData(ShopAction):
    """"Can I get a copy of my data?": offer the download (the widget fetches it with the conversation's token)."""

    def name(self) -> str:
        """The action's name in the domain."""
        return ActionName.EXPORT_DATA

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Say what the copy holds and send the download button."""
        dispatcher.utter_message(text=texts.DATA_EXPORT,
                                 json_message=wrapped(data_export_payload(texts.DATA_EXPORT_BUTTON)))
        return []

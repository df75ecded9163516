"""Greeting, choosing an item, yes/no answers, handing over to a person, rephrasing."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import texts
from actions.base import Events, ShopAction
from actions.state import referenced_items
from retrieval.explain import format_price
from retrieval.vocabulary import singular_phrase
from store.models import InteractionKind

__all__ = ["ActionChoose", "ActionGreet", "ActionHandleYesNo", "ActionHandoff", "ActionRephrase"]


class ActionGreet(ShopAction):
    """Say hello — and welcome a returning customer back with what was learned."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_greet"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Greet, personally when the customer agreed to be remembered."""
        snapshot = self.services.profiles.snapshot(tracker.sender_id)
        self.services.profiles.touch(tracker.sender_id)
        if snapshot.usable and snapshot.last_category:
            thing = singular_phrase(snapshot.last_category)
            article = "an" if thing[:1] in "aeiou" else "a"
            buttons = [
                {"title": "Yes", "payload": f'/request_recommendation{{"category": "{snapshot.last_category}"}}'},
                {"title": "Something else", "payload": "/deny"},
            ]
            dispatcher.utter_message(text=texts.WELCOME_BACK.format(article=article, thing=thing), buttons=buttons)
        else:
            dispatcher.utter_message(text=texts.GREETING)
        return []


class ActionChoose(ShopAction):
    """The customer picks an item: confirm, give the link, ask whether it solved their need."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_choose"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Confirm the choice and ask about satisfaction."""
        items = referenced_items(tracker, self.services)
        if not items:
            dispatcher.utter_message(text=texts.WHICH_ITEM if tracker.get_slot("shown_items") else texts.NOTHING_SHOWN)
            return []
        item = items[0]
        shown = list(tracker.get_slot("shown_items") or [])
        self.services.profiles.record(
            tracker.sender_id, InteractionKind.CHOICE, item_id=item.id, request_id=tracker.get_slot("request_id"),
            rank=shown.index(item.id) + 1 if item.id in shown else None,
        )
        self.services.profiles.learn(tracker.sender_id, vector=self.services.recommender.item_vector(item.id),
                                     weight=2.0, attributes={"category": item.category}, category=item.category)
        dispatcher.utter_message(text=texts.CHOSEN.format(title=item.title,
                                                          price=format_price(item.price, item.currency),
                                                          url=item.url or "our shop"))
        dispatcher.utter_message(text=texts.ASK_SATISFIED, buttons=[
            {"title": texts.YES, "payload": "/affirm"}, {"title": texts.NO, "payload": "/deny"}])
        return [SlotSet("awaiting", "satisfaction")]


class ActionHandleYesNo(ShopAction):
    """A yes or no answers whatever was asked last: consent, or satisfaction."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_handle_yes_no"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Store the answer to the pending question."""
        yes = ((tracker.latest_message or {}).get("intent") or {}).get("name") == "affirm"
        awaiting = tracker.get_slot("awaiting")
        profiles = self.services.profiles
        if awaiting == "consent":
            profiles.set_consent(tracker.sender_id, yes)
            if yes:  # what they liked in this conversation is worth keeping now
                for item_id in tracker.get_slot("liked_items") or []:
                    product = self.services.recommender.catalog.get(item_id)
                    if product is not None:
                        profiles.learn(tracker.sender_id, vector=self.services.recommender.item_vector(item_id),
                                       attributes={"category": product.category, "colour": product.colour,
                                                   "material": product.material, "style": product.style},
                                       category=product.category)
            dispatcher.utter_message(text=texts.CONSENT_YES if yes else texts.CONSENT_NO)
        elif awaiting == "satisfaction":
            profiles.record(tracker.sender_id, InteractionKind.SATISFACTION, request_id=tracker.get_slot("request_id"),
                            detail={"satisfied": yes})
            dispatcher.utter_message(text=texts.SATISFIED if yes else texts.NOT_SATISFIED)
        else:
            dispatcher.utter_message(text=texts.NOTHING_PENDING_YES if yes else texts.NOTHING_PENDING_NO)
        return [SlotSet("awaiting", None)]


class ActionHandoff(ShopAction):
    """Hand over to a person: answer politely and flag the conversation for support."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_handoff"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Flag for review and tell the customer what happens next."""
        text = str((tracker.latest_message or {}).get("text") or "")[:500]
        self.services.profiles.record(
            tracker.sender_id, InteractionKind.HANDOFF, request_id=tracker.get_slot("request_id"),
            detail={"message": text},
        )
        dispatcher.utter_message(text=texts.HANDOFF)
        return []


class ActionRephrase(ShopAction):
    """Low NLU confidence: offer the likeliest meanings as buttons."""

    def name(self) -> str:
        """The action's name in the domain."""
        return "action_rephrase"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Show up to three intents the message may have meant, plus a handover."""
        ranking = (tracker.latest_message or {}).get("intent_ranking") or []
        options = [r.get("name") for r in ranking if r.get("name") in texts.REPHRASE_OPTIONS][:3]
        if "human_handoff" not in options:
            options.append("human_handoff")
        buttons = [{"title": texts.REPHRASE_OPTIONS[name], "payload": f"/{name}"} for name in options]
        dispatcher.utter_message(text=texts.REPHRASE, buttons=buttons)
        return []

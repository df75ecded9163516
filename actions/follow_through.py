"""Greeting a customer (welcoming a returning one back) and handing over to a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import texts
from actions.base import Events, ShopAction
from retrieval.contract import ActionName, SlotName
from retrieval.vocabulary import singular_phrase
from store.models import InteractionKind

__all__ = ["ActionGreet", "ActionHandoff"]


class ActionGreet(ShopAction):
    """Say hello — and welcome a returning customer back with what was learned."""

    def name(self) -> str:
        """The action's name in the domain."""
        return ActionName.GREET

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


class ActionHandoff(ShopAction):
    """Hand over to a person: answer politely and flag the conversation for support."""

    def name(self) -> str:
        """The action's name in the domain."""
        return ActionName.HANDOFF

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """Flag for review and tell the customer what happens next."""
        text = str((tracker.latest_message or {}).get("text") or "")[:500]
        self.services.profiles.record(
            tracker.sender_id, InteractionKind.HANDOFF, request_id=tracker.get_slot(SlotName.REQUEST_ID),
            detail={"message": text},
        )
        dispatcher.utter_message(text=texts.HANDOFF)
        return []

"""The one shopping action: slots → conversation model → reply, feedback recorded.

Every shopping intent is routed here by a rule (``data/rules/rules.yml``). The action reads the
conversation model from the ``shop_state`` slot, turns the latest message into a move
(:func:`actions.moves.move_from`), applies it (:func:`actions.conversation.apply`), says the
reply, records what the customer told us (impressions, likes, dislikes, critiques, choices,
consent) and writes the model back. The slots the console reads (``shown_items``,
``liked_items``, ``rejected_items``, ``awaiting``, ``request_id``) are set from the model. The
items seen so far travel only inside ``shop_state`` (its ``seen``): a copy in a slot of its own,
which nothing read, stored every one of them again with each list shown.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import Events, ShopAction
from actions.catalog_shop import CatalogShop
from actions.conversation import Effect, Reply, State, apply
from actions.moves import move_from
from actions.payloads import new_request_id, recommendation_payload
from actions.services import Services
from retrieval.contract import NAMED_ATTRIBUTES, ActionName, Awaiting, RasaAction, SlotName, taught_attributes, wrapped
from store.models import InteractionKind

__all__ = ["RULED_OUT_ATTRIBUTES", "ActionShop"]

#: Attributes a ruled-out word ("not leather") counts against in the profile: a use ("not for outdoors")
#: is too loosely worded to hold against the customer's taste.
RULED_OUT_ATTRIBUTES = NAMED_ATTRIBUTES


class ActionShop(ShopAction):
    """Apply the customer's move to the shopping conversation and answer."""

    def name(self) -> str:
        """The action's name in the domain."""
        return ActionName.SHOP

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """One turn of the shopping conversation."""
        services = self.services
        sender = tracker.sender_id
        snapshot = services.profiles.snapshot(sender)
        state = State.from_dict(tracker.get_slot(SlotName.SHOP_STATE))
        shop = CatalogShop(services.recommender, services.vocabulary, snapshot,
                           personalised=services.personalised(sender), off_topic=services.off_topic,
                           answers=services.answers, collaborative=services.collaborative)
        move = move_from(tracker.latest_message or {}, state, services.vocabulary, services.recommender.catalog)
        askable = snapshot.consent is None and not snapshot.consent_asked
        new_state, reply = apply(state, move, shop, consent_askable=askable)
        if new_state.pending == Awaiting.CONSENT and state.pending != Awaiting.CONSENT:
            services.profiles.mark_consent_asked(sender)
        request_id = self._say(dispatcher, reply, services, sender)
        self._record(services, sender, reply.effects, new_state, request_id or tracker.get_slot(SlotName.REQUEST_ID))
        events: Events = [SlotSet(SlotName.SHOP_STATE, new_state.to_dict())]
        if reply.cards:
            events += [SlotSet(SlotName.SHOWN_ITEMS, list(new_state.shown)),
                       SlotSet(SlotName.SHOWN_REASONS, list(new_state.reasons)),
                       SlotSet(SlotName.REQUEST_ID, request_id)]
        for slot, value in ((SlotName.LIKED_ITEMS, new_state.liked), (SlotName.REJECTED_ITEMS, new_state.rejected)):
            if list(value) != list(tracker.get_slot(slot) or []):
                events.append(SlotSet(slot, list(value)))
        awaiting = new_state.pending if new_state.pending in (Awaiting.CONSENT, Awaiting.SATISFACTION) else None
        if awaiting != tracker.get_slot(SlotName.AWAITING):
            events.append(SlotSet(SlotName.AWAITING, awaiting))
        # The shop always waits for the customer next (every rule and story says so): telling Rasa
        # spares it a second run of every policy over the whole conversation in each turn.
        events.append(FollowupAction(RasaAction.LISTEN))
        return events

    @staticmethod
    def _say(dispatcher: CollectingDispatcher, reply: Reply, services: Services, sender: str) -> str | None:
        """Utter the reply; returns the request id of the cards shown, if any."""
        buttons = [{"title": title, "payload": payload} for title, payload in reply.buttons]
        lines = list(reply.lines)
        last_carries_buttons = not reply.cards and not reply.question
        for index, line in enumerate(lines):
            last = index == len(lines) - 1
            dispatcher.utter_message(text=line, buttons=buttons if last and last_carries_buttons else None)
        request_id = None
        if reply.cards:
            request_id = new_request_id()
            dispatcher.utter_message(text=reply.intro,
                                     json_message=wrapped(recommendation_payload(reply.cards, request_id)))
            services.profiles.record_many(
                sender, [(InteractionKind.IMPRESSION, s.product.id, s.rank) for s in reply.cards],
                request_id=request_id)
        if reply.question:
            dispatcher.utter_message(text=reply.question, buttons=buttons or None)
        elif not lines and buttons:
            dispatcher.utter_message(buttons=buttons)
        return request_id

    @staticmethod
    def _record(services: Services, sender: str, effects: tuple[Effect, ...], state: State,
                request_id: str | None) -> None:
        """Store what the customer told us: the profile learns only with consent (the store decides)."""
        profiles = services.profiles
        recommender = services.recommender
        catalog = recommender.catalog
        for effect in effects:
            product = catalog.get(effect.item_id) if effect.item_id else None
            if effect.kind in ("like", "dislike") and product is not None:
                liked = effect.kind == "like"
                profiles.record(sender, InteractionKind.LIKE if liked else InteractionKind.DISLIKE,
                                item_id=product.id, request_id=request_id)
                profiles.learn(sender, vector=recommender.item_vector(product.id), weight=1.0 if liked else -1.0,
                               attributes=taught_attributes(product), category=product.category if liked else None)
            elif effect.kind == "choose" and product is not None:
                profiles.record(sender, InteractionKind.CHOICE, item_id=product.id, request_id=request_id)
                profiles.learn(sender, vector=recommender.item_vector(product.id), weight=2.0,
                               attributes={"category": product.category}, category=product.category)
            elif effect.kind == "critique":
                need = state.need
                profiles.record(sender, InteractionKind.CRITIQUE, item_id=effect.item_id, request_id=request_id,
                                detail={"critique": effect.value, "budget_max": need.budget_max,
                                        "price_cap": need.price_cap, "exclusions": list(need.exclusions)})
                if effect.value == "cheaper" and need.price_cap is not None:
                    profiles.learn(sender, budget_max=need.price_cap)
            elif effect.kind == "rule_out":
                values = services.vocabulary.values
                attributes: dict[str, str | None] = {
                    name: value for value in effect.value or () for name in RULED_OUT_ATTRIBUTES
                    if value.casefold() in (v.casefold() for v in values.get(name, []))
                }
                if attributes:
                    profiles.learn(sender, attributes=attributes, weight=-1.0)
            elif effect.kind == "reject_list":
                profiles.record(sender, InteractionKind.CRITIQUE, request_id=request_id,
                                detail={"critique": "none of these", "items": list(effect.value or [])})
            elif effect.kind == "consent":
                profiles.set_consent(sender, bool(effect.value))
                if effect.value:  # what they liked in this conversation is worth keeping now
                    for item_id in state.liked:
                        liked_product = catalog.get(item_id)
                        if liked_product is not None:
                            profiles.learn(sender, vector=recommender.item_vector(item_id),
                                           attributes=taught_attributes(liked_product),
                                           category=liked_product.category)
            elif effect.kind == "satisfied":
                profiles.record(sender, InteractionKind.SATISFACTION, request_id=request_id,
                                detail={"satisfied": bool(effect.value)})

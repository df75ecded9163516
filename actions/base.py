"""The base of every action: services through a seam, and never a silent failure."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services as services_module
from actions import texts
from actions.services import Services

__all__ = ["Events", "ShopAction"]

logger = logging.getLogger(__name__)
Events = list[dict[str, Any]]


class ShopAction(Action, ABC):
    """An action that gets its services injected and answers politely when it fails.

    Subclasses implement :meth:`act`; :meth:`run` calls it, and if anything
    raises, logs the traceback and tells the customer something went wrong
    instead of leaving them without an answer.

    Args:
        services: returns the services to use (tests pass their own).
    """

    def __init__(self, services: Callable[[], Services] | None = None) -> None:
        self._services = services or services_module.default_services

    @property
    def services(self) -> Services:
        """The shared services (built on first use)."""
        return self._services()

    @abstractmethod
    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]) -> Events:
        """The action's work; see :meth:`rasa_sdk.Action.run`."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> Events:
        """Run :meth:`act`, turning any error into a polite answer."""
        try:
            return self.act(dispatcher, tracker, domain)
        except Exception:
            logger.exception("%s failed for sender %s", self.name(), tracker.sender_id)
            dispatcher.utter_message(text=texts.SOMETHING_WENT_WRONG)
            return []

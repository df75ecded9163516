"""The base of every action: services through a seam, and never a silent failure."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import services as services_module
from actions import texts
from actions.services import Services
from retrieval.errors import RetrievalError
from store.errors import StoreError, StoreUnavailableError

__all__ = ["Events", "ShopAction", "failure_of"]

logger = logging.getLogger(__name__)
Events = list[dict[str, Any]]
#: The action server's event loop, seen from the worker thread an action runs in.
_SERVER_LOOP: ContextVar[asyncio.AbstractEventLoop | None] = ContextVar("server_loop", default=None)


def _limit_worker_threads() -> None:
    """Each worker thread gets the serving thread limits: FAISS's OpenMP setting is per thread."""
    from retrieval.settings import RetrievalSettings

    RetrievalSettings.from_env().limit_serving_threads()


#: The threads actions run in (as many as asyncio.to_thread would use).
_WORKERS = ThreadPoolExecutor(max_workers=min(32, (os.cpu_count() or 1) + 4), thread_name_prefix="action",
                              initializer=_limit_worker_threads)


def failure_of(error: Exception) -> str:
    """What failed, for the log line of an action that raised: the layer, then the error's own message.

    >>> failure_of(StoreUnavailableError("a like", 6, ConnectionError("refused")))
    'the database was unreachable: a like was NOT saved: the database was unreachable for 6 attempts (refused)'
    >>> failure_of(KeyError("colour"))
    "unexpected KeyError: 'colour'"
    """
    if isinstance(error, StoreUnavailableError):
        return f"the database was unreachable: {error}"
    if isinstance(error, StoreError):
        return f"the store refused: {error}"
    if isinstance(error, RetrievalError):
        return f"the catalog search failed: {error}"
    return f"unexpected {type(error).__name__}: {error}"


class ShopAction(Action, ABC):  # type: ignore[misc]  # rasa_sdk ships no type information
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
        """Run :meth:`act` in a worker thread, turning any error into a polite answer.

        The model, FAISS and the database block; off the event loop, one customer's slow
        database call (or retry pause) does not hold up another customer's turn.
        """
        loop = asyncio.get_running_loop()
        _SERVER_LOOP.set(loop)
        context = contextvars.copy_context()  # the worker sees the loop, for later()
        try:
            events: Events = await loop.run_in_executor(_WORKERS, context.run, self.act, dispatcher, tracker, domain)
            return events
        except Exception as error:
            # The customer hears the same polite sentence whatever failed; the log says which layer.
            logger.exception("%s failed for sender %s: %s", self.name(), tracker.sender_id, failure_of(error))
            dispatcher.utter_message(text=texts.SOMETHING_WENT_WRONG)
            return []

    @staticmethod
    def later(coroutine: Coroutine[Any, Any, Any]) -> Future[Any]:
        """Run a coroutine on the action server's event loop after this turn (from :meth:`act`'s thread).

        Raises:
            RuntimeError: outside :meth:`run` (no event loop to run it on).
        """
        loop = _SERVER_LOOP.get()
        if loop is None:
            coroutine.close()
            raise RuntimeError("later() is for an action run by run(): there is no event loop here")
        return asyncio.run_coroutine_threadsafe(coroutine, loop)

"""Customers do not wait for one another: an action's blocking work runs off the action server's event loop."""

from __future__ import annotations

import asyncio
import threading
import time

from rasa_sdk.executor import CollectingDispatcher

from actions.shop import ActionShop
from store.profiles import ProfileSnapshot, ProfileStore
from tests.actions_support import cards, make_services, shop_tracker

STALL_SECONDS = 3.0


class StallingProfiles(ProfileStore):
    """A profile store whose reads stall for one customer, as a locked table or a dead replica would."""

    def __init__(self, store: ProfileStore, slow_sender: str) -> None:
        super().__init__(store.engine)
        self.slow_sender = slow_sender
        self.stalled = threading.Event()

    def snapshot(self, sender_id: str) -> ProfileSnapshot:
        if sender_id == self.slow_sender:
            self.stalled.set()
            time.sleep(STALL_SECONDS)  # blocking, like a driver waiting on a socket
        return super().snapshot(sender_id)


def test_a_stalled_database_call_does_not_hold_up_another_customer() -> None:
    services = make_services()
    profiles = StallingProfiles(services.profiles, slow_sender="slow")
    services.profiles = profiles
    action = ActionShop(lambda: services)
    finished: dict[str, float] = {}

    async def turn(sender: str) -> list[dict[str, object]]:
        dispatcher = CollectingDispatcher()
        await action.run(dispatcher, shop_tracker("a lamp under 200", sender=sender), {})
        finished[sender] = time.perf_counter()
        return cards(dispatcher)

    async def both() -> tuple[list[dict[str, object]], list[dict[str, object]], float]:
        slow = asyncio.create_task(turn("slow"))
        while not profiles.stalled.is_set():  # the slow customer's turn is inside its database call
            await asyncio.sleep(0.01)
        started = time.perf_counter()
        fast_cards = await turn("fast")
        return await slow, fast_cards, started

    slow_cards, fast_cards, fast_started = asyncio.run(both())
    assert fast_cards and slow_cards  # both customers got their lamps
    assert finished["fast"] < finished["slow"]  # the other customer was answered while the stall went on
    assert finished["fast"] - fast_started < STALL_SECONDS


def test_actions_run_in_workers_with_the_serving_thread_limits() -> None:
    """FAISS's OpenMP limit is per thread: each worker an action runs in gets it, not only the first."""
    import faiss

    from actions.base import Events, ShopAction

    seen: list[tuple[str, int]] = []

    class Probe(ShopAction):
        def name(self) -> str:
            return "action_probe"

        def act(self, dispatcher: CollectingDispatcher, tracker: object, domain: dict[str, object]) -> Events:
            time.sleep(0.2)  # keep this worker busy so the next call needs another one
            seen.append((threading.current_thread().name, faiss.omp_get_max_threads()))
            return []

    async def many() -> None:
        probe = Probe(lambda: make_services())
        await asyncio.gather(*(probe.run(CollectingDispatcher(), shop_tracker("hi", sender=f"c{i}"), {})
                               for i in range(3)))

    asyncio.run(many())
    assert len({name for name, _ in seen}) == 3  # three workers
    assert all(name.startswith("action") and threads == 1 for name, threads in seen), seen

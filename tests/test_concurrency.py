"""Customers do not wait for one another: an action's blocking work runs off the action server's event loop.

Both tests measure order, not seconds: a stalled call lasts until the test has seen what it
waits for, so a loaded machine only makes them slower. ``LIMIT_SECONDS`` only bounds a broken
build, where that never happens and the test would otherwise wait forever.
"""

from __future__ import annotations

import asyncio
import threading

from rasa_sdk.executor import CollectingDispatcher

from actions.shop import ActionShop
from store.profiles import ProfileSnapshot, ProfileStore
from tests.actions_support import cards, make_services, shop_tracker

#: How long a stalled call waits to be released before giving up (reached only when the feature is broken).
LIMIT_SECONDS = 30.0


class StallingProfiles(ProfileStore):
    """A profile store whose reads stall for one customer, as a locked table or a dead replica would.

    The stall lasts until :attr:`release` is set; :attr:`released` says whether it was (``False``:
    the wait gave up after ``LIMIT_SECONDS``).
    """

    def __init__(self, store: ProfileStore, slow_sender: str) -> None:
        super().__init__(store.engine)
        self.slow_sender = slow_sender
        self.stalled = threading.Event()
        self.release = threading.Event()
        self.released: bool | None = None

    def snapshot(self, sender_id: str) -> ProfileSnapshot:
        if sender_id == self.slow_sender:
            self.stalled.set()
            self.released = self.release.wait(LIMIT_SECONDS)  # blocking, like a driver waiting on a socket
        return super().snapshot(sender_id)


def test_a_stalled_database_call_does_not_hold_up_another_customer() -> None:
    services = make_services()
    profiles = StallingProfiles(services.profiles, slow_sender="slow")
    services.profiles = profiles
    action = ActionShop(lambda: services)
    answered: list[str] = []

    async def turn(sender: str) -> list[dict[str, object]]:
        dispatcher = CollectingDispatcher()
        await action.run(dispatcher, shop_tracker("a lamp under 200", sender=sender), {})
        answered.append(sender)
        return cards(dispatcher)

    async def both() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        slow = asyncio.create_task(turn("slow"))
        while not profiles.stalled.is_set() and not slow.done():
            await asyncio.sleep(0.01)
        assert profiles.stalled.is_set(), "the slow customer's turn never read the profile"
        # the slow customer's turn is inside its database call, which lasts until the other is answered
        fast_cards = await turn("fast")
        profiles.release.set()
        return await slow, fast_cards

    slow_cards, fast_cards = asyncio.run(both())
    assert fast_cards and slow_cards  # both customers got their lamps
    assert answered == ["fast", "slow"]  # the other customer was answered while the stall went on
    assert profiles.released  # …and the stalled call was still waiting for that, not given up


def test_actions_run_in_workers_with_the_serving_thread_limits() -> None:
    """FAISS's OpenMP limit is per thread: each worker an action runs in gets it, not only the first."""
    import faiss

    from actions.base import Events, ShopAction

    seen: list[tuple[str, int]] = []
    # no call finishes before all three are under way, so each needs a worker of its own
    all_under_way = threading.Barrier(3, timeout=LIMIT_SECONDS)

    class Probe(ShopAction):
        def name(self) -> str:
            return "action_probe"

        def act(self, dispatcher: CollectingDispatcher, tracker: object, domain: dict[str, object]) -> Events:
            all_under_way.wait()
            seen.append((threading.current_thread().name, faiss.omp_get_max_threads()))
            return []

    async def many() -> None:
        probe = Probe(lambda: make_services())
        await asyncio.gather(*(probe.run(CollectingDispatcher(), shop_tracker("hi", sender=f"c{i}"), {})
                               for i in range(3)))

    asyncio.run(many())
    assert len({name for name, _ in seen}) == 3, seen  # three workers
    assert all(name.startswith("action") and threads == 1 for name, threads in seen), seen

"""Rasa 3.6's ``RedisLockStore`` is not safe across processes (RasaHQ/rasa#9213), on this machine's Redis.

Two processes issue tickets for one conversation at the same time, with Rasa's own lock store code
(in the Rasa environment). A ticket is a read-modify-write of one Redis key, so both processes can
be handed the same ticket number, and each believes it holds the conversation. That is why the
gateway routes every message of a sender to one Rasa replica (inside one process the synchronous
ticket calls never interleave); tests/test_production.py shows a flood for one sender through the
gateway stays serialised.

A ticket left by a replica that died mid-turn holds its conversation until it expires, and a ticket
issued less than a second after it expires with it and is never served: the gateway resends a
message its replica died holding only after that (tests/test_production_failover.py).
"""

from __future__ import annotations

import json
import secrets
import subprocess

import pytest

from evaluation.production_stack import services_available
from evaluation.stack import RASA

pytestmark = pytest.mark.production

#: Runs in .venv-rasa: issue tickets for one conversation as fast as possible, print the numbers got.
ISSUE_TICKETS = r"""
import json, sys, time
from rasa.core.lock_store import RedisLockStore
store = RedisLockStore(host="127.0.0.1", port=6379, key_prefix=sys.argv[1])
start_at, count = float(sys.argv[2]), int(sys.argv[3])
while time.time() < start_at:
    pass
got = [store.issue_ticket("one-conversation", 60) for _ in range(count)]
print(json.dumps(got))
"""


def issue_concurrently(prefix: str, processes: int, count: int) -> list[list[int]]:
    import time

    start_at = time.time() + 3.0
    runs = [subprocess.Popen([str(RASA.parent / "python"), "-c", ISSUE_TICKETS, prefix, str(start_at), str(count)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(processes)]
    results = []
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err[-2000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_two_processes_can_be_handed_the_same_ticket() -> None:
    if services_available() and "Redis" in (services_available() or ""):
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    if not RASA.exists():
        pytest.skip("the Rasa environment is missing")
    prefix = f"shopkeeperrace{secrets.token_hex(4)}"
    try:
        first, second = issue_concurrently(prefix, 2, 400)
        shared = set(first) & set(second)
        one_process = issue_concurrently(prefix + "x", 1, 800)[0]
    finally:
        subprocess.run(["bash", "-c", f"redis-cli -h 127.0.0.1 --scan --pattern '{prefix}*' "
                        "| xargs -r redis-cli -h 127.0.0.1 del"], capture_output=True, timeout=30, check=False)
    print(f"\n2 processes x 400 tickets for one conversation: {len(shared)} ticket numbers handed to both")
    # one process alone never hands out a number twice…
    assert len(set(one_process)) == len(one_process)
    # …two processes do, as soon as their calls overlap (they did here unless one finished first)
    overlapped = min(second) < max(first) and min(first) < max(second)
    assert shared or not overlapped


#: Runs in .venv-rasa: a turn's ticket left behind by a dead replica, then the next turn of that
#: conversation, started ``gap`` seconds later; prints how long each next turn waited for the lock
#: (``null``: still waiting after four lifetimes).
DEAD_TICKET = r"""
import asyncio, json, sys, time
from rasa.core.lock_store import RedisLockStore
store = RedisLockStore(host="127.0.0.1", port=6379, key_prefix=sys.argv[1])
lifetime = float(sys.argv[2])

async def next_turn(conversation, gap):
    store.issue_ticket(conversation, lifetime)  # the dead turn's: never finished, never cleaned up
    await asyncio.sleep(gap)
    started = time.monotonic()

    async def turn():
        async with store.lock(conversation, lock_lifetime=lifetime):
            return time.monotonic() - started

    try:
        return await asyncio.wait_for(turn(), 4 * lifetime)
    except asyncio.TimeoutError:
        return None

async def main():
    print(json.dumps([await next_turn(f"gap-{gap}", gap) for gap in map(float, sys.argv[3:])]))

asyncio.run(main())
"""


def test_a_turn_started_just_after_a_dead_one_waits_forever() -> None:
    """Why the gateway resends a message whose replica died only once the dead turn's ticket has expired.

    A ticket also expires while it waits; Rasa's lock store polls once a second, so a ticket issued
    less than a second after a dead one is found expired together with it, and the conversation's
    queue is then empty but its number never comes up.
    """
    if services_available() and "Redis" in (services_available() or ""):
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    if not RASA.exists():
        pytest.skip("the Rasa environment is missing")
    prefix, lifetime = f"shopkeeperdead{secrets.token_hex(4)}", 3.0
    try:
        run = subprocess.run([str(RASA.parent / "python"), "-c", DEAD_TICKET, prefix, str(lifetime), "0.1",
                              str(lifetime + 1.0)], capture_output=True, text=True, timeout=120, check=False)
    finally:
        subprocess.run(["bash", "-c", f"redis-cli -h 127.0.0.1 --scan --pattern '{prefix}*' "
                        "| xargs -r redis-cli -h 127.0.0.1 del"], capture_output=True, timeout=30, check=False)
    assert run.returncode == 0, run.stderr[-2000:]
    soon, after_expiry = json.loads(run.stdout.strip().splitlines()[-1])
    print(f"\nnext turn 0.1 s after a dead one: {'never served' if soon is None else f'served after {soon:.1f} s'}; "
          f"after the dead ticket expired: served after {after_expiry:.2f} s")
    assert soon is None
    assert after_expiry is not None and after_expiry < 1.0

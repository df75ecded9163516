"""Retrying a unit of work when the database connection fails.

A PostgreSQL restart or failover drops every pooled connection and refuses new ones
for a few seconds. A write made in that window must not vanish: the whole unit of
work (one transaction) is retried with growing pauses, each attempt logged; when the
database stays away longer, :class:`StoreUnavailableError` is raised, so the caller
(an action) reports the failure instead of carrying on as if it were saved.

Only connection-level errors are retried (``OperationalError``, ``InterfaceError``, or
any DBAPI error that invalidated its connection); constraint violations and programming
errors are raised at once.

Caveat: when the connection breaks *during* ``COMMIT``, the database may have committed
before the client heard it; the retry then applies the unit of work a second time (an
extra interaction row, or a like counted twice). That is the usual at-least-once
trade-off, preferred here over losing the write.

>>> calls = []
>>> def flaky() -> str:
...     calls.append(1)
...     if len(calls) < 3:
...         raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection"))
...     return "saved"
>>> run_with_retry(flaky, what="a test write", policy=RetryPolicy(delays=(0, 0, 0)))
'saved'
>>> len(calls)
3
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from store.errors import StoreUnavailableError

__all__ = ["RetryPolicy", "StoreUnavailableError", "is_connection_error", "retrying", "run_with_retry"]

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """Pauses (seconds) between attempts; ``len(delays) + 1`` attempts in all.

    The default rides out about 8 seconds of outage, a PostgreSQL restart on one machine.
    """

    delays: Sequence[float] = (0.25, 0.5, 1.0, 2.0, 4.0)


def is_connection_error(error: BaseException) -> bool:
    """Whether an error means the connection (not the statement) failed."""
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def run_with_retry(work: Callable[[], T], *, what: str, policy: RetryPolicy | None = None) -> T:
    """Call ``work`` (one whole transaction), again after a pause when the connection fails.

    Args:
        work: the unit of work; it must open its own session/transaction.
        what: what is being saved, for the log and the error.
        policy: the pauses between attempts.

    Raises:
        StoreUnavailableError: when every attempt failed on the connection.
    """
    delays = list((policy or RetryPolicy()).delays)
    attempt = 0
    while True:
        attempt += 1
        try:
            result = work()
        except Exception as error:
            if not is_connection_error(error):
                raise
            if attempt > len(delays):
                logger.error("%s NOT saved: database unreachable after %d attempts: %s", what, attempt, error)
                raise StoreUnavailableError(what, attempt, error) from error
            pause = delays[attempt - 1]
            logger.warning("database connection failed during %s (attempt %d of %d), retrying in %.2fs: %s",
                           what, attempt, len(delays) + 1, pause, str(error).splitlines()[0])
            time.sleep(pause)
            continue
        if attempt > 1:
            logger.warning("%s succeeded after %d attempts (the database connection had failed)", what, attempt)
        return result


def retrying(what: str) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Decorate a method whose body is one unit of work with :func:`run_with_retry`.

    The instance's ``retry_policy`` attribute, when present, sets the pauses.
    """

    def decorate(method: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(method)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            policy = getattr(args[0], "retry_policy", None) if args else None
            return run_with_retry(lambda: method(*args, **kwargs), what=what, policy=policy)

        return wrapper

    return decorate

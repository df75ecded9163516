"""Pseudonyms for measuring customers who did not agree to be remembered.

A pseudonym is a keyed hash (HMAC-SHA256) of the sender id. The key of each
rotation period is derived from the secret (``SHOPKEEPER_PSEUDONYM_KEY``) and
the period's number, so one customer's pseudonym changes every
``SHOPKEEPER_PSEUDONYM_ROTATION_DAYS`` days: measurement stays possible inside
a period (the experiment report counts customers), and rows of different
periods cannot be linked to each other or to a sender id without the secret.
Replacing the secret makes every earlier pseudonym unlinkable for good.

>>> pseudonyms = Pseudonymiser(b"k" * 32, rotation_days=30)
>>> first = pseudonyms.pseudonym("web-1", at=datetime(2026, 1, 1, tzinfo=UTC))
>>> first == pseudonyms.pseudonym("web-1", at=datetime(2026, 1, 2, tzinfo=UTC))
True
>>> first == pseudonyms.pseudonym("web-1", at=datetime(2026, 3, 1, tzinfo=UTC))
False
>>> len(first) <= PSEUDONYM_LENGTH, "web-1" in first
(True, False)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, timedelta

__all__ = ["PSEUDONYM_LENGTH", "Pseudonymiser"]

#: Characters of a stored pseudonym: ``p<period>-`` and 32 hex digits fit in this.
PSEUDONYM_LENGTH = 64


class Pseudonymiser:
    """Keyed, rotating pseudonyms of sender ids.

    Args:
        key: the secret (at least 16 bytes); a random one when ``None``, which makes
            pseudonyms unlinkable across processes (fine for tests, not for replicas).
        rotation_days: length of a period; a customer's pseudonym changes with the period.

    Raises:
        ValueError: on a key shorter than 16 bytes or a period shorter than one day.
    """

    def __init__(self, key: bytes | None = None, *, rotation_days: int = 30) -> None:
        key = secrets.token_bytes(32) if key is None else key
        if len(key) < 16:
            raise ValueError("the pseudonym key must be at least 16 bytes")
        if rotation_days < 1:
            raise ValueError(f"the pseudonym rotation must be at least one day, not {rotation_days}")
        self._key = key
        self.rotation_days = rotation_days

    def period(self, at: datetime) -> int:
        """The number of the rotation period ``at`` falls in (days since 1970 // rotation days)."""
        return (at.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)).days // self.rotation_days

    def pseudonym(self, sender_id: str, *, at: datetime | None = None) -> str:
        """The sender's pseudonym in the period of ``at`` (now when ``None``)."""
        return self._of(sender_id, self.period(at or datetime.now(UTC)))

    def pseudonyms_since(self, sender_id: str, since: datetime, *, until: datetime | None = None) -> list[str]:
        """Every pseudonym the sender had from ``since`` to ``until`` (now), to erase or export them."""
        first, last = self.period(since), self.period(until or datetime.now(UTC))
        return [self._of(sender_id, period) for period in range(first, last + 1)]

    def stable(self, identifier: str) -> str:
        """A pseudonym that does not rotate, for a shop's own customer ids in an imported order history.

        Their purchases must stay linked to each other for "customers who bought this also bought" to be
        learned; the key still keeps them from being linked to the shop's ids or to a chat's sender ids.
        """
        key = hmac.new(self._key, b"pseudonym-stable", hashlib.sha256).digest()
        return "s-" + hmac.new(key, identifier.encode(), hashlib.sha256).hexdigest()[:32]

    def lookback(self, days: int) -> datetime:
        """The start of the window ``days`` long ending now (for :meth:`pseudonyms_since`)."""
        return datetime.now(UTC) - timedelta(days=days)

    def _of(self, sender_id: str, period: int) -> str:
        period_key = hmac.new(self._key, f"pseudonym-period:{period}".encode(), hashlib.sha256).digest()
        digest = hmac.new(period_key, sender_id.encode(), hashlib.sha256).hexdigest()[:32]
        return f"p{period}-{digest}"

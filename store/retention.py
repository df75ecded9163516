"""Storage limitation: delete what is older than the retention period, everywhere.

``SHOPKEEPER_RETENTION_DAYS`` (90 by default) after the last activity, :func:`purge` deletes

* **conversations** in Rasa's tracker store whose newest event is older (all their events;
  a conversation still going on is kept whole);
* **interactions** logged before the cut-off, under a customer or a pseudonym;
* **summaries** of the review console (with their tags, notes and audit entries) of those
  conversations, and of any conversation last active before the cut-off;
* **audit entries** of the console older than the cut-off;
* **customers** last seen before the cut-off, with their profile, consent history and
  interactions.

``dry_run`` runs the same statements inside transactions that are rolled back, so the
counts are exactly what a real run would delete. Run it daily (``make purge``; see
``docs/PRIVACY.md`` for a cron line)::

    report = purge(store_engine, tracker_engine, retention_days=90)
    report.as_dict()   # {"conversations": 3, "events": 120, "interactions": 40, …}
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, inspect, or_, select
from sqlalchemy.orm import Session

from store.models import (
    ConsentEvent,
    ConsoleAccess,
    ConversationReview,
    ConversationSummary,
    ConversationTag,
    Customer,
    Interaction,
    Profile,
)
from store.tracker import events

__all__ = ["PurgeReport", "forget_reviews", "purge"]

logger = logging.getLogger(__name__)
#: Senders deleted per statement (keeps ``IN (…)`` lists well inside every database's limits).
_CHUNK = 500


@dataclass(frozen=True)
class PurgeReport:
    """What a purge deleted (or, in a dry run, would delete)."""

    cutoff: datetime
    dry_run: bool
    conversations: int = 0
    events: int = 0
    interactions: int = 0
    summaries: int = 0
    customers: int = 0
    profiles: int = 0
    consent_events: int = 0
    audit_entries: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form (the cut-off as ISO 8601)."""
        return {**asdict(self), "cutoff": self.cutoff.isoformat()}


def _chunks(items: Sequence[str]) -> list[Sequence[str]]:
    return [items[i:i + _CHUNK] for i in range(0, len(items), _CHUNK)]


def _rowcount(result: Any) -> int:
    return int(result.rowcount or 0)


def _purge_tracker(tracker: Engine, cutoff_epoch: float, dry_run: bool) -> tuple[list[str], int]:
    """Delete the conversations last active before the cut-off; returns their senders and the event count."""
    if not inspect(tracker).has_table("events"):
        return [], 0
    with tracker.connect() as connection:
        stale = sorted(connection.scalars(
            select(events.c.sender_id).group_by(events.c.sender_id)
            .having(func.max(events.c.timestamp) < cutoff_epoch)
        ).all())
        deleted = sum(_rowcount(connection.execute(delete(events).where(events.c.sender_id.in_(chunk))))
                      for chunk in _chunks(stale))
        if dry_run:
            connection.rollback()
        else:
            connection.commit()
    return stale, deleted


def forget_reviews(session: Session, sender_ids: list[str]) -> None:
    """Delete the console's reviews, tags and audit entries of erased conversations.

    Runs inside the caller's transaction. The console's summaries call it when they notice an
    erasure ("forget me"), :func:`purge` when conversations age out.
    """
    if sender_ids:
        session.execute(delete(ConversationTag).where(ConversationTag.sender_id.in_(sender_ids)))
        session.execute(delete(ConversationReview).where(ConversationReview.sender_id.in_(sender_ids)))
        session.execute(delete(ConsoleAccess).where(ConsoleAccess.sender_id.in_(sender_ids)))


def _purge_store(session: Session, cutoff: datetime, stale_senders: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    customers = session.scalars(select(Customer.id).where(Customer.last_seen_at < cutoff)).all()
    counts["interactions"] = _rowcount(session.execute(delete(Interaction).where(
        or_(Interaction.created_at < cutoff, Interaction.customer_id.in_(customers)))))
    counts["profiles"] = _rowcount(session.execute(delete(Profile).where(Profile.customer_id.in_(customers))))
    counts["consent_events"] = _rowcount(session.execute(
        delete(ConsentEvent).where(ConsentEvent.customer_id.in_(customers))))
    counts["customers"] = _rowcount(session.execute(delete(Customer).where(Customer.id.in_(customers))))
    cutoff_epoch = cutoff.timestamp()
    summaries = set(session.scalars(select(ConversationSummary.sender_id)
                                    .where(ConversationSummary.last_at < cutoff_epoch)).all())
    for chunk in _chunks(list(stale_senders)):
        summaries.update(session.scalars(select(ConversationSummary.sender_id)
                                         .where(ConversationSummary.sender_id.in_(chunk))).all())
    counts["summaries"] = 0
    for chunk in _chunks(sorted(summaries)):
        counts["summaries"] += _rowcount(session.execute(
            delete(ConversationSummary).where(ConversationSummary.sender_id.in_(chunk))))
        forget_reviews(session, list(chunk))
    # tags and notes of conversations that are gone from the tracker store but never had a summary
    for chunk in _chunks(list(stale_senders)):
        forget_reviews(session, list(chunk))
    counts["audit_entries"] = _rowcount(session.execute(delete(ConsoleAccess).where(ConsoleAccess.at < cutoff)))
    return counts


def purge(store: Engine, tracker: Engine | None, *, retention_days: int, now: datetime | None = None,
          dry_run: bool = False) -> PurgeReport:
    """Delete conversations, interactions, summaries and customers older than ``retention_days``.

    Args:
        store: our database (schema created).
        tracker: Rasa's tracker store, or ``None`` to leave it alone.
        retention_days: days kept after the last activity (at least 1).
        now: the moment the retention counts back from (default: now).
        dry_run: count, delete nothing.

    Returns:
        The counts, per kind of data.

    Raises:
        ValueError: when ``retention_days`` is below 1.
    """
    if retention_days < 1:
        raise ValueError(f"the retention must be at least one day, not {retention_days}")
    cutoff = (now or datetime.now(UTC)) - timedelta(days=retention_days)
    stale, deleted_events = _purge_tracker(tracker, cutoff.timestamp(), dry_run) if tracker is not None else ([], 0)
    with Session(store) as session:
        counts = _purge_store(session, cutoff, stale)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    report = PurgeReport(cutoff=cutoff, dry_run=dry_run, conversations=len(stale), events=deleted_events, **counts)
    logger.info("%s data older than %s: %s", "would purge" if dry_run else "purged", cutoff.isoformat(),
                report.as_dict())
    return report

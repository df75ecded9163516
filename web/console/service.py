"""The console's services: engines, accounts, reviews, summaries — built once, on first use."""

from __future__ import annotations

import functools
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from retrieval.paths import PROJECT_ROOT
from store.db import DEFAULT_RETENTION_DAYS, create_schema, make_engine
from web.console.accounts import AccountStore
from web.console.review import ReviewStore
from web.console.summaries import SyncReport, sync_summaries
from web.console.transcripts import TrackerEvent, load_events

__all__ = ["Console", "ConsoleConfig", "featurized_slots"]

logger = logging.getLogger(__name__)

DOMAIN_DIR = PROJECT_ROOT / "bot" / "domain"


@dataclass(frozen=True)
class ConsoleConfig:
    """What the console needs to know.

    Attributes:
        store_url: our database (users, sessions, summaries, reviews).
        tracker_url: Rasa's tracker store, or ``None`` when not configured.
        https: whether the site is served over HTTPS (session cookies get ``Secure``).
        domain_dir: the Rasa domain, to know which slots the exported stories must set.
        session_seconds: how long a sign-in lasts.
        erasure_check_seconds: look for erased conversations ("forget me") at most this often;
            new conversations are picked up on every page view. ``0``: on every view.
        retention_days: how long audit entries are kept (``SHOPKEEPER_RETENTION_DAYS``; the purge deletes).
    """

    store_url: str
    tracker_url: str | None
    https: bool = False
    domain_dir: Path = DOMAIN_DIR
    session_seconds: float = 12 * 3600
    erasure_check_seconds: float = 10.0
    retention_days: int = DEFAULT_RETENTION_DAYS


def featurized_slots(domain_dir: Path) -> frozenset[str]:
    """Slots that influence the dialogue (``influence_conversation`` not false), plus ``requested_slot``.

    Slots of type ``any`` never influence it; other types do unless told otherwise.
    """
    names = {"requested_slot"}
    for path in sorted(domain_dir.glob("*.yml")) if domain_dir.is_dir() else [domain_dir]:
        try:
            content: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            logger.warning("cannot read the domain file %s: %s", path, error)
            continue
        for name, spec in (content.get("slots") or {}).items():
            spec = spec or {}
            if spec.get("influence_conversation", spec.get("type") != "any"):
                names.add(str(name))
    return frozenset(names)


class Console:
    """Everything the console's pages call; engines and schema are made on first use.

    Args:
        config: where the data lives.
        accounts: an account store to use instead of one built from ``config`` (tests).
    """

    def __init__(self, config: ConsoleConfig, *, accounts: AccountStore | None = None) -> None:
        self.config = config
        self._accounts = accounts
        self._lock = threading.Lock()
        self._erasures_checked_at = float("-inf")

    @functools.cached_property
    def store(self) -> Engine:
        """Our database, its schema created."""
        engine = self._accounts.engine if self._accounts else make_engine(self.config.store_url)
        create_schema(engine)
        return engine

    @functools.cached_property
    def accounts(self) -> AccountStore:
        """Users, sessions, login throttling."""
        return self._accounts or AccountStore(self.store, session_seconds=self.config.session_seconds)

    @functools.cached_property
    def reviews(self) -> ReviewStore:
        """Tags, notes, reviewed flags."""
        return ReviewStore(self.store)

    @functools.cached_property
    def tracker(self) -> Engine | None:
        """Rasa's tracker store, or ``None`` when not configured."""
        return make_engine(self.config.tracker_url) if self.config.tracker_url else None

    @functools.cached_property
    def story_slots(self) -> frozenset[str]:
        """Slots whose changes an exported test story writes."""
        return featurized_slots(self.config.domain_dir)

    def tracker_ready(self) -> bool:
        """Whether the tracker store exists and has its ``events`` table (Rasa creates it on start)."""
        if self.tracker is None:
            return False
        try:
            return inspect(self.tracker).has_table("events")
        except SQLAlchemyError as error:
            logger.error("tracker store unavailable: %s", error)
            return False

    def sync(self, *, check_erasures: bool | None = None) -> SyncReport | None:
        """Fold new tracker events into the summaries; ``None`` when the tracker store is unavailable.

        Args:
            check_erasures: look for erased conversations now (``None``: when the last look is
                older than ``erasure_check_seconds``).
        """
        if not self.tracker_ready():
            return None
        assert self.tracker is not None
        with self._lock:
            now = time.monotonic()
            if check_erasures is None:
                check_erasures = now - self._erasures_checked_at >= self.config.erasure_check_seconds
            try:
                report = sync_summaries(self.tracker, self.store, check_erasures=check_erasures)
                if check_erasures:
                    self._erasures_checked_at = now
                return report
            except SQLAlchemyError as error:
                logger.error("summary sync failed: %s", error)
                return None

    def events_of(self, sender_id: str) -> list[TrackerEvent]:
        """A conversation's events (empty when unknown, erased, or no tracker store)."""
        if not self.tracker_ready():
            return []
        assert self.tracker is not None
        return load_events(self.tracker, sender_id)

"""Rasa's SQL tracker store, seen from our side.

Rasa writes every conversation event to an ``events`` table (``sender_id``,
``type_name``, ``timestamp``, ``action_name``, ``data`` …). We read it and, when
a customer asks to be forgotten, delete their rows.

Rasa saves a turn's events only after the turn ends, so an action cannot erase
its own conversation directly: rows deleted mid-turn would be written back.
:meth:`ConversationStore.erase_after_turn` waits until the turn that asked is
stored, then deletes.

Why this reader is in ``store`` and not beside the console or the actions: a customer's
conversation is their data. The customer's copy of it (:mod:`store.export`), the retention purge
(:mod:`store.retention`) and "forget me" (the actions, through :class:`ConversationStore`) must all
reach it, and the data layer is the one package every one of them may import. The review console
(``web.console``) and the chat history (``web.chat``) read the same table through it; only they
interpret the events (summaries, transcripts, test stories), and that stays with them. This module
knows the table's columns, not the dialogue.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import Column, Engine, Float, Integer, MetaData, String, Table, Text, delete, func, select

__all__ = ["ConversationStore"]

logger = logging.getLogger(__name__)

_metadata = MetaData()
#: The columns of Rasa 3.6's ``events`` table that we use.
events = Table(
    "events",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255)),
    Column("type_name", String(255)),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)


class ConversationStore:
    """Read and erase conversations in Rasa's tracker database.

    Args:
        engine: an engine on the tracker store's database.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def event_count(self, sender_id: str) -> int:
        """How many events are stored for a sender."""
        with self.engine.connect() as connection:
            return int(connection.scalar(
                select(func.count()).select_from(events).where(events.c.sender_id == sender_id)
            ) or 0)

    def has_action_since(self, sender_id: str, action_name: str, since: float) -> bool:
        """Whether an action event of that name, newer than ``since`` (epoch seconds), is stored."""
        with self.engine.connect() as connection:
            found = connection.scalar(
                select(func.count()).select_from(events).where(
                    events.c.sender_id == sender_id,
                    events.c.action_name == action_name,
                    events.c.timestamp >= since,
                )
            )
        return bool(found)

    def erase(self, sender_id: str) -> int:
        """Delete every stored event of a sender; returns how many."""
        with self.engine.begin() as connection:
            return int(connection.execute(delete(events).where(events.c.sender_id == sender_id)).rowcount)

    async def erase_after_turn(
        self, sender_id: str, action_name: str, since: float, *, timeout: float = 60.0, poll: float = 0.2
    ) -> int:
        """Wait until the turn that ran ``action_name`` is stored, then erase the sender's events.

        Args:
            sender_id: the customer to forget.
            action_name: the action of the turn that asked (its event marks the turn as saved).
            since: when that action started (epoch seconds).
            timeout: give up waiting after this long and erase what is there.
            poll: seconds between checks.

        Returns:
            How many events were deleted.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await asyncio.to_thread(self.has_action_since, sender_id, action_name, since):
                break
            await asyncio.sleep(poll)
        else:
            logger.warning("turn of %s not stored after %.0fs; erasing what is there", sender_id, timeout)
        erased = await asyncio.to_thread(self.erase, sender_id)
        logger.info("erased %d conversation events of a forgotten customer", erased)
        return erased

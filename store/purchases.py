"""A shop's order history in our database, and what every customer took, for the collaborative model.

Imported purchases are interactions of kind ``purchase``, kept under a stable keyed pseudonym of the
shop's customer id (:meth:`store.pseudonyms.Pseudonymiser.stable`), never the id itself, at the time of
the purchase; the retention purge deletes them as it deletes every interaction. What a customer took —
bought, liked or chose, in an import or in a chat — is what the collaborative model learns from.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC

from sqlalchemy import Engine, insert, or_, select
from sqlalchemy.orm import Session

from retrieval.interactions import Taken
from store.models import Interaction, InteractionKind
from store.pseudonyms import Pseudonymiser

__all__ = ["TAKING_KINDS", "import_purchases", "taken_pairs"]

#: The interactions that say a customer took an item (dislikes, critiques and impressions do not).
TAKING_KINDS = (InteractionKind.PURCHASE, InteractionKind.LIKE, InteractionKind.CHOICE)
_BATCH = 5_000


def import_purchases(engine: Engine, rows: Iterable[Taken], pseudonyms: Pseudonymiser) -> tuple[int, int]:
    """Store the purchases not stored before; return how many were stored and how many were already there.

    A purchase is the same one when its pseudonym, item and time are: importing a file again adds nothing.
    """
    fresh = []
    with Session(engine) as session:
        known = {(who, item, at.replace(tzinfo=None) if at else None) for who, item, at in session.execute(
            select(Interaction.pseudonym, Interaction.item_id, Interaction.created_at)
            .where(Interaction.kind == InteractionKind.PURCHASE))}
    repeated = 0
    for row in rows:
        who = pseudonyms.stable(row.customer)
        at = row.at.astimezone(UTC).replace(tzinfo=None)
        if (who, row.item, at) in known:
            repeated += 1
            continue
        known.add((who, row.item, at))
        detail = {"quantity": row.quantity} if row.quantity is not None else {}
        fresh.append({"pseudonym": who, "kind": InteractionKind.PURCHASE, "item_id": row.item, "created_at": at,
                      "detail": {**detail, **({"rating": row.rating} if row.rating is not None else {})}})
    with Session(engine) as session, session.begin():
        for start in range(0, len(fresh), _BATCH):
            session.execute(insert(Interaction), fresh[start:start + _BATCH])
    return len(fresh), repeated


def taken_pairs(engine: Engine) -> list[tuple[str, str]]:
    """``(who, item id)`` for every purchase, like and choice: who is the customer or their pseudonym."""
    with Session(engine) as session:
        rows = session.execute(
            select(Interaction.customer_id, Interaction.pseudonym, Interaction.item_id)
            .where(Interaction.kind.in_(TAKING_KINDS), Interaction.item_id.is_not(None),
                   or_(Interaction.customer_id.is_not(None), Interaction.pseudonym.is_not(None))))
        return [(f"c{customer}" if customer is not None else str(pseudonym), str(item))
                for customer, pseudonym, item in rows]

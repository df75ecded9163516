"""The SQLAlchemy data layer: customer data and the database that holds it.

Customers, consent, profiles and interactions (``models``, ``profiles``), the customer's copy of their
data (``export``), retention and erasure (``retention``, ``pseudonyms``), online experiments, the engine
(``db``, ``retry``) and the schema's migrations (``migrate``, ``migrations/``); and the conversations
themselves as Rasa's tracker store holds them (``tracker``), because a customer's conversation is
their data: the export and the erasure must reach it, and they live here.

The review console's logic (accounts, reviews, summaries, transcripts) lives beside the console in
``web.console``; its tables stay in ``store.models`` with the rest of the schema, so one migration
history covers every table.

Used by ``actions`` and ``web``; knows nothing of Rasa's dialogue, the web or retrieval internals.
Every error it raises on purpose is a :class:`StoreError` (the tree is drawn in ``store/errors.py``).
"""

from __future__ import annotations

from store.db import StoreSettings, create_schema, make_engine
from store.errors import StoreError
from store.models import Base, ConversationSummary, Customer, Interaction, InteractionKind, Profile
from store.profiles import ProfileSnapshot, ProfileStore

__all__ = [
    "Base",
    "ConversationSummary",
    "Customer",
    "Interaction",
    "InteractionKind",
    "Profile",
    "ProfileSnapshot",
    "ProfileStore",
    "StoreError",
    "StoreSettings",
    "create_schema",
    "make_engine",
]

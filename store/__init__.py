"""The SQLAlchemy data layer: customers, profiles, interactions; the review console's data.

Used by ``actions`` and ``web``; knows nothing of Rasa, the web or retrieval internals.
Every error it raises on purpose is a :class:`StoreError` (the tree is drawn in ``store/errors.py``).
"""

from __future__ import annotations

from store.accounts import AccountStore
from store.db import StoreSettings, create_schema, make_engine
from store.errors import StoreError
from store.models import Base, Customer, Interaction, InteractionKind, Profile
from store.profiles import ProfileSnapshot, ProfileStore
from store.review import ConversationSummary, ReviewStore

__all__ = [
    "AccountStore",
    "Base",
    "ConversationSummary",
    "Customer",
    "Interaction",
    "InteractionKind",
    "Profile",
    "ProfileSnapshot",
    "ProfileStore",
    "ReviewStore",
    "StoreError",
    "StoreSettings",
    "create_schema",
    "make_engine",
]

"""The SQLAlchemy data layer: customers, profiles, interactions.

Used by ``actions`` and ``web``; knows nothing of Rasa, the web or retrieval internals.
"""

from __future__ import annotations

from store.db import StoreSettings, create_schema, make_engine
from store.models import Base, Customer, Interaction, InteractionKind, Profile
from store.profiles import ProfileSnapshot, ProfileStore

__all__ = [
    "Base",
    "Customer",
    "Interaction",
    "InteractionKind",
    "Profile",
    "ProfileSnapshot",
    "ProfileStore",
    "StoreSettings",
    "create_schema",
    "make_engine",
]

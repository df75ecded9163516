"""Alembic migrations of our database (``store.models``, ``store.review``, ``store.accounts``).

Applied by :func:`store.migrate.upgrade` (``python -m store.migrate upgrade``); see there.
"""

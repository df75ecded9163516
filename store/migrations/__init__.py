"""Alembic migrations of our database (``store.models``: every table, the review console's included).

Applied by :func:`store.migrate.upgrade` (``python -m store.migrate upgrade``); see there.
"""

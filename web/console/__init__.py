"""The review console: support teams find, read, tag and export conversations (login required).

Mounted at ``/console`` by :func:`web.app.create_app`; users are created with
``shopkeeper console add-user NAME``. The pages read Rasa's tracker store through
per-conversation summaries kept in our database (``store.summaries``).
"""

from __future__ import annotations

from web.console.routes import console_router
from web.console.service import Console

__all__ = ["Console", "console_router"]

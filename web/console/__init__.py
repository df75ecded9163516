"""The review console: support teams find, read, tag and export conversations (login required).

Mounted at ``/console`` by :func:`web.app.create_app`; users are created with
``shopkeeper console add-user NAME``. The pages read Rasa's tracker store through
per-conversation summaries kept in our database (``web.console.summaries``).

The console's backend lives here beside its pages:

* ``routes``, ``charts``: the pages and the metrics' charts;
* ``service``: the engines and stores, built once on first use;
* ``accounts``: users, sessions, login throttling;
* ``review``: tags, notes, the reviewed flag, the access audit;
* ``summaries``: per-conversation summaries of Rasa's tracker store, kept in step, filtered, counted;
* ``transcripts``: one conversation read back as a transcript, and exported as a test story.

Their tables are declared with the rest of our schema in :mod:`store.models` (one migration
history for every table); the events they read come through :mod:`store.tracker`.
"""

from __future__ import annotations

from web.console.routes import console_router
from web.console.service import Console

__all__ = ["Console", "console_router"]

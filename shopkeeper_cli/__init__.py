"""The ``shopkeeper`` command: one entry point over every package of the product.

::

    shopkeeper catalog import | catalog use | index build | search | nlu-lookups   (main: retrieval)
    shopkeeper console add-user | list-users | remove-user                         (console: web.console)
    shopkeeper experiments list | report; shopkeeper privacy purge                 (database: store)

It sits above the packages it drives (``retrieval``, ``store``, ``web.console``), which never import
it: the dependencies point one way. Each command shares its code path with the library, and the
errors of those packages (:class:`retrieval.errors.RetrievalError`, :class:`store.errors.StoreError`)
are printed as one ``error: …`` line with exit code 2 (:func:`shopkeeper_cli.main.main`).

Installed as the ``shopkeeper`` console script (``pyproject.toml``); ``python -m shopkeeper_cli``
runs the same thing without the script.
"""

from __future__ import annotations

from shopkeeper_cli.main import build_parser, main

__all__ = ["build_parser", "main"]

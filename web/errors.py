"""How the web app answers when the data layer fails: a status and a sentence, never a bare 500.

The routes catch the errors they expect where they can say something specific (the export's
404, a bad tag sent back to the form); whatever :class:`store.errors.StoreError` still reaches
the app is answered here:

==========================  ======  ==============================================================
error                       status  answer
==========================  ======  ==============================================================
``StoreUnavailableError``   503     the database is unreachable; nothing was saved; try again soon
``NothingStoredError``      404     its own message (nothing is stored about that conversation)
any other ``StoreError``    500     a request the data layer refused; the log has the details
==========================  ======  ==============================================================

The web package raises no errors of its own on purpose (it answers with HTTP statuses), so it
has no error tree; it translates the store's.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from store.errors import NothingStoredError, StoreError, StoreUnavailableError

__all__ = ["add_error_handlers", "answer_for"]

logger = logging.getLogger(__name__)

UNAVAILABLE = "the database is unreachable right now and nothing was saved; please try again in a moment"
REFUSED = "the shop's data layer could not do that; the server log says why"


def answer_for(error: StoreError) -> tuple[int, str]:
    """The HTTP status and the sentence that answer a store error.

    >>> answer_for(NothingStoredError("web-1"))
    (404, "nothing is stored about the conversation 'web-1'")
    >>> answer_for(StoreUnavailableError("a like", 6, ConnectionError("refused")))[0]
    503
    """
    if isinstance(error, StoreUnavailableError):
        return 503, UNAVAILABLE
    if isinstance(error, NothingStoredError):
        return 404, str(error)
    return 500, REFUSED


def add_error_handlers(app: FastAPI) -> None:
    """Answer every :class:`StoreError` that reaches ``app`` with :func:`answer_for`, and log it."""

    @app.exception_handler(StoreError)
    async def store_error(request: Request, error: Exception) -> JSONResponse:
        status, detail = answer_for(error) if isinstance(error, StoreError) else (500, REFUSED)
        if status < 500:
            logger.warning("%s %s: %s", request.method, request.url.path, error)
        else:
            logger.error("%s %s failed: %s", request.method, request.url.path, error, exc_info=error)
        return JSONResponse({"detail": detail}, status_code=status,
                            headers={"Cache-Control": "no-store"})

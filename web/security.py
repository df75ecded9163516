"""The security headers of every answer of the web app, decided in one place.

:class:`SecurityHeaders` wraps the whole app (:func:`web.app.create_app`), so the shop page,
the widget's files, the chat API, the console, a 404 and the 500 of a crash all pass through
it. What an answer gets depends on what it is, read from its path:

====================  ============================  ===================================================
path                  what it is                    rules
====================  ============================  ===================================================
``/``                 the shop page                 scripts, styles and fonts from the web app only (no
                                                    inline script or style); images from the web app and
                                                    the catalog's hosts; connections to the web app and
                                                    the Rasa server the widget talks to (``RASA_URL``,
                                                    over HTTP and websocket); framed by this site only
``/static/``,         the widget's script and       loaded by shops' pages from their own origins, so no
``/catalog/images/``  stylesheet, the socket.io     frame rules (they are not documents) and
                      client, catalog pictures      ``Cross-Origin-Resource-Policy: cross-origin``, which
                                                    lets even a shop isolated with COEP load them;
                                                    ``default-src 'none'`` for a file opened on its own
                                                    (an SVG opened as a page runs no script)
``/console``          the review console            no script at all; framed by nobody; no referrer
                                                    leaves the site
anything else         the chat API, health, errors  ``default-src 'none'``; framed by nobody; no referrer
====================  ============================  ===================================================

Every answer also carries ``X-Content-Type-Options: nosniff``: a file is run or styled only as
the type it is served with.

The widget in a shop's own page lives under that shop's policy, not ours; it needs the shop
to allow this web app as a script, style, image and connection source, and the Rasa server as
a connection source (README, "Security headers").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SecurityHeaders", "SiteHeaders", "content_security_policy", "rasa_sources"]

#: Where catalog pictures may come from: this web app, or a foreign catalog's own image host
#: (DummyJSON's and Amazon's are HTTPS, Flipkart's plain HTTP).
CATALOG_IMAGES = ("'self'", "https:", "http:")
#: The widget's files, under these paths, are loaded by shops' pages from other origins.
WIDGET_FILES = ("/static/", "/catalog/images/")
CONSOLE = "/console"

#: A host and port as a source expression may name them (no user, path or quote).
_HOST = re.compile(r"(?:[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")
_WEBSOCKET = {"http": "ws", "https": "wss"}


def content_security_policy(directives: Mapping[str, Sequence[str]]) -> str:
    """A ``Content-Security-Policy`` value from directive → sources, in the order given.

    >>> content_security_policy({"default-src": ["'none'"], "frame-ancestors": ["'none'"]})
    "default-src 'none'; frame-ancestors 'none'"
    """
    return "; ".join(" ".join((name, *sources)) for name, sources in directives.items())


def rasa_sources(rasa_url: str) -> tuple[str, ...]:
    """The origins the widget connects to at ``rasa_url``: its REST channel and its socket.io websocket.

    Both are named: Chromium refuses the websocket to a server whose ``http:`` origin alone is
    allowed. A URL that is not HTTP(S), or whose host cannot be a source, gives none (the page
    then connects to itself only).

    >>> rasa_sources("http://127.0.0.1:5005")
    ('http://127.0.0.1:5005', 'ws://127.0.0.1:5005')
    >>> rasa_sources("https://Bot.example/rasa")
    ('https://bot.example', 'wss://bot.example')
    >>> rasa_sources("http://x; script-src *"), rasa_sources("bot.example:5005")
    ((), ())
    """
    parts = urlsplit(rasa_url.strip())
    scheme, host = parts.scheme.lower(), parts.netloc.lower()
    if scheme not in _WEBSOCKET or not _HOST.fullmatch(host):
        return ()
    return f"{scheme}://{host}", f"{_WEBSOCKET[scheme]}://{host}"


class SiteHeaders:
    """The headers of each kind of answer (module docstring), for a site whose widget talks to ``rasa_url``.

    Args:
        rasa_url: where the shop page's widget reaches Rasa (``RASA_URL``; the gateway in production).

    >>> site = SiteHeaders("http://127.0.0.1:5005")
    >>> site.for_path("/")["Content-Security-Policy"].split("; ")[4]
    "connect-src 'self' http://127.0.0.1:5005 ws://127.0.0.1:5005"
    >>> site.for_path("/static/widget.js")["Cross-Origin-Resource-Policy"]
    'cross-origin'
    >>> site.for_path("/console/login")["X-Frame-Options"], site.for_path("/api/chat/history")["X-Frame-Options"]
    ('DENY', 'DENY')
    """

    def __init__(self, rasa_url: str) -> None:
        shop_page = content_security_policy({
            "default-src": ["'self'"], "script-src": ["'self'"], "style-src": ["'self'"],
            "img-src": CATALOG_IMAGES, "connect-src": ["'self'", *rasa_sources(rasa_url)],
            "object-src": ["'none'"], "base-uri": ["'none'"], "form-action": ["'self'"],
            "frame-ancestors": ["'self'"],
        })
        console = content_security_policy({
            "default-src": ["'self'"], "script-src": ["'none'"], "style-src": ["'self'"],
            "img-src": [*CATALOG_IMAGES, "data:"], "object-src": ["'none'"], "base-uri": ["'none'"],
            "form-action": ["'self'"], "frame-ancestors": ["'none'"],
        })
        nothing = content_security_policy({"default-src": ["'none'"], "frame-ancestors": ["'none'"]})
        self.shop_page = _headers(shop_page, "strict-origin-when-cross-origin", "same-origin",
                                  frame_options="SAMEORIGIN")
        self.widget_files = _headers("default-src 'none'", "no-referrer", "cross-origin")
        self.console = _headers(console, "same-origin", "same-origin", frame_options="DENY")
        self.other = _headers(nothing, "no-referrer", "same-origin", frame_options="DENY")

    def for_path(self, path: str) -> dict[str, str]:
        """The headers of an answer to a request for ``path``."""
        if path == "/":
            return self.shop_page
        if path.startswith(WIDGET_FILES):
            return self.widget_files
        if path == CONSOLE or path.startswith(CONSOLE + "/"):
            return self.console
        return self.other


def _headers(policy: str, referrer: str, resource: str, *, frame_options: str | None = None) -> dict[str, str]:
    headers = {"Content-Security-Policy": policy, "X-Content-Type-Options": "nosniff", "Referrer-Policy": referrer,
               "Cross-Origin-Resource-Policy": resource}
    if frame_options:
        headers["X-Frame-Options"] = frame_options  # for browsers that predate frame-ancestors
    return headers


class SecurityHeaders:
    """ASGI middleware that puts :class:`SiteHeaders` on every HTTP answer, replacing any a route set.

    Args:
        app: the application to wrap.
        rasa_url: where the shop page's widget reaches Rasa.
    """

    def __init__(self, app: ASGIApp, *, rasa_url: str) -> None:
        self.app = app
        self.site = SiteHeaders(rasa_url)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the headers to the start of the answer."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chosen = self.site.for_path(scope["path"])

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in chosen.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)

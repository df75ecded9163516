r"""The production front: one address for several Rasa servers and several action servers.

::

    browser ──▶ gateway ──(sticky by sender)──▶ Rasa replica 1..n ──▶ gateway /webhook ──▶ action replica 1..m
                 │ per-sender rate limit, body size limit                          (round robin, failover,
                 └ socket.io: sticky by client address, websocket or polling        polite answer when all are down)

Why a gateway of our own rather than nginx: Rasa's REST channel names the conversation in
the JSON *body* (``{"sender": …}``), and both the sticky routing and the per-sender rate
limit need that name; nginx can only hash headers, addresses and URLs without extra modules.
It is also where a dead action server is turned into a polite answer (the rasa-sdk webhook
protocol lets it answer ``{"events": [], "responses": [{"text": …}]}`` itself).

* **Sticky routing.** Every message of one sender goes to the same Rasa replica (rendezvous
  hashing of the sender id; the next replica in that order when it is down). Rasa 3.6's
  ``RedisLockStore`` issues tickets with a read-modify-write of one Redis key, which is not
  atomic across processes (RasaHQ/rasa#9213): two replicas handling the same conversation
  at once can both get the lock, or lose each other's tickets. Inside one Rasa process the
  ticket calls never interleave (they are synchronous), so keeping a conversation on one
  replica removes the race; Redis still holds the locks, so a failover to another replica
  waits for the conversation's ticket as usual.
* **socket.io** (``/socket.io/``) is routed by client address, like nginx's ``ip_hash``:
  an engine.io session must stay on the replica that created it, and its first request
  carries no id to route by.
* **Rate limit.** A token bucket per sender (REST) and per socket.io connection: ``--burst``
  messages at once, then ``--rate`` per second. Beyond it, REST gets ``429`` with a
  ``Retry-After`` and a bot-style message; socket.io gets that message as a bot utterance.
* **A replica lost mid-turn.** When the connection to a replica breaks after a customer's message
  went out (the process was killed, say), nobody will answer that message: if the replica no
  longer accepts connections, the message goes to the next replica (Rasa saves a turn only at
  its end, so the dead one stored nothing). Not at once: the dead turn's ticket stays in Redis
  for ``--ticket-lifetime`` seconds (Rasa's ``TICKET_LOCK_LIFETIME``, 60 by default), and in
  Rasa 3.6 a ticket issued within a second of it expires in the same poll of the lock store and
  then waits forever; so the gateway resends once the dead ticket has expired. A replica that
  still accepts connections may still finish the turn, so then the customer gets ``503`` and an
  apology rather than a second copy of the turn.
* **Failed turns.** Rasa's REST channel answers ``[]`` when a turn fails inside Rasa (say the
  lock store is unreachable): the gateway turns that into ``503`` with an apology.
* **Limits.** A REST body over ``--max-body`` bytes gets ``413``, invalid JSON or a missing
  sender ``400`` — all with a polite text, and nothing reaches Rasa.
* **Security headers.** Every HTTP answer, its own and the replicas', carries
  :data:`SECURITY_HEADERS` (``nosniff``, no framing, no referrer).
* **Action servers** behind ``/webhook``: round robin; a replica that refuses connections is
  skipped for two seconds; when none answers, Rasa receives a valid action answer carrying
  an apology, so the customer hears something and the conversation goes on.

Run it (``.venv``, Python 3.11)::

    .venv/bin/python bot/gateway.py --port 5005 \\
        --rasa http://127.0.0.1:5105 --rasa http://127.0.0.1:5106 \\
        --actions http://127.0.0.1:5155 --actions http://127.0.0.1:5156 \\
        --cors "$CORS_ORIGINS"

and point the Rasa replicas' ``ACTION_SERVER_URL`` at ``http://<gateway>/webhook``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["SECURITY_HEADERS", "Gateway", "GatewayConfig", "TokenBuckets", "main"]

logger = logging.getLogger("shopkeeper.gateway")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

SLOW_DOWN = "You're sending messages faster than I can read them. Please wait a moment, then try again."
TOO_LONG = "That message is too long for me. Could you say it in a few sentences?"
NOT_UNDERSTOOD = "Sorry, I couldn't read that message. Please try again."
TURN_FAILED = "Sorry, I couldn't answer that just now. Please send it again in a moment."
ACTIONS_DOWN = ("Sorry, I can't look that up right now: part of the shop is briefly unavailable. "
                "Please try again in a moment.")
REST_PATH = "/webhooks/rest/webhook"
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
               "transfer-encoding", "upgrade", "host", "content-length"}
#: On every HTTP answer, the gateway's own and the replicas' alike (theirs replaced): what goes out is
#: JSON, engine.io frames and short texts, never a page, so no browser may run it as a script or a
#: stylesheet, render it in a frame, or send a referrer from it.
SECURITY_HEADERS = (("x-content-type-options", "nosniff"),
                    ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
                    ("x-frame-options", "DENY"), ("referrer-policy", "no-referrer"))
_SECURITY = [(name.encode(), value.encode()) for name, value in SECURITY_HEADERS]
_REPLACED = _HOP_BY_HOP | {"content-encoding"} | {name for name, _ in SECURITY_HEADERS}


@dataclass
class GatewayConfig:
    """What the gateway fronts and how strict it is."""

    rasa: Sequence[str]
    actions: Sequence[str] = ()
    rate: float = 1.0
    burst: int = 10
    max_body: int = 16_384
    cors: Sequence[str] = ()
    down_seconds: float = 2.0
    timeout: float = 300.0
    #: Rasa's ``TICKET_LOCK_LIFETIME``: how long a dead turn's ticket holds its conversation.
    ticket_lifetime: float = 60.0


@dataclass
class TokenBuckets:
    """Per-key token buckets: ``burst`` at once, refilled at ``rate`` per second.

    >>> buckets = TokenBuckets(rate=1.0, burst=2, clock=lambda: 0.0)
    >>> [buckets.take("a") for _ in range(3)], buckets.take("b")
    ([0.0, 0.0, 1.0], 0.0)
    """

    rate: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def take(self, key: str) -> float:
        """Take a token for ``key``: ``0`` when allowed, else the seconds until one is available."""
        now = self.clock()
        tokens, stamp = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - stamp) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > 100_000:
                self._prune(now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate if self.rate > 0 else 60.0

    def _prune(self, now: float) -> None:
        full = float(self.burst) / self.rate if self.rate > 0 else 3600.0
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full}


def rendezvous(key: str, replicas: Sequence[str]) -> list[str]:
    """Replicas ordered for a key (highest random weight first): stable, and only 1/n keys move on a change.

    >>> order = rendezvous("sender-1", ["a", "b", "c"])
    >>> sorted(order) == ["a", "b", "c"] and order == rendezvous("sender-1", ["c", "b", "a"])
    True
    """
    return sorted(replicas, key=lambda r: hashlib.blake2b(f"{r}|{key}".encode(), digest_size=8).digest(),
                  reverse=True)


def _resendable(scope: Scope) -> bool:
    """Whether a request may go to another replica when the first died holding it.

    A customer's message may: the dead replica saved nothing of its turn. Not an action call (the
    action may have run), a write of Rasa's API, nor a socket.io request (its session died with
    the replica: the client reconnects sooner on an error).
    """
    return bool(scope["path"] == REST_PATH and scope["method"] == "POST")


async def _gone(url: str, timeout: float = 2.0) -> bool:
    """Whether the server at ``url`` is gone: a new connection is refused or dropped unanswered.

    Asked over HTTP, not by a bare connection: a killed process's listening socket can still
    complete a handshake for an instant. Any answer, even an error, or none in time (a replica
    cut off by the network may still be finishing a turn) counts as there.
    """
    async with httpx.AsyncClient(timeout=timeout) as probe:
        try:
            await probe.get(url + "/")
        except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
            return True
        except httpx.HTTPError:
            return False
    return False


class Gateway:
    """The ASGI application (served by uvicorn)."""

    def __init__(self, config: GatewayConfig) -> None:
        if not config.rasa:
            raise ValueError("the gateway needs at least one Rasa server (--rasa)")
        self.config = config
        self.rest_limits = TokenBuckets(config.rate, config.burst)
        self.socket_limits = TokenBuckets(config.rate, config.burst)
        self._down: dict[str, float] = {}
        self._round_robin = itertools.count()
        self._client: httpx.AsyncClient | None = None
        self.counters: dict[str, int] = {"rate_limited": 0, "too_large": 0, "bad_request": 0,
                                         "actions_unavailable": 0, "failovers": 0, "turns_failed": 0}

    @property
    def client(self) -> httpx.AsyncClient:
        """The shared HTTP client to the replicas (created on first use, inside the event loop)."""
        if self._client is None:
            limits = httpx.Limits(max_connections=400, max_keepalive_connections=100)
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(self.config.timeout, connect=3.0), limits=limits)
        return self._client

    # -- ASGI --------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Dispatch one ASGI connection."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
        elif scope["type"] == "http":
            await self._http(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._client is not None:
                    await self._client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if path == "/gateway/health":
            await self._reply(send, 200, {"status": "ok", **self.counters}, headers)
            return
        body, too_large = await self._read_body(receive, self.config.max_body if path == REST_PATH else 10 << 20)
        if path == "/webhook" or (path == "/health" and self.config.actions):
            await self._to_actions(scope, headers, body, send)
            return
        if too_large:
            self.counters["too_large"] += 1
            await self._reply(send, 413, [{"recipient_id": "", "text": TOO_LONG}], headers)
            return
        key: str
        if path == REST_PATH and scope["method"] == "POST":
            try:
                payload = json.loads(body)
                sender = payload.get("sender") if isinstance(payload, dict) else None
                if not isinstance(sender, str) or not sender or len(sender) > 255:
                    raise ValueError("no sender")
            except (ValueError, UnicodeDecodeError):
                self.counters["bad_request"] += 1
                await self._reply(send, 400, [{"recipient_id": "", "text": NOT_UNDERSTOOD}], headers)
                return
            wait = self.rest_limits.take(sender)
            if wait > 0:
                self.counters["rate_limited"] += 1
                await self._reply(send, 429, [{"recipient_id": sender, "text": SLOW_DOWN}], headers,
                                  extra=[("retry-after", str(max(1, round(wait + 0.5))))])
                return
            key = sender
        elif path.startswith("/socket.io"):
            key = "client:" + (scope.get("client") or ("", 0))[0]
        elif path.startswith("/conversations/"):
            key = path.split("/")[2]
        else:
            key = f"rr:{next(self._round_robin)}"
        await self._forward(rendezvous(key, self.config.rasa), scope, headers, body, send, retry_on_connect=True)

    async def _read_body(self, receive: Receive, limit: int) -> tuple[bytes, bool]:
        chunks: list[bytes] = []
        size, too_large = 0, False
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                too_large = True
            elif chunk:
                chunks.append(chunk)
            if not message.get("more_body"):
                break
        return b"".join(chunks), too_large

    def _alive_first(self, order: Sequence[str]) -> list[str]:
        now = time.monotonic()
        alive = [r for r in order if self._down.get(r, 0.0) <= now]
        return alive + [r for r in order if r not in alive]

    async def _forward(self, order: Sequence[str], scope: Scope, headers: dict[str, str], body: bytes, send: Send,
                       *, retry_on_connect: bool) -> bool:
        """Send the request to the first replica that accepts a connection; ``False`` when none did."""
        target_path = scope["path"] + (("?" + scope["query_string"].decode("latin-1")) if scope["query_string"] else "")
        forwarded = {k: v for k, v in headers.items() if k not in _HOP_BY_HOP}
        client = scope.get("client")
        if client:
            forwarded["x-forwarded-for"] = client[0]
        candidates = self._alive_first(order)
        for number, replica in enumerate(candidates):
            try:
                response = await self.client.request(scope["method"], replica + target_path, headers=forwarded,
                                                     content=body)
            except httpx.ConnectError:
                self._down[replica] = time.monotonic() + self.config.down_seconds
                logger.warning("replica %s refused the connection; trying the next", replica)
                if not retry_on_connect:
                    return False
                self.counters["failovers"] += 1 if number + 1 < len(candidates) else 0
                continue
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as error:
                # The connection broke after the request went out. A replica that is gone answers
                # nobody and can no longer store the turn: the next one may take the message, once
                # the ticket the dead turn holds in Redis has expired (see the module docstring).
                failed_at = time.monotonic()
                self._down[replica] = failed_at + self.config.down_seconds
                if (retry_on_connect and _resendable(scope) and number + 1 < len(candidates)
                        and await _gone(replica)):
                    wait = failed_at + self.config.ticket_lifetime + 1.0 - time.monotonic()
                    logger.warning("replica %s died during a request (%r); sending it to the next in %.0f s",
                                   replica, error, wait)
                    self.counters["failovers"] += 1
                    await asyncio.sleep(max(0.0, wait))
                    continue
                return await self._failed(replica, error, scope, headers, send)
            except httpx.HTTPError as error:
                return await self._failed(replica, error, scope, headers, send)
            if scope["path"] == REST_PATH and response.status_code == 200 and response.content.strip() == b"[]":
                # Rasa's REST channel logs a failed turn (lock store or tracker store down, …) and answers
                # nothing; the shopkeeper answers every message, so say that this one failed.
                self.counters["turns_failed"] += 1
                logger.error("replica %s answered a message with nothing: the turn failed there (see its log)",
                             replica)
                await self._reply(send, 503, [{"recipient_id": "", "text": TURN_FAILED}], headers,
                                  extra=[("retry-after", "5")])
                return True
            out = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response.headers.items()
                   if k.lower() not in _REPLACED] + _SECURITY
            await send({"type": "http.response.start", "status": response.status_code, "headers": out})
            await send({"type": "http.response.body", "body": response.content})
            return True
        if scope["path"] != "/webhook":
            await self._reply(send, 503, {"error": "no server is available"}, headers)
            return True
        return False

    async def _failed(self, replica: str, error: Exception, scope: Scope, headers: dict[str, str],
                      send: Send) -> bool:
        """Answer a request its replica failed mid-way; ``False`` for an action call (its caller answers)."""
        logger.error("replica %s failed mid-request: %r", replica, error)
        if scope["path"] == "/webhook":
            return False
        if scope["path"] == REST_PATH:
            self.counters["turns_failed"] += 1
            await self._reply(send, 503, [{"recipient_id": "", "text": TURN_FAILED}], headers,
                              extra=[("retry-after", "5")])
        else:
            await self._reply(send, 502, {"error": "the server failed while answering"}, headers)
        return True

    async def _to_actions(self, scope: Scope, headers: dict[str, str], body: bytes, send: Send) -> None:
        replicas = list(self.config.actions)
        if not replicas:
            await self._reply(send, 404, {"error": "no action servers configured"}, headers)
            return
        start = next(self._round_robin) % len(replicas)
        order = replicas[start:] + replicas[:start]
        if await self._forward(order, scope, headers, body, send, retry_on_connect=True):
            return
        self.counters["actions_unavailable"] += 1
        if scope["path"] == "/health":
            await self._reply(send, 503, {"status": "unavailable"}, headers)
            return
        try:
            action = json.loads(body).get("next_action", "?")
        except (ValueError, AttributeError):
            action = "?"
        logger.error("no action server answered for %s: the customer gets an apology", action)
        await self._reply(send, 200, {"events": [], "responses": [{"text": ACTIONS_DOWN}]}, headers)

    async def _reply(self, send: Send, status: int, payload: Any, request_headers: dict[str, str],
                     extra: Sequence[tuple[str, str]] = ()) -> None:
        body = json.dumps(payload).encode()
        out = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *_SECURITY]
        out += [(k.encode(), v.encode()) for k, v in extra]
        origin = request_headers.get("origin")
        if origin and origin in self.config.cors:
            out += [(b"access-control-allow-origin", origin.encode()), (b"vary", b"Origin")]
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": body})

    # -- socket.io over websocket ------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed

        first = await receive()
        if first["type"] != "websocket.connect":
            return
        client = (scope.get("client") or ("", 0))[0]
        connection_key = f"ws:{client}:{id(scope)}"
        query = scope["query_string"].decode("latin-1")
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        for replica in self._alive_first(rendezvous("client:" + client, self.config.rasa)):
            url = "ws" + replica.removeprefix("http") + scope["path"] + (f"?{query}" if query else "")
            try:
                upstream = await connect(url, origin=headers.get("origin"), max_size=self.config.max_body * 4)
                break
            except OSError:
                self._down[replica] = time.monotonic() + self.config.down_seconds
        else:
            await send({"type": "websocket.close", "code": 1013})
            return
        await send({"type": "websocket.accept"})

        async def client_to_upstream() -> None:
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    await upstream.close()
                    return
                data = message.get("text") if message.get("text") is not None else message.get("bytes")
                if isinstance(data, str) and data.startswith('42["user_uttered"') and (
                        len(data) > self.config.max_body or self.socket_limits.take(connection_key) > 0):
                    too_long = len(data) > self.config.max_body
                    self.counters["too_large" if too_long else "rate_limited"] += 1
                    answer = ["bot_uttered", {"text": TOO_LONG if too_long else SLOW_DOWN}]
                    await send({"type": "websocket.send", "text": "42" + json.dumps(answer)})
                    continue
                if data is not None:
                    await upstream.send(data)

        async def upstream_to_client() -> None:
            try:
                async for data in upstream:
                    key = "text" if isinstance(data, str) else "bytes"
                    await send({"type": "websocket.send", key: data})
            except ConnectionClosed:
                pass
            await send({"type": "websocket.close", "code": 1000})

        tasks = [asyncio.create_task(client_to_upstream()), asyncio.create_task(upstream_to_client())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await upstream.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the options and serve the gateway with uvicorn."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5005)
    parser.add_argument("--rasa", action="append", required=True, help="a Rasa server URL (repeat for replicas)")
    parser.add_argument("--actions", action="append", default=[],
                        help="an action server URL, without /webhook (repeat for replicas)")
    parser.add_argument("--rate", type=float, default=1.0, help="messages per second per sender after the burst")
    parser.add_argument("--burst", type=int, default=10, help="messages a sender may send at once")
    parser.add_argument("--max-body", type=int, default=16_384, help="largest REST message body, bytes")
    parser.add_argument("--cors", default="", help="space-separated origins allowed to read gateway answers")
    parser.add_argument("--ticket-lifetime", type=float, default=int(os.environ.get("TICKET_LOCK_LIFETIME") or 0) or 60,
                        help="Rasa's TICKET_LOCK_LIFETIME (s): a message whose replica died is resent after it")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    config = GatewayConfig(rasa=[u.rstrip("/") for u in args.rasa], actions=[u.rstrip("/") for u in args.actions],
                           rate=args.rate, burst=args.burst, max_body=args.max_body, cors=args.cors.split(),
                           ticket_lifetime=args.ticket_lifetime)
    uvicorn.run(Gateway(config), host=args.host, port=args.port, log_level="warning", lifespan="on",
                timeout_keep_alive=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

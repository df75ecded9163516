"""The gateway when a replica dies holding a request, without servers: stand-ins that drop the connection.

A Rasa replica saves a turn only at its end, so a customer's message whose replica died before
answering is stored nowhere: the gateway sends it to the next replica when the first no longer
accepts connections, once the dead turn's lock ticket has expired. One that still accepts them may
be finishing the turn (a network fault, not a crash), and an action call may have run its action:
neither is sent a second time. tests/test_production_failover.py kills real replicas.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any

from starlette.testclient import TestClient

from evaluation.stack import free_port
from tests.browser import serve
from tests.test_security import gateway_module

REST = "/webhooks/rest/webhook"


class DyingReplica:
    """Reads the first request, then drops the connection unanswered.

    ``crash``: its port closes first, as when the process is killed; otherwise it keeps answering
    new connections (``404``), as a live server behind a broken connection would.
    """

    def __init__(self, *, crash: bool) -> None:
        self.crash = crash
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.received: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> DyingReplica:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        with suppress(OSError):
            self._listener.close()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with connection:
                request = _read_request(connection)
                if not self.received:
                    self.received.append(request)
                    if self.crash:
                        self._listener.close()
                    continue  # the connection closes with no answer
                connection.sendall(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")


def _read_request(connection: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = connection.recv(65536)
        if not chunk:
            break
        body += chunk
    return body


@contextmanager
def healthy_replica() -> Iterator[tuple[str, list[Any]]]:
    """A stand-in that answers: Rasa's REST channel, and an action call; yields its URL and what it got."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    received: list[Any] = []

    async def webhook(request: Request) -> JSONResponse:
        body = await request.json()
        received.append(body)
        return JSONResponse([{"recipient_id": body["sender"], "text": f"You said {body['message']}"}])

    async def action(request: Request) -> JSONResponse:
        received.append(await request.json())
        return JSONResponse({"events": [], "responses": [{"text": "done"}]})

    app = Starlette(routes=[Route(REST, webhook, methods=["POST"]), Route("/webhook", action, methods=["POST"])])
    with serve(app) as url:
        yield url, received


def first_on(replica: str, replicas: list[str]) -> str:
    """A sender whose messages go to ``replica`` first."""
    gateway = gateway_module()
    return next(s for s in (f"customer-{n}" for n in range(1000)) if gateway.rendezvous(s, replicas)[0] == replica)


def test_a_message_whose_replica_dies_holding_it_is_answered_by_the_next() -> None:
    gateway = gateway_module()
    with DyingReplica(crash=True) as dying, healthy_replica() as (healthy, received):
        replicas = [dying.url, healthy]
        sender = first_on(dying.url, replicas)
        config = gateway.GatewayConfig(rasa=replicas, ticket_lifetime=1.0)
        with TestClient(gateway.Gateway(config)) as client:
            started = time.monotonic()
            answer = client.post(REST, json={"sender": sender, "message": "show me more"})
            took = time.monotonic() - started
            health = client.get("/gateway/health").json()
            after = client.post(REST, json={"sender": sender, "message": "thanks"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == [{"recipient_id": sender, "text": "You said show me more"}]
    assert [json.loads(r)["message"] for r in dying.received] == ["show me more"]  # it died holding it…
    assert [r["message"] for r in received] == ["show me more", "thanks"]  # …the next got it once
    assert health["failovers"] == 1 and health["turns_failed"] == 0
    assert after.status_code == 200
    # resent only once the dead turn's ticket expired: in Rasa 3.6 a ticket issued within a second
    # of a dead one expires with it and then waits forever
    assert took >= config.ticket_lifetime + 1.0


def test_a_replica_that_drops_a_message_but_still_answers_is_not_second_guessed() -> None:
    gateway = gateway_module()
    with DyingReplica(crash=False) as flaky, healthy_replica() as (healthy, received):
        replicas = [flaky.url, healthy]
        sender = first_on(flaky.url, replicas)
        with TestClient(gateway.Gateway(gateway.GatewayConfig(rasa=replicas))) as client:
            answer = client.post(REST, json={"sender": sender, "message": "show me more"})
    # it may still be finishing the turn: a second replica in the same conversation would double it
    assert answer.status_code == 503 and answer.headers["retry-after"]
    assert answer.json() == [{"recipient_id": "", "text": gateway.TURN_FAILED}]
    assert received == []


def test_an_action_call_is_not_run_twice_when_its_action_server_dies() -> None:
    gateway = gateway_module()
    with DyingReplica(crash=True) as dying, healthy_replica() as (healthy, received):
        config = gateway.GatewayConfig(rasa=[f"http://127.0.0.1:{free_port()}"], actions=[dying.url, healthy])
        with TestClient(gateway.Gateway(config)) as client:
            answer = client.post("/webhook", json={"next_action": "action_shop", "sender_id": "x"})
    # the action may have run before its server died: an apology, not a second run
    assert answer.status_code == 200 and answer.json()["responses"][0]["text"] == gateway.ACTIONS_DOWN
    assert len(dying.received) == 1 and received == []

"""Security without servers: the web app's CORS and conversation privacy, the gateway's limiter and routing,
the production configuration's secrets. The same promises on the running production path are in
tests/test_production.py (token on Rasa's API, CORS on Rasa and the gateway, 429s per sender).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

from fastapi.testclient import TestClient

from tests.conftest import ROOT
from tests.test_web import chat_client, tracker_with


def gateway_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("shopkeeper_gateway", ROOT / "bot" / "gateway.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_web_app_grants_no_cors_to_other_origins(tmp_path: Path) -> None:
    web: TestClient = chat_client(tracker_with(tmp_path, "nobody", []))
    for origin in ["http://evil.example", "null"]:
        simple = web.post("/api/chat/sessions", headers={"Origin": origin})
        assert "access-control-allow-origin" not in simple.headers
        preflight = web.options("/api/chat/history", headers={
            "Origin": origin, "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization"})
        assert "access-control-allow-origin" not in preflight.headers
        assert "access-control-allow-credentials" not in preflight.headers


def test_one_customer_cannot_read_anothers_conversation(tmp_path: Path) -> None:
    web = chat_client(tracker_with(tmp_path, "placeholder", []))
    alice, bob = web.post("/api/chat/sessions").json(), web.post("/api/chat/sessions").json()
    # Alice's conversation holds something private
    (tmp_path / "alice").mkdir()
    private = [("user", {"text": "my address is 1 Elm St"})]
    web = chat_client(tracker_with(tmp_path / "alice", alice["sender_id"], private))
    mine = web.get("/api/chat/history", params={"sender_id": alice["sender_id"]},
                   headers={"Authorization": f"Bearer {alice['token']}"})
    assert mine.status_code == 200 and "1 Elm St" in mine.text
    # Bob, with his own valid token, or a token forged from Alice's id, gets nothing
    for token in [bob["token"], alice["token"][:-1] + ("0" if alice["token"][-1] != "0" else "1"), "", "null"]:
        theirs = web.get("/api/chat/history", params={"sender_id": alice["sender_id"]},
                         headers={"Authorization": f"Bearer {token}"})
        assert theirs.status_code == 401 and "Elm" not in theirs.text
    # sender ids are random and long enough not to be guessed
    assert re.fullmatch(r"web-[0-9a-f-]{20,}", alice["sender_id"])


def test_token_buckets_limit_one_key_and_not_another() -> None:
    gateway = gateway_module()
    now = [0.0]
    buckets = gateway.TokenBuckets(rate=2.0, burst=3, clock=lambda: now[0])
    assert [buckets.take("flood") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("flood") > 0  # over the burst
    assert buckets.take("calm") == 0.0  # another sender is unaffected
    now[0] += 0.5  # one token back at 2 per second
    assert buckets.take("flood") == 0.0 and buckets.take("flood") > 0


def test_sticky_routing_is_stable_and_spreads_senders() -> None:
    gateway = gateway_module()
    replicas = ["http://a", "http://b"]
    first = {f"sender-{n}": gateway.rendezvous(f"sender-{n}", replicas)[0] for n in range(1000)}
    assert first == {s: gateway.rendezvous(s, list(reversed(replicas)))[0] for s in first}
    share = sum(1 for r in first.values() if r == "http://a") / len(first)
    assert 0.4 < share < 0.6


def test_production_endpoints_take_every_value_and_secret_from_the_environment() -> None:
    text = (ROOT / "bot" / "endpoints.production.yml").read_text()
    values = [line.split(":", 1)[1].strip() for line in text.splitlines()
              if ":" in line and not line.lstrip().startswith("#") and line.split(":", 1)[1].strip()]
    for value in values:
        assert value.startswith("${") or value in {"SQL", "postgresql", "redis", "pika", "5"}, value
        assert not value.startswith(('"', "'")), f"Rasa substitutes only unquoted variables: {value}"
    assert "password: ${RASA_DB_PASSWORD}" in text and "password: ${REDIS_PASSWORD}" in text
    procfiles = (ROOT / "Procfile").read_text() + (ROOT / "Procfile.production").read_text()
    assert procfiles.count('--auth-token "$RASA_AUTH_TOKEN"') == 2

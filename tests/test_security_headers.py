"""Security headers on every answer: every route of the web app, its errors and static files, and the gateway.

The web app's routes are read from the app itself, so a route added later is fetched here too
without anyone listing it. What each kind of answer must carry is written out below, apart from
``web/security.py`` that sets it.
"""

from __future__ import annotations

import doctest
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.staticfiles import StaticFiles

import web.security
from evaluation.stack import free_port
from store.db import create_schema, make_engine
from tests.browser import serve
from tests.conftest import ROOT
from tests.test_security import gateway_module
from web.app import create_app
from web.console.accounts import AccountStore
from web.settings import WebSettings

RASA_URL = "http://rasa.example:5005"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    work = tmp_path_factory.mktemp("headers")
    store_url = f"sqlite:///{work / 'shop.db'}"
    engine = make_engine(store_url)
    create_schema(engine)
    AccountStore(engine).add_user("ana", PASSWORD)
    settings = WebSettings("127.0.0.1", 8000, RASA_URL, ROOT / "data" / "catalog" / "images",
                           tracker_db_url=f"sqlite:///{work / 'tracker.db'}", secret_key=b"h" * 32,
                           store_db_url=store_url)
    return create_app(settings)


def directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy as directive → sources."""
    parsed = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def kind_of(path: str) -> str:
    if path == "/":
        return "shop page"
    if path.startswith(("/static/", "/catalog/images/")):
        return "widget file"
    if path == "/console" or path.startswith("/console/"):
        return "console"
    return "other"


def check(response: httpx.Response, path: str) -> None:
    """The headers ``path``'s kind of answer must carry, whatever its status."""
    headers = response.headers
    where = f"{response.request.method} {path} → {response.status_code}"
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy"), where
    assert "content-security-policy" in headers, where
    assert len(headers.get_list("content-security-policy")) == 1, where
    policy = directives(headers["content-security-policy"])
    kind = kind_of(path)
    if kind == "widget file":
        # loaded by shops' pages from their own origins: no frame rule, and any origin may load it
        assert policy == {"default-src": ["'none'"]}, where
        assert "x-frame-options" not in headers, where
        assert headers["cross-origin-resource-policy"] == "cross-origin", where
        return
    assert headers["cross-origin-resource-policy"] == "same-origin", where
    if kind == "shop page":
        assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"], where
        assert policy["connect-src"] == ["'self'", RASA_URL, "ws://rasa.example:5005"], where
        assert policy["frame-ancestors"] == ["'self'"] and headers["x-frame-options"] == "SAMEORIGIN", where
        assert policy["object-src"] == ["'none'"] and policy["base-uri"] == ["'none'"], where
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin", where
        return
    assert policy["frame-ancestors"] == ["'none'"] and headers["x-frame-options"] == "DENY", where
    if kind == "console":
        assert policy["script-src"] == ["'none'"] and policy["default-src"] == ["'self'"], where
        assert headers["referrer-policy"] == "same-origin", where
    else:
        assert policy["default-src"] == ["'none'"] and headers["referrer-policy"] == "no-referrer", where


def routes_of(app: FastAPI) -> Iterator[Any]:
    """Every route of the app, those of included routers too (FastAPI keeps an included router whole)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # a FastAPI that copies included routes into app.routes
        yield from app.routes
    else:
        yield from iter_route_contexts(app.routes)


def requests_for(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) for every route of the app; two files (one there, one not) for every static mount."""
    for route in routes_of(app):
        methods, mounted = getattr(route, "methods", None), getattr(route, "app", None)
        if methods:
            path = re.sub(r"\{[^}]+\}", "x", route.path)
            for method in sorted(methods - {"HEAD"}):
                yield method, path
        elif isinstance(mounted, StaticFiles):
            directory = Path(str(mounted.directory))
            present = next(p for p in sorted(directory.rglob("*")) if p.is_file())
            yield "GET", f"{route.path}/{present.relative_to(directory).as_posix()}"
            yield "GET", f"{route.path}/no-such-file.js"
        else:
            pytest.fail(f"a route of a kind this test cannot fetch: {route!r}")


def sign_in(client: TestClient) -> None:
    form = client.get("/console/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert token
    signed = client.post("/console/login", data={"name": "ana", "password": PASSWORD, "csrf_token": token.group(1)})
    assert signed.status_code == 303, signed.text


def test_every_route_of_the_web_app_carries_the_headers(app: FastAPI) -> None:
    client = TestClient(app, follow_redirects=False)
    fetched: list[tuple[str, str, int]] = []
    for signed_in in (False, True):
        if signed_in:
            sign_in(client)
        for method, path in requests_for(app):
            response = client.request(method, path)
            assert response.status_code < 500, f"{method} {path} → {response.status_code}: {response.text[:200]}"
            check(response, path)
            fetched.append((method, path, response.status_code))
    paths = {path for _, path, _ in fetched}
    assert {"/", "/api/chat/sessions", "/api/chat/history", "/healthz", "/console/login", "/console/conversations",
            "/console/metrics", "/static/vendor/socket.io.min.js", "/static/no-such-file.js",
            "/catalog/images/no-such-file.js"} <= paths
    # pages and files (200), redirects, refusals, missing files and missing parameters all answered
    statuses = {status for _, _, status in fetched}
    assert {200, 303, 401, 403, 404, 422} <= statuses, sorted(fetched)
    assert ("GET", "/console/metrics", 200) in fetched  # a console page, signed in


def test_errors_and_a_crash_carry_the_headers_too(app: FastAPI) -> None:
    client = TestClient(app, follow_redirects=False, raise_server_exceptions=False)
    for method, path, status in [("GET", "/no/such/page", 404), ("DELETE", "/", 405),
                                 ("GET", "/static/vendor/nothing.js", 404), ("GET", "/console/nothing-here", 404)]:
        response = client.request(method, path)
        assert response.status_code == status, (method, path)
        check(response, path)

    crashing = create_app(WebSettings("127.0.0.1", 8000, RASA_URL, ROOT / "data" / "catalog" / "images"))

    @crashing.get("/api/crash")
    def crash() -> None:
        raise RuntimeError("a bug")

    response = TestClient(crashing, raise_server_exceptions=False).get("/api/crash")
    assert response.status_code == 500
    check(response, "/api/crash")


def test_the_shop_page_needs_no_inline_script_or_style(app: FastAPI) -> None:
    """What the shop page's policy forbids, the page does not hold (a browser test shows it loads clean)."""
    page = TestClient(app).get("/").text
    assert all('src="' in tag for tag in re.findall(r"<script\b[^>]*>", page))
    assert "<style" not in page and not re.search(r"\sstyle=", page)
    assert not re.search(r"\son[a-z]+=", page)
    policy = TestClient(app).get("/").headers["content-security-policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_the_widget_connects_to_the_configured_rasa_server_and_nowhere_else() -> None:
    for rasa_url, sources in [("https://bot.shop.example", ["https://bot.shop.example", "wss://bot.shop.example"]),
                              ('http://x/"><script>', ["http://x", "ws://x"]),
                              ("javascript:alert(1)", [])]:
        settings = WebSettings("127.0.0.1", 8000, rasa_url, ROOT / "data" / "catalog" / "images")
        page = TestClient(create_app(settings)).get("/")
        assert directives(page.headers["content-security-policy"])["connect-src"] == ["'self'", *sources]


def test_the_module_examples_hold() -> None:
    assert doctest.testmod(web.security).failed == 0


# ---- the gateway -------------------------------------------------------------------------------


def fake_rasa() -> Any:
    """A Rasa stand-in: the REST channel answers, anything else is 404; it sends a frame rule of its own."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def webhook(request: Request) -> JSONResponse:
        body = await request.json()
        return JSONResponse([{"recipient_id": body["sender"], "text": "Hello!"}],
                            headers={"X-Frame-Options": "SAMEORIGIN"})

    return Starlette(routes=[Route("/webhooks/rest/webhook", webhook, methods=["POST"])])


def gateway_headers_hold(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} → {response.status_code}"
    headers = response.headers
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get_list("content-security-policy") == ["default-src 'none'; frame-ancestors 'none'"], where
    assert headers.get_list("x-frame-options") == ["DENY"], where
    assert headers.get("referrer-policy") == "no-referrer", where


def test_every_answer_of_the_gateway_carries_the_headers() -> None:
    gateway = gateway_module()
    rest = "/webhooks/rest/webhook"
    with serve(fake_rasa()) as rasa:
        config = gateway.GatewayConfig(rasa=[rasa], rate=0.0, burst=1, max_body=200)
        with TestClient(gateway.Gateway(config)) as client:
            answers = [
                client.post(rest, json={"sender": "a", "message": "hi"}),             # forwarded: 200
                client.post(rest, json={"sender": "a", "message": "again"}),          # rate limited: 429
                client.post(rest, content=b"not json"),                                # 400
                client.post(rest, json={"sender": "b", "message": "x" * 500}),         # 413
                client.get("/conversations/a/tracker"),                                # forwarded: 404
                client.post("/webhook", json={"next_action": "action_shop"}),          # no action servers: 404
                client.get("/gateway/health"),                                         # 200
            ]
    assert [a.status_code for a in answers] == [200, 429, 400, 413, 404, 404, 200]
    assert answers[0].json()[0]["text"] == "Hello!"
    for answer in answers:
        gateway_headers_hold(answer)
    nobody = gateway.GatewayConfig(rasa=[f"http://127.0.0.1:{free_port()}"])
    with TestClient(gateway.Gateway(nobody)) as client:
        down = client.post(rest, json={"sender": "a", "message": "hi"})
    assert down.status_code == 503
    gateway_headers_hold(down)

"""Markup in the catalog, and the pages' security policies, in headless Chromium.

A product whose title, description and links hold markup and script (as a foreign catalog's
rows may) is shown as text in the widget's cards (drawn from the tracker store and live), in
the console's transcript, and runs nowhere. The shop page, the widget on it and the console
load without a single Content-Security-Policy violation, and a shop on another origin, isolated
with COEP, embeds the widget with one script tag.

No Rasa server runs: the conversation is written to a temporary tracker store the way Rasa
stores it, and the REST channel's answers are played by the browser's request routing, after
the page's policy has allowed the request.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from evaluation.stack import free_port
from retrieval.catalog import Product
from retrieval.contract import recommendation_card, recommendation_payload, wrapped
from store.db import create_schema, make_engine
from tests.browser import chromium, serve, wait_until
from tests.conftest import ROOT
from tests.test_console_events import Conversation, write_rows
from web.app import create_app
from web.chat import ChatSessions
from web.console.accounts import AccountStore
from web.settings import WebSettings

PASSWORD = "correct horse battery"
SECRET = b"x" * 32
OWNED = "window.__owned = 'title'; document.title = 'owned'"
TITLE = f'<img src=x onerror="{OWNED}">Nordic <b>lamp</b>'
SECOND_TITLE = "<script>window.__owned = 'script'; document.title = 'owned'</script>Desk lamp"
DESCRIPTION = f"Warm light for reading. <img src=x onerror=\"{OWNED}\"><script>document.title = 'owned'</script>"
REASON = f'like the <img src=x onerror="{OWNED}"> you liked'
SAYS_DESCRIPTION = f"From its description: {DESCRIPTION}"
#: What the page registers before any of its own scripts: every violation of its policy is kept.
WATCH_POLICY = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
    e => window.__violations.push(e.violatedDirective + " " + e.blockedURI), true);
"""


def hostile_cards() -> list[dict[str, Any]]:
    """Two cards as the action server builds them from catalog rows holding markup."""
    products = [
        Product(id="SKU-X1", title=TITLE, price=49.0, currency="USD", category="Lamps", description=DESCRIPTION,
                image_url="/catalog/images/SKU-0001.svg", url="javascript:window.__owned = 'link'"),
        Product(id="SKU-X2", title=SECOND_TITLE, price=59.0, currency="USD", category="Lamps",
                image_url="x\" onerror=\"window.__owned = 'image'", url="https://shop.example/desk-lamp"),
    ]
    return [dict(recommendation_card(p, rank=n, reason=REASON)) for n, p in enumerate(products, 1)]


def rest_answer() -> str:
    """The REST channel's answer to any message: the hostile cards and the description quoted."""
    return json.dumps([
        {"recipient_id": "x", "text": "Here are two lamps."},
        {"recipient_id": "x", "custom": wrapped(recommendation_payload(hostile_cards(), "r-live"))},
        {"recipient_id": "x", "text": SAYS_DESCRIPTION},
    ])


@dataclass
class Site:
    url: str
    rasa_url: str
    sender_id: str
    token: str


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    work = tmp_path_factory.mktemp("security-browser")
    sender_id, token = ChatSessions(SECRET).issue()
    conversation = Conversation(sender_id).start()
    conversation.user("a reading lamp please", "request_recommendation").shop()
    conversation.bot("Here are two lamps.", custom=wrapped(recommendation_payload(hostile_cards(), "r-1"))).listen()
    conversation.user("tell me about the first one", "ask_about_item").shop().bot(SAYS_DESCRIPTION).listen()
    write_rows(work / "tracker.db", [conversation])
    store_url = f"sqlite:///{work / 'shop.db'}"
    engine = make_engine(store_url)
    create_schema(engine)
    AccountStore(engine).add_user("ana", PASSWORD)
    rasa_url = f"http://127.0.0.1:{free_port()}"  # nothing listens: socket.io fails, REST is routed
    settings = WebSettings("127.0.0.1", 8000, rasa_url, ROOT / "data" / "catalog" / "images",
                           tracker_db_url=f"sqlite:///{work / 'tracker.db'}", secret_key=SECRET,
                           store_db_url=store_url)
    with serve(create_app(settings)) as url:
        yield Site(url, rasa_url, sender_id, token)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


@dataclass
class Watched:
    """A page whose policy violations and console messages about policies are kept."""

    page: Any
    console: list[str] = field(default_factory=list)

    def violations(self) -> list[str]:
        reported = [str(v) for v in self.page.evaluate("window.__violations || []")]
        return reported + [m for m in self.console if "Content Security Policy" in m or "Content-Security-Policy" in m]

    def nothing_ran(self, title: str) -> None:
        assert self.page.evaluate("window.__owned") is None
        assert self.page.title() == title
        assert self.page.locator("[onerror], .skw-log script, .transcript script").count() == 0


def watched_page(browser: Any) -> Watched:
    page = browser.new_page()
    watched = Watched(page)
    page.add_init_script(WATCH_POLICY)
    page.on("console", lambda message: watched.console.append(message.text))
    page.route("**/webhooks/rest/webhook", lambda route: route.fulfill(
        status=200, content_type="application/json", headers={"Access-Control-Allow-Origin": "*"},
        body=rest_answer()))
    return watched


def widget_shows_the_markup_as_text(page: Any, first_card: int) -> None:
    """The two cards from ``first_card`` on, and the description after them, read as they were written."""
    cards = page.locator(".skw-card")
    assert [cards.nth(first_card + n).locator(".skw-card-title").inner_text() for n in range(2)] == [
        TITLE, SECOND_TITLE]
    assert [cards.nth(first_card + n).locator(".skw-reason").inner_text() for n in range(2)] == [REASON, REASON]
    assert SAYS_DESCRIPTION in page.locator(".skw-log .skw-bot").all_inner_texts()
    # the "javascript:" link is no link; the web address is one
    assert cards.nth(first_card).locator("a").count() == 0
    assert cards.nth(first_card + 1).locator("a").get_attribute("href") == "https://shop.example/desk-lamp"
    pictures = page.locator(".skw-log img").evaluate_all("images => images.map(i => i.getAttribute('src'))")
    assert all(str(src).startswith("http://127.0.0.1:") for src in pictures), pictures


def test_markup_in_a_product_is_text_in_the_widget_and_the_shop_page_breaks_no_policy(
        site: Site, browser: Any) -> None:
    watched = watched_page(browser)
    page = watched.page
    session = json.dumps({"sender_id": site.sender_id, "token": site.token})
    page.add_init_script(f"localStorage.setItem('shopkeeper.session', {json.dumps(session)})")
    page.goto(site.url)
    page.wait_for_selector(".skw[data-ready='true']")
    # the conversation redrawn from the tracker store
    assert page.locator(".skw-card").count() == 2
    widget_shows_the_markup_as_text(page, 0)
    # socket.io cannot reach the Rasa server (the policy let it try); the REST channel answers live
    page.wait_for_selector(".skw[data-transport='rest']")
    page.fill(".skw-input", "show me lamps")
    page.press(".skw-input", "Enter")
    wait_until(page, "() => document.querySelectorAll('.skw-card').length === 4")
    widget_shows_the_markup_as_text(page, 2)
    wait_until(page, "() => Array.from(document.images).every(i => i.complete)")
    page.wait_for_timeout(500)
    watched.nothing_ran("Harbour & Home — Shopkeeper")
    assert watched.violations() == []
    page.close()


def another_shop(widget_tag: str) -> Any:
    """A shop's page that embeds the widget and admits only resources that agree to be embedded (COEP)."""
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    page = f"""<!doctype html><html><head><title>Another shop</title></head>
<body><h1>Another shop</h1>{widget_tag}</body></html>"""

    async def home(_: Any) -> HTMLResponse:
        return HTMLResponse(page, headers={"Cross-Origin-Embedder-Policy": "require-corp"})

    return Starlette(routes=[Route("/", home)])


def test_a_shop_on_another_origin_isolated_with_coep_embeds_the_widget(site: Site, browser: Any) -> None:
    """The widget's script, stylesheet and pictures load into a page that accepts only cross-origin resources."""
    tag = (f'<script src="{site.url}/static/widget.js" data-server="{site.rasa_url}" data-transport="rest" '
           "defer></script>")
    watched = watched_page(browser)
    page = watched.page
    with serve(another_shop(tag)) as shop:
        # "localhost" and "127.0.0.1" are different sites: the widget comes from another origin
        page.goto(shop.replace("127.0.0.1", "localhost"))
        assert page.evaluate("window.isSecureContext")  # so the browser holds this page to COEP
        page.wait_for_selector(".skw[data-ready='true']")
        assert page.evaluate("getComputedStyle(document.querySelector('.skw')).position") == "fixed"
        page.fill(".skw-input", "show me lamps")
        page.press(".skw-input", "Enter")
        wait_until(page, "() => document.querySelectorAll('.skw-card').length === 2")
        widget_shows_the_markup_as_text(page, 0)
        wait_until(page, "() => Array.from(document.images).every(i => i.complete)")
        assert page.locator(".skw-card img").evaluate_all("images => images.map(i => i.naturalWidth)")[0] > 0
        watched.nothing_ran("Another shop")
        assert watched.violations() == []
        page.close()


def test_markup_in_a_product_is_text_in_the_console_and_no_console_page_breaks_its_policy(
        site: Site, browser: Any) -> None:
    watched = watched_page(browser)
    page = watched.page
    page.goto(f"{site.url}/console/login")
    page.get_by_label("Name").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/console/conversations")
    page.goto(f"{site.url}/console/conversation?id={site.sender_id}")
    cards = page.get_by_test_id("card")
    assert cards.locator(".title").all_inner_texts() == [TITLE, SECOND_TITLE]
    assert cards.locator(".reason").all_inner_texts() == [REASON, REASON]
    assert SAYS_DESCRIPTION in page.get_by_test_id("message-text").all_inner_texts()
    pictures = cards.locator("img").evaluate_all("images => images.map(i => i.getAttribute('src'))")
    assert pictures == ["/catalog/images/SKU-0001.svg", "x\" onerror=\"window.__owned = 'image'"]
    page.wait_for_timeout(500)
    watched.nothing_ran(f"Conversation {site.sender_id} · Shopkeeper")
    assert watched.violations() == []
    for path in ["/console/conversations", "/console/metrics", "/console/audit"]:
        page.goto(f"{site.url}{path}")
        assert watched.violations() == [], path
    page.close()

"""The chat widget in headless Chromium, against the real Rasa server, action server and web app.

Chat to a recommendation over socket.io, press 👍 and see the refined answer, reload and
see the history, markup typed by a customer shown as text, a dropped connection that loses
and duplicates nothing, the REST fallback, the keyboard and a phone-width screen.
Screenshots go to test-output/screenshots; `SHOPKEEPER_UPDATE_DOCS_IMAGES=1` also copies
them to docs/images for the README.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from evaluation.stack import Stack, StackError, free_port, running_stack
from retrieval.contract import recommendation_card, recommendation_payload, wrapped
from tests.browser import chromium, screenshot, serve, wait_until
from tests.conftest import ROOT
from web.app import create_app
from web.settings import WebSettings

pytestmark = pytest.mark.e2e

TURN_MS = 30_000


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Stack]]:
    """The web app and both servers; yields the shop page's URL and the stack."""
    web_port = free_port()
    origin = f"http://127.0.0.1:{web_port}"
    try:
        with running_stack(tmp_path_factory.mktemp("widget"), cors=origin) as stack:
            settings = WebSettings("127.0.0.1", web_port, stack.rasa_url, ROOT / "data" / "catalog" / "images",
                                   tracker_db_url=f"sqlite:///{stack.tracker_db}", secret_key=b"w" * 32,
                                   store_db_url=f"sqlite:///{stack.shop_db}")
            with serve(create_app(settings), port=web_port) as url:
                yield url, stack
    except StackError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


def open_shop(browser: Any, url: str, **options: Any) -> Any:
    page = browser.new_page(**options)
    page.goto(url)
    page.wait_for_selector(".skw[data-ready='true']")
    return page


def shoot(page: Any, name: str) -> None:
    page.evaluate("document.querySelector('.skw-log').scrollTop = 1e9")
    screenshot(page, name, docs=True)


def send(page: Any, text: str) -> None:
    page.fill(".skw-input", text)
    page.press(".skw-input", "Enter")


def bot_texts(page: Any) -> list[str]:
    return [str(t) for t in page.locator(".skw-log .skw-bot").all_inner_texts()]


def log_snapshot(page: Any) -> list[str]:
    """Every bubble and card in the log, in order."""
    return [str(t) for t in page.locator(".skw-log > .skw-msg, .skw-log .skw-card-title").all_inner_texts()]


def wait_for_new_bot_message(page: Any, before: int) -> None:
    """Wait for the bot's answer, then until the turn's messages stop arriving (they come one by one)."""
    wait_until(page, "n => document.querySelectorAll('.skw-log .skw-bot').length > n", before, timeout_ms=TURN_MS)
    settle(page)


def settle(page: Any, quiet_ms: int = 800) -> None:
    """Wait until the log has not changed for ``quiet_ms``."""
    last, stable_since = -1, 0.0
    deadline = time.monotonic() + TURN_MS / 1000
    while time.monotonic() < deadline:
        count = page.locator(".skw-log *").count()
        if count != last:
            last, stable_since = count, time.monotonic()
        elif (time.monotonic() - stable_since) * 1000 >= quiet_ms:
            return
        page.wait_for_timeout(100)


def chat_until_cards(page: Any, first: str) -> None:
    """Say ``first`` and answer "i don't mind" until cards are shown."""
    text = first
    for _ in range(4):
        cards_before = page.locator(".skw-card").count()
        before = len(bot_texts(page))
        send(page, text)
        wait_for_new_bot_message(page, before)
        page.wait_for_selector(".skw-typing", state="hidden", timeout=TURN_MS)
        if page.locator(".skw-card").count() > cards_before:
            return
        text = "i don't mind"
    pytest.fail(f"no cards after 4 turns: {bot_texts(page)}")


def test_chat_to_cards_like_one_reload_and_see_the_history(site: tuple[str, Stack], browser: Any) -> None:
    url, _ = site
    page = open_shop(browser, url)
    assert page.get_attribute(".skw", "data-transport") in ("socketio", None)
    page.wait_for_selector(".skw[data-transport='socketio']")
    chat_until_cards(page, "i'm looking for a backpack for hiking")
    first = page.locator(".skw-card").first
    assert first.locator(".skw-card-title").inner_text()
    assert first.locator(".skw-price").inner_text()
    assert first.locator(".skw-reason").inner_text()
    assert first.locator("img").count() == 1
    shoot(page, "widget")

    liked = first.locator(".skw-card-title").inner_text()
    cards_before = page.locator(".skw-card").count()
    before = len(bot_texts(page))
    first.locator(".skw-like").click()
    wait_for_new_bot_message(page, before)
    wait_until(page, "n => document.querySelectorAll('.skw-card').length > n", cards_before, timeout_ms=TURN_MS)
    assert page.locator(".skw-log .skw-user").last.inner_text() == f"👍 {liked}"
    page.wait_for_selector(".skw-typing", state="hidden", timeout=TURN_MS)
    shown = log_snapshot(page)

    page.reload()
    page.wait_for_selector(".skw[data-ready='true']")
    assert log_snapshot(page) == shown
    assert page.locator(".skw-log .skw-user").last.inner_text() == f"👍 {liked}"
    page.close()


def test_ask_about_this_sends_a_question_about_that_card(site: tuple[str, Stack], browser: Any) -> None:
    url, _ = site
    page = open_shop(browser, url)
    chat_until_cards(page, "a rain jacket for walking the dog")
    second = page.locator(".skw-card").nth(1)
    title = second.locator(".skw-card-title").inner_text()
    cards_before = page.locator(".skw-card").count()
    second.locator(".skw-ask").click()
    assert page.locator(".skw-about").is_visible() and title in page.locator(".skw-about").inner_text()
    assert page.evaluate("document.activeElement.classList.contains('skw-input')")
    before = len(bot_texts(page))
    send(page, "how much?")
    wait_for_new_bot_message(page, before)
    answer = bot_texts(page)[-1]
    assert title.lower() in answer.lower() and any(ch.isdigit() for ch in answer), answer
    assert page.locator(".skw-card").count() == cards_before, "a question brought a new list"
    assert page.locator(".skw-about").is_hidden()
    assert page.locator(".skw-log .skw-user").last.inner_text() == f"how much? ({title})"
    page.close()


def test_markup_in_a_message_is_shown_as_text_live_and_after_reload(site: tuple[str, Stack], browser: Any) -> None:
    url, _ = site
    page = open_shop(browser, url)
    hostile = '<img src=x onerror="window.__owned=1"><script>window.__owned=2</script><b>bold</b>'
    before = len(bot_texts(page))
    send(page, hostile)
    wait_for_new_bot_message(page, before)
    assert page.locator(".skw-log .skw-user").last.inner_text() == hostile
    assert page.locator(".skw-log img[src='x'], .skw-log b, .skw-log script").count() == 0
    page.reload()
    page.wait_for_selector(".skw[data-ready='true']")
    assert page.locator(".skw-log .skw-user").last.inner_text() == hostile
    assert page.evaluate("window.__owned") is None
    page.close()


def test_a_dropped_connection_loses_and_duplicates_nothing(site: tuple[str, Stack], browser: Any) -> None:
    url, _ = site
    page = open_shop(browser, url)
    page.wait_for_selector(".skw[data-transport='socketio']")
    send(page, "hello")
    wait_for_new_bot_message(page, 1)
    page.wait_for_selector(".skw-typing", state="hidden", timeout=TURN_MS)
    # Drop the connection, then send while it is down: the message waits and goes out on reconnect.
    page.evaluate("window.shopkeeperWidget.disconnect()")
    before = len(bot_texts(page))
    send(page, "i need a lamp")
    wait_for_new_bot_message(page, before)
    page.wait_for_selector(".skw-typing", state="hidden", timeout=TURN_MS)
    page.wait_for_timeout(2000)  # any late or repeated delivery would show by now
    live = log_snapshot(page)
    assert live.count("i need a lamp") == 1 and live.count("hello") == 1
    page.reload()
    page.wait_for_selector(".skw[data-ready='true']")
    assert log_snapshot(page) == live
    page.close()


def test_a_reply_sent_while_the_connection_is_down_is_recovered(site: tuple[str, Stack], browser: Any) -> None:
    url, _ = site
    page = open_shop(browser, url)
    page.wait_for_selector(".skw[data-transport='socketio']")
    page.evaluate("window.__dropped = 0;"
                  "window.shopkeeperWidget.state.socket.on('disconnect', () => window.__dropped++)")
    send(page, "hi there")
    page.wait_for_timeout(50)  # the message is on the wire; the answer is still being made
    page.evaluate("window.shopkeeperWidget.disconnect()")
    wait_until(page, "() => window.__dropped === 1")
    wait_for_new_bot_message(page, 1)
    page.wait_for_timeout(2000)
    live = log_snapshot(page)
    assert live.count("hi there") == 1
    replies = [t for t in bot_texts(page)[1:]]
    assert replies and len(replies) == len(set(replies)), replies
    page.reload()
    page.wait_for_selector(".skw[data-ready='true']")
    assert log_snapshot(page) == live
    page.close()


def test_rest_fallback_when_socket_io_cannot_load(site: tuple[str, Stack], browser: Any) -> None:
    url, _ = site
    page = browser.new_page()
    page.route("**/socket.io.min.js", lambda route: route.abort())
    page.goto(url)
    page.wait_for_selector(".skw[data-transport='rest']")
    chat_until_cards(page, "show me desks please")
    assert page.locator(".skw-card").count() >= 3
    page.close()


def test_an_answer_that_comes_with_an_error_status_is_shown(site: tuple[str, Stack], browser: Any) -> None:
    url, _ = site
    page = browser.new_page()
    page.route("**/socket.io.min.js", lambda route: route.abort())
    page.route("**/webhooks/rest/webhook", lambda route: route.fulfill(
        status=429, content_type="application/json", headers={"Access-Control-Allow-Origin": "*"},
        body='[{"recipient_id": "x", "text": "You are typing faster than I can read — give me a second."}]'))
    page.goto(url)
    page.wait_for_selector(".skw[data-transport='rest']")
    send(page, "hello")
    wait_for_new_bot_message(page, 1)
    assert bot_texts(page)[-1] == "You are typing faster than I can read — give me a second."
    page.unroute("**/webhooks/rest/webhook")
    page.route("**/webhooks/rest/webhook", lambda route: route.fulfill(status=502, body="Bad Gateway"))
    send(page, "hello again")
    wait_for_new_bot_message(page, 2)
    assert bot_texts(page)[-1].startswith("Sorry, I can't reach the shop")
    page.close()


def test_cards_of_any_catalog_a_broken_image_a_missing_one_and_a_price_range(
    site: tuple[str, Stack], browser: Any
) -> None:
    url, _ = site

    def puzzle(**fields: Any) -> SimpleNamespace:
        return SimpleNamespace(**{"currency": "USD", "category": "Puzzles", "url": None, "rating": None,
                                  "price_from": False, **fields})

    products = [
        puzzle(id="a", title="Swan puzzle", price=9.6, image_url="/missing/swan.jpg"),
        puzzle(id="b", title="Kite", price=74.99, image_url=None, price_from=True),
        puzzle(id="c", title="Bear", price=28.99, image_url="/catalog/images/SKU-0001.svg"),
    ]
    # The cards exactly as the action server builds and wraps them.
    cards = [recommendation_card(product, rank=rank, reason="as asked") for rank, product in enumerate(products, 1)]
    answer = [{"recipient_id": "x", "text": "Here are three."},
              {"recipient_id": "x", "custom": wrapped(recommendation_payload(cards, "r-1"))}]
    page = browser.new_page()
    page.route("**/socket.io.min.js", lambda route: route.abort())
    page.route("**/webhooks/rest/webhook", lambda route: route.fulfill(
        status=200, content_type="application/json", headers={"Access-Control-Allow-Origin": "*"},
        body=json.dumps(answer)))
    page.goto(url)
    page.wait_for_selector(".skw[data-transport='rest']")
    send(page, "a puzzle")
    page.wait_for_selector(".skw-card >> nth=2")
    wait_until(page, "() => document.querySelectorAll('.skw-card .skw-img-placeholder').length === 2",
               timeout_ms=TURN_MS)
    shapes = page.evaluate("""() => [...document.querySelectorAll('.skw-card')].map(c => ({
        picture: c.querySelector('img') ? 'img' : (c.querySelector('.skw-img-placeholder') ? 'tile' : 'none'),
        price: c.querySelector('.skw-price').textContent,
        height: c.firstElementChild.getBoundingClientRect().height}))""")
    assert [s["picture"] for s in shapes] == ["tile", "tile", "img"]
    assert shapes[1]["price"] == "from $74.99" and shapes[0]["price"] == "$9.60"
    assert all(s["height"] > 50 for s in shapes)  # the tile keeps the card's shape
    screenshot(page, "widget-cards-placeholder")
    page.close()


def test_keyboard_screen_reader_and_phone_width(site: tuple[str, Stack], browser: Any) -> None:
    url, _ = site
    page = open_shop(browser, url, viewport={"width": 390, "height": 844})
    assert page.get_attribute(".skw-log", "aria-live") == "polite"
    assert page.get_attribute(".skw-log", "role") == "log"
    assert page.get_attribute(".skw-input", "aria-label")
    box = page.locator(".skw").bounding_box()
    assert box is not None and box["width"] == pytest.approx(390, abs=1)
    # Tab from the page to the message box, type, Enter; then reach the quick replies / cards by Tab.
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.classList.contains('skw-input')"):
            break
    else:
        pytest.fail("the message box cannot be reached with Tab")
    page.keyboard.type("a lamp for reading")
    page.keyboard.press("Enter")
    wait_for_new_bot_message(page, 1)
    page.wait_for_selector(".skw-typing", state="hidden", timeout=TURN_MS)
    shoot(page, "widget-phone")
    # Minimise and reopen with the keyboard.
    page.focus(".skw-toggle")
    page.keyboard.press("Enter")
    assert page.get_attribute(".skw-toggle", "aria-expanded") == "false"
    assert not page.locator(".skw-input").is_visible()
    page.keyboard.press("Enter")
    assert page.get_attribute(".skw-toggle", "aria-expanded") == "true"
    page.close()


def test_download_my_data_saves_a_copy_of_the_conversation(site: tuple[str, Stack], browser: Any) -> None:
    url, _ = site
    page = open_shop(browser, url)
    chat_until_cards(page, "need a reading lamp under 100")
    before = len(bot_texts(page))
    send(page, "can u send me a copy of all the data u have on me")
    wait_for_new_bot_message(page, before)
    button = page.get_by_role("button", name="Download my data")
    with page.expect_download(timeout=TURN_MS) as download:
        button.click()
    document = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert document["format"] == "shopkeeper-export/1"
    said = [e["event"].get("text") for e in document["conversation"] if e["type"] == "user"]
    assert "need a reading lamp under 100" in said

"""The review console in headless Chromium: sign in, filter, read a transcript, tag, export.

Runs the real web app (``create_app``) on a temporary tracker store filled with Rasa-shaped
events. Screenshots go to test-output/screenshots; ``SHOPKEEPER_UPDATE_DOCS_IMAGES=1`` also
copies the list and transcript to docs/images for the README.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from store.db import create_schema, make_engine
from tests.browser import chromium, screenshot, serve
from tests.conftest import ROOT
from tests.test_console_events import DAY, T0, disliked, fallback, handoff, happy, sample, write_rows
from web.app import create_app
from web.console.accounts import AccountStore
from web.settings import WebSettings

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("console-browser")
    sample(work / "tracker.db")
    write_rows(work / "tracker.db", [
        maker(f"web-{n:02d}{maker.__name__[:4]}", t=T0 + 5 * DAY + n * 3600)
        for n, maker in enumerate([happy, disliked, fallback, happy, handoff, disliked, happy, fallback])
    ])
    store_url = f"sqlite:///{work / 'shop.db'}"
    engine = make_engine(store_url)
    create_schema(engine)
    AccountStore(engine).add_user("ana", PASSWORD)
    settings = WebSettings("127.0.0.1", 8000, "http://127.0.0.1:5005", ROOT / "data" / "catalog" / "images",
                           tracker_db_url=f"sqlite:///{work / 'tracker.db'}", secret_key=b"c" * 32,
                           store_db_url=store_url)
    with serve(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as instance:
        yield instance


def rows(page: Any) -> list[str]:
    return [str(s) for s in page.locator("[data-testid=conversation-row]").evaluate_all(
        "rows => rows.map(r => r.dataset.sender)")]


def test_sign_in_filter_read_tag_and_export(site: str, browser: Any, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1360, "height": 900}, accept_downloads=True)
    refuse_a_wrong_password(page, site)
    sign_in(page, site)
    filter_the_list(page)
    tag_note_and_review(page)
    export_the_story(page, tmp_path)
    find_by_tag_see_metrics_and_sign_out(page, site)
    page.close()


def refuse_a_wrong_password(page: Any, site: str) -> None:
    """Without a session the console sends us to the sign-in form, which refuses a wrong password."""
    page.goto(f"{site}/console/conversations")
    assert "/console/login" in page.url
    assert page.get_by_label("Password").is_visible()
    page.get_by_label("Name").fill("ana")
    page.get_by_label("Password").fill("wrong password")
    page.click("#login-submit")
    assert page.get_by_test_id("login-error").inner_text() == "Wrong name or password."
    screenshot(page, "console-login", full_page=True)
    page.goto(f"{site}/console/api/conversations")
    assert "sign in first" in page.content()


def sign_in(page: Any, site: str) -> None:
    """The right password opens the list of every conversation."""
    page.wait_for_timeout(1100)  # the one-second wait a failed sign-in imposes
    page.goto(f"{site}/console/conversations")
    page.get_by_label("Name").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/console/conversations")
    assert page.get_by_test_id("signed-in-as").inner_text() == "ana"
    assert len(rows(page)) == 13
    screenshot(page, "console-list", docs=True, full_page=True)


def filter_the_list(page: Any) -> None:
    """The list filtered by a fallback, then by what the customer said."""
    page.get_by_label("a fallback").check()
    page.click("#apply-filters")
    page.wait_for_url("**fallback=1**")
    assert sorted(rows(page)) == ["c-fallback", "web-02fall", "web-07fall"]
    page.get_by_label("a fallback").uncheck()
    page.get_by_label("Customer said").fill("second one")
    page.click("#apply-filters")
    page.wait_for_url("**q=second+one**")
    assert sorted(rows(page)) == ["c-happy", "web-00happ", "web-03happ", "web-06happ"]


def tag_note_and_review(page: Any) -> None:
    """One conversation read with its cards, then tagged, noted and marked reviewed."""
    page.click("[data-sender='c-happy'] [data-testid=open-conversation]")
    page.wait_for_url("**/console/conversation?id=c-happy")
    assert page.get_by_test_id("card").count() == 3
    assert "request_recommendation" in page.get_by_test_id("transcript").inner_text()
    # a picture that does not load is covered by the widget's tile (the first letter), as the widget shows it
    page.wait_for_load_state("load")
    tiles = page.evaluate("""[...document.querySelectorAll('[data-testid=card] img')].map(i =>
        [i.complete, i.naturalWidth, getComputedStyle(i, '::before').content,
         getComputedStyle(i, '::before').width])""")
    assert tiles and all(done and content == '"H"' and width == "72px" for done, _, content, width in tiles), tiles
    page.get_by_label("Add a tag").fill("Good example")
    page.click("#add-tag")
    page.wait_for_url("**#review")
    assert page.get_by_test_id("tags").inner_text().startswith("good-example")
    page.get_by_label("Note").fill("Use as a regression story.")
    page.click("#save-note")
    page.click("#toggle-reviewed")
    page.wait_for_selector("[data-testid=reviewed-state]:text-is('Reviewed')")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "console-transcript", docs=True, full_page=True)


def export_the_story(page: Any, tmp_path: Path) -> None:
    """The open conversation downloaded as a Rasa test story."""
    with page.expect_download() as download_info:
        page.click("#export-story")
    download = download_info.value
    assert download.suggested_filename == "test_c-happy.yml"
    target = tmp_path / download.suggested_filename
    download.save_as(str(target))
    story = yaml.safe_load(target.read_text())["stories"][0]
    assert story["steps"][0] == {"user": "hi\n", "intent": "greet"}


def find_by_tag_see_metrics_and_sign_out(page: Any, site: str) -> None:
    """The reviewed conversation found by its tag; the metrics charts; signing out closes the console."""
    page.goto(f"{site}/console/conversations?tag=good-example&reviewed=yes")
    assert rows(page) == ["c-happy"]
    page.click("[data-testid=nav-metrics]")
    page.goto(f"{site}/console/metrics?start=2026-09-21&end=2026-09-27")
    assert page.locator("svg").count() == 5
    screenshot(page, "console-metrics", full_page=True)
    page.click("[data-testid=logout]")
    page.wait_for_url("**/console/login")
    page.goto(f"{site}/console/conversations")
    assert "/console/login" in page.url

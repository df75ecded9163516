"""Headless Chromium (Debian's, driven by Playwright) and a live web app, for browser tests.

``make test`` installs Debian's ``chromium`` (``scripts/setup.sh browser``); Playwright's
Python client drives it, so no browser is ever downloaded.

>>> with serve(create_app(settings)) as base_url, chromium() as browser:   # doctest: +SKIP
...     page = browser.new_page()
...     page.goto(base_url)
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from evaluation.stack import free_port
from tests.conftest import ROOT

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
#: Screenshots and traces of the browser tests (docs/ holds the current copies for the README).
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

__all__ = ["CHROMIUM", "SCREENSHOTS", "chromium", "require_chromium", "screenshot", "serve", "wait_until"]


def require_chromium() -> None:
    """Skip (with the reason) when Chromium is missing; ``make test`` installs it, so CI never skips."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM}: run `scripts/setup.sh browser` (make test does)")


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser (Playwright ``Browser``), closed on exit."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def serve(app: Any, host: str = "127.0.0.1", port: int | None = None) -> Iterator[str]:
    """Run an ASGI app with uvicorn in a thread (on a free port unless given); yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the web app did not start on port {port}")
        time.sleep(0.05)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def wait_until(page: Any, predicate: str, arg: Any = None, *, timeout_ms: float = 30_000) -> Any:
    """Poll ``predicate`` (a JavaScript function of ``arg``) until it returns something truthy, and return that.

    Playwright's ``wait_for_function`` polls by ``eval`` inside the page, which the pages' policies
    (no ``'unsafe-eval'``) refuse; ``page.evaluate`` is not the page's own script and is let through.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        result = page.evaluate(predicate, arg)
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout_ms / 1000:.0f} s: {predicate}")
        page.wait_for_timeout(100)


def screenshot(page: Any, name: str, *, docs: bool = False, full_page: bool = False) -> Path:
    """Save ``test-output/screenshots/<name>.png`` once images have loaded.

    With ``docs`` and ``SHOPKEEPER_UPDATE_DOCS_IMAGES=1`` set, also copy it to docs/images for the README.
    """
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    wait_until(page, "() => Array.from(document.images).every(i => i.complete)")
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if docs and os.environ.get("SHOPKEEPER_UPDATE_DOCS_IMAGES"):
        (ROOT / "docs" / "images").mkdir(parents=True, exist_ok=True)
        shutil.copy(path, ROOT / "docs" / "images" / f"{name}.png")
    return path

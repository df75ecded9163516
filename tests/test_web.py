from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import ROOT
from web.app import create_app
from web.settings import WebSettings


def client(rasa_url: str = "http://127.0.0.1:5005") -> TestClient:
    settings = WebSettings("127.0.0.1", 8000, rasa_url, ROOT / "data" / "catalog" / "images")
    return TestClient(create_app(settings))


def test_shop_page_embeds_the_widget_with_one_script_tag() -> None:
    page = client().get("/")
    assert page.status_code == 200
    assert page.text.count("<script") == 1
    assert 'src="/static/widget.js" data-server="http://127.0.0.1:5005"' in page.text


def test_rasa_url_is_escaped_into_the_page() -> None:
    page = client('http://x/"><script>alert(1)</script>').get("/")
    assert "<script>alert(1)</script>" not in page.text
    assert "&quot;&gt;&lt;script&gt;" in page.text


def test_widget_assets_and_catalog_images_are_served_locally() -> None:
    web = client()
    assert web.get("/static/widget.js").status_code == 200
    assert "textContent" in web.get("/static/widget.js").text
    image = web.get("/catalog/images/SKU-0001.svg")
    assert image.status_code == 200 and image.headers["content-type"].startswith("image/svg")
    assert web.get("/catalog/images/../../../pyproject.toml").status_code == 404
    assert web.get("/healthz").text == "ok"


def test_settings_come_from_the_environment() -> None:
    settings = WebSettings.from_env({"HOST": "0.0.0.0", "WEB_PORT": "9000", "RASA_PORT": "6000"})
    assert (settings.host, settings.port, settings.rasa_url) == ("0.0.0.0", 9000, "http://0.0.0.0:6000")
    assert WebSettings.from_env({"RASA_URL": "https://bot.example/"}).rasa_url == "https://bot.example"
    assert isinstance(settings.images_dir, Path) and settings.images_dir.is_absolute()

"""The widget (JavaScript) reads the payload by the keys the contract defines.

``web/static/widget.js`` cannot import ``retrieval/contract.py``; these checks read its source so
that a key renamed on one side fails here rather than as empty cards in a browser. The browser
tests (``test_widget_browser.py``) render payloads built by the contract's own functions.
"""

from __future__ import annotations

import re

from retrieval.contract import CUSTOM_DATA, CardKey, PayloadKey, PayloadType, names_of
from tests.conftest import ROOT

WIDGET = (ROOT / "web" / "static" / "widget.js").read_text(encoding="utf-8")


def _function(name: str) -> str:
    """The source of one top-level function of the widget (up to the next one)."""
    start = WIDGET.index(f"function {name}(")
    end = WIDGET.find("\n  function ", start + 1)
    return WIDGET[start:end if end > 0 else None]


def test_cards_read_the_contracts_card_keys() -> None:
    cards = _function("cards")
    read = set(re.findall(r"\bitem\.([A-Za-z_]+)", cards))
    assert read <= set(names_of(CardKey)), f"keys no card has: {sorted(read - set(names_of(CardKey)))}"
    # Every key is shown but the rank: the cards are drawn in the order they come.
    assert set(names_of(CardKey)) - {CardKey.RANK} <= read
    assert f"payload.{PayloadKey.ITEMS}" in cards


def test_messages_are_told_apart_by_the_contracts_payload_types() -> None:
    show = _function("show")
    assert f"message.custom.{CUSTOM_DATA}" in show
    types = set(re.findall(rf'custom\.{PayloadKey.TYPE} === "([a-z_]+)"', show))
    assert types == set(names_of(PayloadType))


def test_the_export_button_reads_the_contracts_title() -> None:
    assert f"payload.{PayloadKey.TITLE}" in _function("exportButton")

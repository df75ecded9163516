"""Properties of the conversation token that unlocks a chat's history and its data export.

``GET /api/chat/export`` and ``/api/chat/history`` answer only to ``Authorization: Bearer <token>``,
the HMAC of the sender id that the web app issued (``web/chat.py``). Whatever a client puts in
the header or the query, the answer is the customer's data for the right token and a 401 (or a
422 for a missing id) otherwise, never a server error, and a refused request changes nothing.
"""

from __future__ import annotations

import functools
import string
import tempfile
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import example, given
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.db import StoreSettings, create_schema, make_engine
from store.models import Customer, Interaction, InteractionKind
from store.profiles import ProfileStore
from tests.conftest import ROOT
from tests.properties_support import messy_text, scaled
from web.app import create_app
from web.chat import ChatSessions
from web.settings import WebSettings

SECRET = b"p" * 32
SESSIONS = ChatSessions(SECRET)
SENDER, TOKEN = SESSIONS.issue()

#: Tokens as a client may send them: the right one changed a little, hex of any length, any text.
tokens = st.one_of(
    messy_text,
    st.text(alphabet=string.hexdigits, max_size=70),
    st.tuples(st.integers(0, 63), st.characters()).map(lambda change: TOKEN[:change[0]] + change[1]
                                                       + TOKEN[change[0] + 1:]),
)
senders = st.one_of(st.just(SENDER), messy_text, st.text(alphabet="web-0123456789abcdef\n", max_size=40),
                    st.just(SENDER + "\n"), st.just(SENDER.upper()))


@given(senders, tokens)
@example(SENDER, "é" * 64)
@example(SENDER, "\udc80")
def test_a_token_is_checked_without_error(sender_id: str, token: str) -> None:
    assert SESSIONS.verify(sender_id, token) is (sender_id == SENDER and token == TOKEN)


@functools.cache
def _web() -> tuple[TestClient, ProfileStore]:
    """One web app over a store holding one customer's like (built once; requests do not change it)."""
    folder = Path(tempfile.mkdtemp(prefix="shopkeeper-token-"))
    store_url = f"sqlite:///{folder / 'shop.db'}"
    engine = make_engine(store_url)
    create_schema(engine)
    profiles = ProfileStore(engine)
    profiles.mark_consent_asked(SENDER)
    profiles.set_consent(SENDER, True)
    profiles.record(SENDER, InteractionKind.LIKE, item_id="SKU-0007", request_id="r-1", rank=1)
    settings = WebSettings("127.0.0.1", 8000, "http://127.0.0.1:5005", ROOT / "data" / "catalog" / "images",
                           tracker_db_url=f"sqlite:///{folder / 'tracker.db'}", secret_key=SECRET,
                           store_db_url=store_url, privacy=StoreSettings(store_url))
    return TestClient(create_app(settings)), profiles


def _counts(profiles: ProfileStore) -> tuple[int, int]:
    with Session(profiles.engine) as session:
        return (int(session.scalar(select(func.count()).select_from(Customer)) or 0),
                int(session.scalar(select(func.count()).select_from(Interaction)) or 0))


#: Header values as they arrive: any bytes a client can send in a header (Latin-1, as HTTP reads them).
headers = st.one_of(
    st.tuples(st.sampled_from(["Bearer ", "bearer ", "Basic ", "", "Bearer  "]), tokens)
    .map(lambda parts: (parts[0] + parts[1]).encode("utf-8", "replace")),
    st.binary(max_size=80),
).map(lambda value: bytes(b for b in value if b not in b"\r\n\x00").strip())


@scaled(0.5)
@given(st.sampled_from(["/api/chat/export", "/api/chat/history"]), senders, st.one_of(st.none(), headers))
@example("/api/chat/export", SENDER, b"Bearer " + "é".encode("latin-1") * 64)
def test_only_the_right_token_opens_a_conversation(path: str, sender_id: str, header: bytes | None) -> None:
    web, profiles = _web()
    before = _counts(profiles)
    request: dict[str, Any] = {"params": {"sender_id": sender_id}}
    if header is not None:
        request["headers"] = {"Authorization": header}
    answer = web.get(path, **request)
    right = header is not None and sender_id == SENDER and header.decode("latin-1").removeprefix(
        "Bearer ").strip() == TOKEN
    if right:
        assert answer.status_code == 200
    else:
        assert answer.status_code in (401, 422), answer.text
        assert "SKU-0007" not in answer.text
    assert _counts(profiles) == before

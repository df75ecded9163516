"""The review console over HTTP (FastAPI TestClient) against a temporary tracker store."""

from __future__ import annotations

import io
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shopkeeper_cli.main import main as cli_main
from store.db import create_schema, make_engine
from store.experiments import load_experiments
from store.models import InteractionKind
from store.profiles import ProfileStore
from tests.conftest import ROOT
from tests.test_console_events import DAY, T0, erase, handoff, sample, write_rows
from web.app import create_app
from web.console import Console, console_router
from web.console.accounts import AccountStore, ThrottlePolicy, hash_token
from web.console.routes import PRELOGIN_COOKIE, SESSION_COOKIE
from web.console.service import ConsoleConfig
from web.security import SecurityHeaders
from web.settings import WebSettings

PASSWORD = "correct horse battery"
#: Argon2id with small costs: the tests sign in many times.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class FakeClock:
    def __init__(self) -> None:
        self.now = T0 + 30 * DAY

    def __call__(self) -> float:
        return self.now


@dataclass
class Setup:
    client: TestClient
    accounts: AccountStore
    clock: FakeClock
    tracker_db: Path
    shop_db: Path


def make_setup(tmp_path: Path, *, https: bool = False, conversations: bool = True) -> Setup:
    tracker_db, shop_db = tmp_path / "tracker.db", tmp_path / "shop.db"
    if conversations:
        sample(tracker_db)
    config = ConsoleConfig(f"sqlite:///{shop_db}", f"sqlite:///{tracker_db}", https=https, erasure_check_seconds=0)
    engine = make_engine(config.store_url)
    create_schema(engine)
    clock = FakeClock()
    accounts = AccountStore(engine, hasher=FAST_HASHER, clock=clock)
    accounts.add_user("ana", PASSWORD)
    app = FastAPI()
    app.include_router(console_router(config, Console(config, accounts=accounts)))
    # behind the headers the web app puts on every answer, as create_app serves it
    client = TestClient(SecurityHeaders(app, rasa_url="http://127.0.0.1:5005"),
                        base_url="https://testserver" if https else "http://testserver", follow_redirects=False)
    return Setup(client, accounts, clock, tracker_db, shop_db)


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return make_setup(tmp_path)


def login_token(client: TestClient) -> str:
    page = client.get("/console/login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def sign_in(client: TestClient, name: str = "ana", password: str = PASSWORD, next_url: str = ""):  # type: ignore[no-untyped-def]
    return client.post("/console/login", data={"name": name, "password": password, "csrf_token": login_token(client),
                                               "next": next_url})


def csrf(client: TestClient, page: str = "/console/conversations") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).text)
    assert found
    return found.group(1)


def senders(html: str) -> list[str]:
    return re.findall(r'data-testid="conversation-row" data-sender="([^"]+)"', html)


# --------------------------------------------------------------------------- authentication


def test_console_pages_need_a_sign_in(setup: Setup) -> None:
    client = setup.client
    page = client.get("/console/conversations?handoff=1")
    assert page.status_code == 303
    assert page.headers["location"] == "/console/login?next=%2Fconsole%2Fconversations%3Fhandoff%3D1"
    for path in ("/console/metrics", "/console/conversation?id=c-happy"):
        assert client.get(path).headers["location"].startswith("/console/login")
    assert client.get("/console/api/conversations").status_code == 401
    assert client.get("/console/conversation/story?id=c-happy").status_code == 401
    assert client.post("/console/conversation/tags?id=c-happy", data={"tag": "x", "csrf_token": "x"}).status_code == 401
    assert client.post("/console/logout").status_code == 401
    # a made-up session cookie is no better
    client.cookies.set(SESSION_COOKIE, "forged", path="/console")
    assert client.get("/console/api/conversations").status_code == 401


def test_sign_in_opens_a_server_side_session_in_a_safe_cookie(setup: Setup) -> None:
    response = sign_in(setup.client, next_url="/console/conversations?fallback=1")
    assert response.status_code == 303 and response.headers["location"] == "/console/conversations?fallback=1"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain HTTP site
    token = cookie.split(";")[0].split("=", 1)[1]
    with sqlite3.connect(setup.shop_db) as db:
        stored = [row[0] for row in db.execute("SELECT token_hash FROM console_sessions")]
        password_hash = db.execute("SELECT password_hash FROM console_users").fetchone()[0]
    assert stored == [hash_token(token)] and token not in stored
    assert password_hash.startswith("$argon2id$") and PASSWORD not in password_hash
    assert setup.client.get("/console/conversations").status_code == 200
    assert setup.client.get("/console/api/conversations").json()["total"] == 5


def test_cookie_is_secure_on_an_https_site(tmp_path: Path) -> None:
    setup = make_setup(tmp_path, https=True)
    response = sign_in(setup.client)
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert setup.client.get("/console/conversations").status_code == 200


def test_sessions_expire(setup: Setup) -> None:
    sign_in(setup.client)
    setup.clock.now += setup.accounts.session_seconds + 1
    assert setup.client.get("/console/conversations").status_code == 303


def test_redirect_after_sign_in_stays_inside_the_console(setup: Setup) -> None:
    for target in ("https://evil.example/", "//evil.example/console/", "/console\\..\\x"):
        setup.client.cookies.clear()
        assert sign_in(setup.client, next_url=target).headers["location"] == "/console/conversations"


def test_wrong_password_is_refused_with_a_generic_message(setup: Setup) -> None:
    wrong = sign_in(setup.client, password="not the password")
    unknown = sign_in(setup.client, name="nobody", password=PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Wrong name or password." in response.text
        assert not any(c.startswith(f"{SESSION_COOKIE}=") for c in response.headers.get_list("set-cookie"))
    assert setup.client.get("/console/api/conversations").status_code == 401


def test_failed_logins_are_slowed_per_user_exponentially(setup: Setup) -> None:
    client, accounts, clock = setup.client, setup.accounts, setup.clock
    delays = []
    for _ in range(4):
        assert sign_in(client, password="nope").status_code == 401
        delays.append(accounts.wait_before_login("ana", "testclient"))
        clock.now += delays[-1]  # wait exactly as long as asked
    assert delays == [1.0, 2.0, 4.0, 8.0]
    assert accounts.failures("user:ana") == 4
    # too soon after a failure: refused even with the right password, and told when to retry
    sign_in(client, password="nope")
    clock.now += 3
    refused = sign_in(client)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "13"
    assert "Too many failed attempts" in refused.text
    clock.now += 13
    assert sign_in(client).status_code == 303  # a success clears the count
    assert accounts.failures("user:ana") == 0
    assert ThrottlePolicy().delay(40) == 300.0  # capped
    client.cookies.clear()
    for _ in range(3):
        sign_in(client, password="nope")
        clock.now += 600
    assert accounts.failures("user:ana") == 3
    clock.now += 25 * 3600  # a day later old failures are forgotten
    sign_in(client, password="nope")
    assert accounts.failures("user:ana") == 1 and accounts.wait_before_login("ana", "x") == 1.0


def test_failed_logins_are_slowed_per_client_across_names(setup: Setup) -> None:
    accounts, clock = setup.accounts, setup.clock
    for n in range(5):  # five free failures per address (shared offices), on different names
        sign_in(setup.client, name=f"guess{n}", password="x")
        clock.now += 60
    assert accounts.wait_before_login("someone-else", "testclient") == 0.0
    sign_in(setup.client, name="guess5", password="x")
    assert accounts.failures("client:testclient") == 6
    assert accounts.wait_before_login("someone-else", "testclient") == 1.0
    assert accounts.wait_before_login("someone-else", "10.0.0.9") == 0.0


def test_posts_without_the_right_csrf_token_are_refused(setup: Setup) -> None:
    client = setup.client
    # the login form too: its token is bound to a cookie
    assert client.post("/console/login", data={"name": "ana", "password": PASSWORD,
                                               "csrf_token": "guess"}).status_code == 403
    sign_in(client)
    for data in ({"tag": "x"}, {"tag": "x", "csrf_token": "wrong"}):
        assert client.post("/console/conversation/tags?id=c-happy", data=data).status_code == 403
    assert client.post("/console/logout", data={"csrf_token": "wrong"}).status_code == 403
    assert "x" not in client.get("/console/api/conversations").json()["conversations"][0]["tags"]


def test_sign_out_ends_the_session(setup: Setup) -> None:
    client = setup.client
    sign_in(client)
    token = client.cookies.get(SESSION_COOKIE)
    response = client.post("/console/logout", data={"csrf_token": csrf(client)})
    assert response.status_code == 303 and response.headers["location"] == "/console/login"
    assert client.get("/console/conversations").status_code == 303
    client.cookies.set(SESSION_COOKIE, token or "", path="/console")  # replaying the old cookie does not work
    assert client.get("/console/api/conversations").status_code == 401
    with sqlite3.connect(setup.shop_db) as db:
        assert db.execute("SELECT COUNT(*) FROM console_sessions").fetchone()[0] == 0


def test_prelogin_cookie_is_httponly(setup: Setup) -> None:
    page = setup.client.get("/console/login")
    cookie = next(c for c in page.headers.get_list("set-cookie") if c.startswith(f"{PRELOGIN_COOKIE}="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie


# ---------------------------------------------------------------------------------- the list


@pytest.mark.parametrize(("query", "expected"), [
    ("", {"c-happy", "c-dislike", "c-fallback", "c-handoff", "c-html"}),
    ("disliked=1", {"c-dislike"}),
    ("fallback=1", {"c-fallback"}),
    ("handoff=1", {"c-handoff"}),
    ("nothing_chosen=1", {"c-dislike", "c-fallback", "c-handoff", "c-html"}),
    ("q=sofa", {"c-happy", "c-dislike"}),
    ("q=human", {"c-handoff"}),
    ("start=2026-09-23", {"c-fallback", "c-handoff", "c-html"}),
    ("start=2026-09-22&end=2026-09-23", {"c-dislike", "c-fallback"}),
    ("end=2026-09-21", {"c-happy"}),
    ("fallback=1&handoff=1", set()),
])
def test_each_filter_filters(setup: Setup, query: str, expected: set[str]) -> None:
    sign_in(setup.client)
    page = setup.client.get(f"/console/conversations?{query}")
    assert page.status_code == 200
    assert set(senders(page.text)) == expected
    assert f'{len(expected)} conversation' in page.text


def test_tag_and_reviewed_filters_follow_the_review(setup: Setup) -> None:
    client = setup.client
    sign_in(client)
    token = csrf(client)
    client.post("/console/conversation/tags?id=c-fallback", data={"tag": "Needs NLU data", "csrf_token": token})
    client.post("/console/conversation/reviewed?id=c-handoff", data={"reviewed": "1", "csrf_token": token})
    assert senders(client.get("/console/conversations?tag=needs-nlu-data").text) == ["c-fallback"]
    assert senders(client.get("/console/conversations?reviewed=yes").text) == ["c-handoff"]
    assert "c-handoff" not in senders(client.get("/console/conversations?reviewed=no").text)


def test_the_list_pages_with_a_cursor(tmp_path: Path) -> None:
    setup = make_setup(tmp_path, conversations=False)
    write_rows(setup.tracker_db, [handoff(f"c-{n:03d}", t=T0 + n * 60) for n in range(120)])
    client = setup.client
    sign_in(client)
    first = client.get("/console/conversations?handoff=1")
    assert senders(first.text)[:2] == ["c-119", "c-118"] and len(senders(first.text)) == 50
    seen = senders(first.text)
    link = re.search(r'href="([^"]+)" data-testid="next-page"', first.text)
    while link:
        page = client.get("/console/conversations" + link.group(1).replace("&amp;", "&"))
        assert "handoff=1" in link.group(1)  # the filters stay
        seen += senders(page.text)
        link = re.search(r'href="([^"]+)" data-testid="next-page"', page.text)
    assert seen == [f"c-{n:03d}" for n in range(119, -1, -1)]


def test_new_conversations_appear_and_erased_ones_disappear(setup: Setup) -> None:
    client = setup.client
    sign_in(client)
    token = csrf(client)
    client.post("/console/conversation/note?id=c-dislike", data={"note": "look at this", "csrf_token": token})
    write_rows(setup.tracker_db, [handoff("c-new", t=T0 + 9 * DAY)])
    erase(setup.tracker_db, "c-dislike")
    listed = senders(client.get("/console/conversations").text)
    assert listed[0] == "c-new" and "c-dislike" not in listed
    assert client.get("/console/conversation?id=c-dislike").status_code == 404
    assert client.get("/console/conversation/story?id=c-dislike").status_code == 404


def test_erasures_are_looked_for_at_most_every_few_seconds_but_new_events_always(tmp_path: Path) -> None:
    sample(tmp_path / "tracker.db")
    config = ConsoleConfig(f"sqlite:///{tmp_path / 'shop.db'}", f"sqlite:///{tmp_path / 'tracker.db'}",
                           erasure_check_seconds=3600)
    console = Console(config)
    assert console.sync() is not None
    erase(tmp_path / "tracker.db", "c-happy")
    write_rows(tmp_path / "tracker.db", [handoff("c-later", t=T0 + 8 * DAY)])
    report = console.sync()
    assert report is not None and report.conversations_updated == 1 and report.erased == ()
    forced = console.sync(check_erasures=True)
    assert forced is not None and forced.erased == ("c-happy",)


# ---------------------------------------------------------------------------- a conversation


def test_transcript_shows_messages_cards_intents_confidence_and_slots(setup: Setup) -> None:
    sign_in(setup.client)
    page = setup.client.get("/console/conversation?id=c-happy")
    assert page.status_code == 200
    text = page.text
    assert text.count('data-testid="card"') == 3 and 'data-item="SKU-0002"' in text
    assert "under your $800 budget" in text and "/catalog/images/SKU-0001.svg" in text
    assert "request_recommendation" in text and '<span class="confidence" data-testid="confidence">1.00</span>' in text
    assert 'data-testid="confidence">0.99</span>' in text
    assert "pressed <strong>Yes</strong>" in text  # the satisfaction button, by its title
    assert "/feedback{&#34;item_id&#34;: &#34;SKU-0002&#34;" in text  # the 👍 payload, escaped
    assert '<th scope="row">liked_items</th><td><code>["SKU-0002"]</code>' in text
    assert "awaiting" in text and "satisfaction" in text  # the slot as it changed


def test_html_typed_by_a_customer_is_escaped(setup: Setup) -> None:
    sign_in(setup.client)
    for page in (setup.client.get("/console/conversation?id=c-html"), setup.client.get("/console/conversations")):
        assert "<script>alert" not in page.text and "<b>bold</b>" not in page.text
        assert "&lt;script&gt;alert(" in page.text


def test_tags_notes_and_reviewed_persist(setup: Setup, tmp_path: Path) -> None:
    client = setup.client
    sign_in(client)
    token = csrf(client)
    client.post("/console/conversation/tags?id=c-dislike", data={"tag": "Bad cards", "csrf_token": token})
    client.post("/console/conversation/tags?id=c-dislike", data={"tag": "budget", "csrf_token": token})
    client.post("/console/conversation/tags/remove?id=c-dislike", data={"tag": "budget", "csrf_token": token})
    bad = client.post("/console/conversation/tags?id=c-dislike", data={"tag": "<b>", "csrf_token": token})
    assert bad.status_code == 303 and "error=" in bad.headers["location"]
    client.post("/console/conversation/note?id=c-dislike", data={"note": "<i>cheaper</i> please", "csrf_token": token})
    done = client.post("/console/conversation/reviewed?id=c-dislike", data={"reviewed": "1", "csrf_token": token})
    assert done.status_code == 303 and done.headers["location"].startswith("/console/conversation?id=c-dislike")
    # a new app on the same database sees the same review
    config = ConsoleConfig(f"sqlite:///{setup.shop_db}", f"sqlite:///{setup.tracker_db}")
    app = FastAPI()
    app.include_router(console_router(config, Console(config, accounts=setup.accounts)))
    fresh = TestClient(app, follow_redirects=False)
    sign_in(fresh)
    page = fresh.get("/console/conversation?id=c-dislike").text
    assert '<span class="tag">bad-cards</span>' in page and '<span class="tag">budget</span>' not in page
    assert "&lt;i&gt;cheaper&lt;/i&gt; please</textarea>" in page
    assert 'data-testid="reviewed-state">Reviewed<' in page and "Last change by ana" in page
    row = next(r for r in fresh.get("/console/api/conversations").json()["conversations"]
               if r["sender_id"] == "c-dislike")
    assert row["tags"] == ["bad-cards"] and row["reviewed"] is True


def test_export_downloads_a_test_story(setup: Setup) -> None:
    sign_in(setup.client)
    response = setup.client.get("/console/conversation/story?id=c-happy")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="test_c-happy.yml"'
    story = yaml.safe_load(response.text)["stories"][0]
    assert story["steps"][0] == {"user": "hi\n", "intent": "greet"}
    steps = story["steps"]
    chose = steps.index(next(s for s in steps if s.get("intent") == "choose_item"))
    assert steps[chose + 1] == {"action": "action_shop"}
    # only the slots that influence the dialogue: none does (shop_state, shown_items… are set but not featurized)
    assert [s for s in steps if "slot_was_set" in s] == []


def test_metrics_page_draws_charts_inline(setup: Setup) -> None:
    sign_in(setup.client)
    page = setup.client.get("/console/metrics?start=2026-09-21&end=2026-09-27")
    assert page.status_code == 200
    assert page.text.count("<svg") == 5 and "<script" not in page.text and "http://" not in page.text.split("<svg")[0]
    figures = dict(re.findall(r'data-testid="m-([a-z]+)">([^<]+)<', page.text))
    assert figures == {"conversations": "5", "acceptance": "50%", "likes": "50%", "satisfaction": "100%",
                       "handoffs": "1", "fallbacks": "1"}
    assert "<title>21 Sep: 1</title>" in page.text and "<title>27 Sep: 0</title>" in page.text
    assert "default-src 'self'" in page.headers["content-security-policy"]


# ---------------------------------------------------------------------------- wiring and CLI


def test_the_web_app_mounts_the_console(tmp_path: Path) -> None:
    settings = WebSettings("127.0.0.1", 8000, "http://127.0.0.1:5005", ROOT / "data" / "catalog" / "images",
                           tracker_db_url=f"sqlite:///{tmp_path / 'tracker.db'}",
                           store_db_url=f"sqlite:///{tmp_path / 'shop.db'}")
    client = TestClient(create_app(settings), follow_redirects=False)
    assert client.get("/console").headers["location"] == "/console/conversations"
    assert client.get("/console/conversations").headers["location"].startswith("/console/login")
    assert client.get("/console/login").status_code == 200
    assert client.get("/static/console/console.css").status_code == 200
    assert WebSettings.from_env({"SHOPKEEPER_HTTPS": "1", "SHOPKEEPER_SECRET_KEY": "k" * 16}).https


def test_cli_manages_console_users(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-pass\n"))
    assert cli_main(["console", "add-user", "bob", "--password-stdin", "--db", url]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("another-pass\n"))
    assert cli_main(["console", "add-user", "bob", "--password-stdin", "--db", url]) == 1
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli_main(["console", "add-user", "eve", "--password-stdin", "--db", url]) == 1
    answers = iter(["first-password", "second-password"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert cli_main(["console", "add-user", "eve", "--db", url]) == 1
    assert "differ" in capsys.readouterr().err
    assert cli_main(["console", "list-users", "--db", url]) == 0
    listing = capsys.readouterr().out
    assert "bob " in listing and "never" in listing and "\neve " not in listing
    accounts = AccountStore(make_engine(url))
    assert accounts.login("bob", "s3cret-pass", "cli").ok
    assert cli_main(["console", "remove-user", "bob", "--db", url]) == 0
    assert cli_main(["console", "remove-user", "bob", "--db", url]) == 1
    assert not accounts.login("bob", "s3cret-pass", "cli-2").ok


def test_metrics_page_reports_each_experiment_by_variant(setup: Setup) -> None:
    experiment = load_experiments()["personalisation"]
    engine = make_engine(f"sqlite:///{setup.shop_db}")
    profiles = ProfileStore(engine, variant_of=experiment.label_for)
    for index in range(6):
        sender = f"web-exp-{index}"
        profiles.record_many(sender, [(InteractionKind.IMPRESSION, "SKU-0001", 1)], request_id=f"r-{index}")
        if index % 2:
            profiles.record(sender, InteractionKind.LIKE, item_id="SKU-0001", request_id=f"r-{index}")
    sign_in(setup.client)
    page = setup.client.get("/console/metrics")
    assert 'data-testid="experiment-personalisation"' in page.text
    rows = re.findall(r'<tr data-testid="variant-row"><td>([^<]+)</td><td>(\d+)</td>', page.text)
    assert [label for label, _ in rows] == ["personalisation/control", "personalisation/personalised"]
    assert sum(int(count) for _, count in rows) == 6
    assert page.text.count("p = ") == 1  # only the treatment is tested against the control

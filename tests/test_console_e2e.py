"""End to end: a real conversation over REST, exported by the console, passes ``rasa test``.

Needs the trained model and the built index (`make test` builds both first).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from evaluation.stack import MODEL, RASA, StackError, running_stack, say
from store.db import create_schema, make_engine
from tests.conftest import ROOT
from web.console import Console, console_router
from web.console.accounts import AccountStore
from web.console.service import ConsoleConfig

pytestmark = pytest.mark.e2e


def test_an_exported_conversation_passes_rasa_test(tmp_path: Path) -> None:
    sender = "console-e2e"
    try:
        with running_stack(tmp_path / "stack") as stack:
            assert say(stack.rasa_url, sender, "hello")
            cards = None
            for text in ("i need a sofa under 800", "i don't mind", "i don't mind", "i don't mind"):
                reply = say(stack.rasa_url, sender, text)
                payloads = [m["custom"]["data"] for m in reply if "custom" in m]
                if payloads:
                    cards = payloads[-1]
                    break
            assert cards, "no recommendation came back"
            first = cards["items"][0]["id"]
            assert say(stack.rasa_url, sender, f'/feedback{{"item_id": "{first}", "sentiment": "like"}}')
            assert say(stack.rasa_url, sender, "no")
            tracker_db = stack.tracker_db
    except StackError as exc:
        pytest.fail(str(exc))

    config = ConsoleConfig(f"sqlite:///{tmp_path / 'shop.db'}", f"sqlite:///{tracker_db}")
    engine = make_engine(config.store_url)
    create_schema(engine)
    accounts = AccountStore(engine, hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    accounts.add_user("ana", "correct horse battery")
    app = FastAPI()
    app.include_router(console_router(config, Console(config, accounts=accounts)))
    client = TestClient(app)
    login = client.get("/console/login").text
    token = login.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    client.post("/console/login", data={"name": "ana", "password": "correct horse battery", "csrf_token": token})
    assert sender in client.get("/console/conversations").text
    export = client.get(f"/console/conversation/story?id={sender}")
    assert export.status_code == 200

    steps = yaml.safe_load(export.text)["stories"][0]["steps"]
    # every shopping turn (the request, the answers, the 👍 and the reply to the consent question) is action_shop
    assert sum(s == {"action": "action_shop"} for s in steps) >= 3
    feedback = next(i for i, s in enumerate(steps)
                    if s.get("intent") == "feedback" and s.get("user", "").startswith("/feedback{"))
    assert steps[feedback + 1] == {"action": "action_shop"}
    stories = tmp_path / "stories" / "test_exported.yml"
    stories.parent.mkdir()
    stories.write_text(export.text, encoding="utf-8")
    result = subprocess.run(
        [str(RASA), "test", "core", "--model", str(MODEL), "--stories", str(stories),
         "--fail-on-prediction-errors", "--out", str(tmp_path / "results")],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RASA_TELEMETRY_ENABLED": "false"},
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    failed = (tmp_path / "results" / "failed_test_stories.yml").read_text()
    assert "None of the test stories failed" in failed, failed

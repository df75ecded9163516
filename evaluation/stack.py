"""Start the Rasa server and the action server on free loopback ports, for tests and benchmarks.

>>> with running_stack(Path("/tmp/work")) as stack:      # doctest: +SKIP
...     say(stack.rasa_url, "someone", "hello")
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.errors import StackError
from retrieval.paths import PROJECT_ROOT

RASA = PROJECT_ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL = PROJECT_ROOT / "models" / "shopkeeper.tar.gz"
#: Rasa loads its model in about 30 s on an idle machine; a busy CI machine can take several minutes.
STARTUP_SECONDS = int(os.environ.get("SHOPKEEPER_STACK_STARTUP_SECONDS", "480"))

__all__ = ["MODEL", "RASA", "Stack", "StackError", "get", "post", "running_stack", "say", "with_token"]


@dataclass(frozen=True)
class Stack:
    """Where the running servers are and where they keep their data."""

    rasa_url: str
    action_url: str
    tracker_db: Path
    shop_db: Path
    work: Path
    #: The Rasa HTTP API token (``--auth-token``), or ``None`` when the API is open.
    token: str | None = None
    #: Process ids of the servers, by name ("rasa", "actions"), for memory readings.
    pids: tuple[tuple[str, int], ...] = ()

    def api(self, path: str) -> str:
        """The URL of a Rasa HTTP API path, with the token when there is one."""
        return with_token(f"{self.rasa_url}{path}", self.token)


def with_token(url: str, token: str | None) -> str:
    """``url`` with ``token=…`` added to its query (unchanged when ``token`` is ``None``)."""
    if token is None:
        return url
    return f"{url}{'&' if '?' in url else '?'}token={urllib.parse.quote(token, safe='')}"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str) -> tuple[int, str]:
    """GET a URL: status and body, ``(0, "")`` when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except OSError:
        return 0, ""


def post(url: str, body: Any, timeout: float = 60) -> Any:
    """POST JSON and decode the JSON answer."""
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def say(rasa_url: str, sender: str, text: str) -> list[dict[str, Any]]:
    """Send one customer message over Rasa's REST channel; the bot's messages come back."""
    reply = post(f"{rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": text})
    if not isinstance(reply, list):
        raise StackError(f"unexpected REST answer: {reply!r}")
    return reply


def _wait_until(check: Callable[[], bool], what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if check():
            return
        if process.poll() is not None:
            raise StackError(f"{what} exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    raise StackError(f"{what} did not start within {STARTUP_SECONDS}s:\n{log.read_text()[-3000:]}")


@contextmanager
def running_stack(work: Path, *, extra_env: dict[str, str] | None = None,
                  cors: str | None = None, auth_token: str | None = None,
                  model: Path | None = None) -> Iterator[Stack]:
    """Run both servers with their databases in ``work``; stop them on exit.

    ``cors`` is the origin a browser page calls Rasa's REST channel from (``--cors``).
    ``model`` is the Rasa model to serve (default ``models/shopkeeper.tar.gz``); for another
    catalog pass its model and its ``SHOPKEEPER_CATALOG``/``SHOPKEEPER_INDEX_DIR`` in ``extra_env``
    (``shopkeeper catalog use`` writes both to ``build/catalogs/NAME/``).
    ``auth_token`` closes Rasa's HTTP API (``--auth-token``): use ``stack.api(path)`` for it;
    the channels (REST webhook, socket.io) stay open.

    Raises:
        StackError: when the Rasa environment or model is missing, or a server fails to start.
    """
    model = model or MODEL
    if not RASA.exists() or not model.exists():
        raise StackError("the Rasa environment or model is missing: run `make model` (make test builds both)")
    work.mkdir(parents=True, exist_ok=True)
    action_port, rasa_port = free_port(), free_port()
    env = {
        **os.environ,
        "ACTION_SERVER_URL": f"http://127.0.0.1:{action_port}/webhook",
        "RASA_TRACKER_DB": str(work / "tracker.db"),
        "SHOPKEEPER_DB_URL": f"sqlite:///{work / 'shop.db'}",
        "RASA_TELEMETRY_ENABLED": "false",
        "HF_HUB_OFFLINE": "1",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        **(extra_env or {}),
    }
    action_log, rasa_log = work / "actions.log", work / "rasa.log"
    actions = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "-p", str(action_port),
         "--endpoints", "bot/endpoints.yml"],
        cwd=PROJECT_ROOT, env=env, stdout=action_log.open("wb"), stderr=subprocess.STDOUT,
    )
    rasa = subprocess.Popen(
        [str(RASA), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(rasa_port), "-m", str(model),
         "--endpoints", "bot/endpoints.yml", "--credentials", "bot/credentials.yml",
         *(["--cors", cors] if cors else []), *(["--auth-token", auth_token] if auth_token else [])],
        cwd=PROJECT_ROOT, env=env, stdout=rasa_log.open("wb"), stderr=subprocess.STDOUT,
    )
    rasa_url, action_url = f"http://127.0.0.1:{rasa_port}", f"http://127.0.0.1:{action_port}"
    try:
        _wait_until(lambda: get(f"{action_url}/health")[0] == 200, "action server", actions, action_log)
        status = with_token(f"{rasa_url}/status", auth_token)
        _wait_until(lambda: "model_file" in get(status)[1], "Rasa server", rasa, rasa_log)
        yield Stack(rasa_url, action_url, work / "tracker.db", work / "shop.db", work, auth_token,
                    (("rasa", rasa.pid), ("actions", actions.pid)))
    finally:
        for process in (rasa, actions):
            process.terminate()
        for process in (rasa, actions):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()

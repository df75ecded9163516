"""``python -m web.ready``: wait until every service answers, then say where to open the chat.

Run by ``make run`` beside the services; it stays up (honcho stops everything
when one process ends) and exits quietly on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
import urllib.error
import urllib.request

from web.settings import WebSettings

#: Give up announcing (but keep running) after this many seconds.
PATIENCE_SECONDS = 300


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(200 <= response.status < 300)
    except (urllib.error.URLError, OSError):
        return False


def main() -> int:
    """Poll the health endpoints, print the address, then wait for Ctrl-C."""
    settings = WebSettings.from_env()
    action_port = int(os.environ.get("ACTION_PORT", "5055"))
    web_url = f"http://{settings.host}:{settings.port}"
    checks = {
        "Rasa server": f"{settings.rasa_url}/",
        "action server": f"http://{settings.host}:{action_port}/health",
        "web app": f"{web_url}/healthz",
    }
    waiting = dict(checks)
    started = time.monotonic()
    while waiting and time.monotonic() - started < PATIENCE_SECONDS:
        waiting = {name: url for name, url in waiting.items() if not _answers(url)}
        if waiting:
            time.sleep(1)
    if waiting:
        print(f"Still waiting for: {', '.join(waiting)} — see the log lines above.", flush=True)
    else:
        bar = "=" * 64
        print(
            f"\n{bar}\n  Shopkeeper is ready ({time.monotonic() - started:.0f}s).\n"
            f"  Open the shop and chat:  {web_url}/\n"
            f"  Rasa server:             {settings.rasa_url}\n"
            f"  Stop everything:         Ctrl-C\n{bar}\n",
            flush=True,
        )
    with contextlib.suppress(KeyboardInterrupt):
        signal.pause()
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.exit(main())

"""``python -m web``: serve the web app with uvicorn."""

from __future__ import annotations

import uvicorn

from web.app import create_app
from web.settings import WebSettings


def main() -> None:
    """Start the web app on the configured host and port."""
    settings = WebSettings.from_env()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()

"""Parse messages with a trained Rasa model, in process inside the Rasa environment (Python 3.10, rasa 3.6).

``benchmarks/queries.py --in-process`` runs this file with ``.venv-rasa/bin/python -I`` to read every
message of its suites once with a catalog's own model, then replays the conversations in the action
server's code without servers::

    .venv-rasa/bin/python -I benchmarks/rasa_parse.py MODEL.tar.gz TEXTS.json OUT.json

``TEXTS.json`` is a list of messages; ``OUT.json`` receives ``{text: parse}``, each parse as Rasa's
``/model/parse`` gives it (``text``, ``intent``, ``entities``, ``intent_ranking``). Nothing here imports
our packages but what the model's pipeline names (``bot.rasa_components``): only Rasa and the standard
library.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from typing import Any

__all__ = ["main", "parse_all"]


async def parse_all(model: str, texts: list[str]) -> dict[str, Any]:
    """Every text parsed by the model at ``model`` (a ``.tar.gz``), keyed by the text."""
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    parsed: dict[str, Any] = {}
    for text in texts:
        if text not in parsed:
            result = await agent.parse_message(text)
            parsed[text] = {k: result.get(k) for k in ("text", "intent", "entities", "intent_ranking")}
    return parsed


def main(argv: list[str]) -> int:
    """Parse ``argv[1]`` (a JSON list of texts) with the model ``argv[0]``; write the parses to ``argv[2]``."""
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING)
    model, texts_path, out_path = argv
    with open(texts_path, encoding="utf-8") as f:
        texts = [str(t) for t in json.load(f)]
    parsed = asyncio.run(parse_all(model, texts))
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(parsed, f, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

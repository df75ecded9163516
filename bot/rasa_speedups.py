"""Loaded at start-up of every Python process in the Rasa environment (via a .pth file).

Rasa 3.6 checks each answer of the action server with ``jsonschema.validate``,
which re-validates the schema itself against its metaschema on every call: about
40 ms per action call on this machine, the largest single cost of a recommendation
turn (benchmarks/turns.py). This keeps ``jsonschema.validate``'s behaviour — same
errors, same best match — but checks and compiles each distinct schema once.

Installed by scripts/setup.sh into .venv-rasa; nothing else of ours runs in Rasa.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import jsonschema
from jsonschema import exceptions, validators

_original_validate = jsonschema.validate


@functools.lru_cache(maxsize=32)
def _compiled(schema_json: str) -> Any:
    schema = json.loads(schema_json)
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
    """``jsonschema.validate`` with the schema checked and compiled once per distinct schema."""
    if cls is not None or args or kwargs:
        _original_validate(instance, schema, cls, *args, **kwargs)
        return
    try:
        key = json.dumps(schema, sort_keys=True)
    except (TypeError, ValueError):
        _original_validate(instance, schema)
        return
    error = exceptions.best_match(_compiled(key).iter_errors(instance))
    if error is not None:
        raise error


jsonschema.validate = validate

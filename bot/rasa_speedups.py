"""Loaded at start-up of every Python process in the Rasa environment (via a .pth file).

Two costs of Rasa 3.6 that grow with nothing a shop needs:

* Rasa checks each answer of the action server with ``jsonschema.validate``, which
  re-validates the schema itself against its metaschema on every call: about 40 ms per
  action call on this machine, once the largest single cost of a recommendation turn
  (benchmarks/turns.py). :func:`validate` keeps ``jsonschema.validate``'s behaviour —
  same errors, same best match — but checks and compiles each distinct schema once.
* Every action call carries the whole conversation: ``RemoteAction._action_call_format``
  serialises every event since the conversation began (610 kB of JSON after 120 turns,
  28 ms for the action server to read). Our actions read the slots and the latest
  message, never the event history (actions/ keeps the conversation in the
  ``shop_state`` slot), so :func:`action_call_format` sends the events of the current
  turn only, from the customer's last message on; the rest of the payload is Rasa's own.
  ``SHOPKEEPER_ACTION_EVENTS=all`` restores Rasa's behaviour.

Installed by scripts/setup.sh into .venv-rasa, with bot/rasa_components.py (the NLU
components); nothing else of ours runs in Rasa.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.util
import json
import os
import sys
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


def turn_events(events: Any) -> list[Any]:
    """The events from the customer's last message on (all of them when there is none)."""
    from rasa.shared.core.events import UserUttered

    listed = list(events)
    for index in range(len(listed) - 1, -1, -1):
        if isinstance(listed[index], UserUttered):
            return listed[index:]
    return listed


def action_call_format(self: Any, tracker: Any, domain: Any) -> dict[str, Any]:
    """``RemoteAction._action_call_format`` with only the current turn's events in the tracker."""
    if os.environ.get("SHOPKEEPER_ACTION_EVENTS", "turn") == "all":
        return _original_action_call_format(self, tracker, domain)
    import rasa
    from rasa.shared.core.trackers import EventVerbosity

    tracker_state = tracker.current_state(EventVerbosity.NONE)
    tracker_state["events"] = [event.as_dict() for event in turn_events(tracker.events)]
    result = {"next_action": self._name, "sender_id": tracker.sender_id, "tracker": tracker_state,
              "version": rasa.__version__}
    if not self._is_selective_domain_enabled() or domain.does_custom_action_explicitly_need_domain(self.name()):
        result["domain"] = domain.as_dict()
    return result


def _patch(module: Any) -> None:
    global _original_action_call_format
    _original_action_call_format = module.RemoteAction._action_call_format
    module.RemoteAction._action_call_format = action_call_format


_original_action_call_format: Any = None
_PATCHED_MODULE = "rasa.core.actions.action"


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches ``RemoteAction`` when Rasa first imports it: importing Rasa here, at interpreter
    start, would slow every Python process of the environment (pip's included) by seconds."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != _PATCHED_MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        loader, exec_module = spec.loader, spec.loader.exec_module

        def patched_exec(module: Any) -> None:
            exec_module(module)
            _patch(module)

        loader.exec_module = patched_exec  # type: ignore[method-assign]
        return spec


if _PATCHED_MODULE in sys.modules:
    _patch(sys.modules[_PATCHED_MODULE])
else:
    sys.meta_path.insert(0, _PatchOnImport())

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
* Reading a conversation back from the tracker store turns each stored event into its
  class with ``Event.resolve_by_type``, which walks every subclass of ``Event`` (with
  ``inspect.isabstract`` on each) for every event: 70 % of the 105 ms it took to read a
  120-turn conversation. :func:`resolve_by_type` remembers the class each type name
  resolved to; a name not seen yet still goes through Rasa's own walk.

``SHOPKEEPER_RASA_SPEEDUPS=0`` leaves Rasa exactly as released (benchmarks/bare_rasa.py
measures Rasa's starter assistant that way).

Imported as ``bot.rasa_speedups`` by the ``.pth`` file scripts/setup.sh writes into
.venv-rasa, which also puts the repository on ``sys.path`` for bot/rasa_components.py (the
NLU components); nothing else of ours runs in Rasa.
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


def _patch_actions(module: Any) -> None:
    global _original_action_call_format
    _original_action_call_format = module.RemoteAction._action_call_format
    module.RemoteAction._action_call_format = action_call_format


def _patch_events(module: Any) -> None:
    global _original_resolve_by_type
    _original_resolve_by_type = module.Event.resolve_by_type
    module.Event.resolve_by_type = staticmethod(resolve_by_type)


_original_action_call_format: Any = None
_original_resolve_by_type: Any = None
#: Event type name → the class Rasa resolved it to (the first subclass of ``Event`` with that name).
_EVENT_CLASSES: dict[str, Any] = {}


def resolve_by_type(type_name: str, default: Any = None) -> Any:
    """``Event.resolve_by_type``, remembering each name's class instead of walking every subclass again."""
    known = _EVENT_CLASSES.get(type_name)
    if known is not None:
        return known
    found = _original_resolve_by_type(type_name, default)
    if found is not None and found is not default:
        _EVENT_CLASSES[type_name] = found
    return found


#: The Rasa modules patched when first imported, and how.
_PATCHES = {"rasa.core.actions.action": _patch_actions, "rasa.shared.core.events": _patch_events}


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Patches a module of :data:`_PATCHES` when Rasa first imports it.

    Importing Rasa here, at interpreter start, would slow every Python process of the
    environment (pip's included) by seconds.
    """

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        patch = _PATCHES.get(name)
        if patch is None:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            if any(module not in sys.modules for module in _PATCHES if module != name):
                sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        loader, exec_module = spec.loader, spec.loader.exec_module

        def patched_exec(module: Any) -> None:
            exec_module(module)
            patch(module)

        loader.exec_module = patched_exec  # type: ignore[method-assign]
        return spec


if os.environ.get("SHOPKEEPER_RASA_SPEEDUPS", "1") != "0":
    jsonschema.validate = validate
    if any(name not in sys.modules for name in _PATCHES):
        sys.meta_path.insert(0, _PatchOnImport())
    for _name, _patch in _PATCHES.items():
        if _name in sys.modules:
            _patch(sys.modules[_name])

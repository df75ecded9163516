"""The schema-check speed-up installed into the Rasa environment keeps Rasa's behaviour."""

from __future__ import annotations

import subprocess
import textwrap

from evaluation.stack import RASA

CHECK = textwrap.dedent(
    """
    import jsonschema
    import bot.rasa_speedups
    from rasa.core.actions.action import RemoteAction

    assert jsonschema.validate is bot.rasa_speedups.validate
    action = RemoteAction("action_recommend", None)
    good = {"events": [{"event": "slot", "name": "x", "value": 1}], "responses": [{"text": "hi"}]}
    assert action._validate_action_result(good)
    try:
        action._validate_action_result({"events": "not a list"})
    except jsonschema.ValidationError as error:
        assert "Failed to validate Action server response" in error.message
    else:
        raise AssertionError("an invalid answer passed")
    for _ in range(5):
        action._validate_action_result(good)
    info = bot.rasa_speedups._compiled.cache_info()
    print(info.misses, info.hits)
    """
)


def test_rasa_checks_action_answers_with_the_cached_validator() -> None:
    python = RASA.parent / "python"
    result = subprocess.run([str(python), "-c", CHECK], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    misses, hits = map(int, result.stdout.strip().splitlines()[-1].split())
    assert (misses, hits) == (1, 6)  # the schema is checked and compiled once, then reused


CALL_FORMAT = textwrap.dedent(
    """
    import json
    import bot.rasa_speedups
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.from_yaml('''
    version: "3.1"
    intents: [greet, request_recommendation]
    slots:
      shop_state: {type: any, mappings: [{type: custom}]}
    actions: [action_shop]
    ''')
    events = [ActionExecuted("action_listen")]
    for turn in range(5):
        events += [UserUttered(f"i need a sofa {turn}", {"name": "request_recommendation", "confidence": 0.9}),
                   ActionExecuted("action_shop"), SlotSet("shop_state", {"turn": turn}),
                   BotUttered(f"here are sofas {turn}"), ActionExecuted("action_listen")]
    events += [UserUttered("cheaper", {"name": "request_recommendation", "confidence": 0.8})]
    tracker = DialogueStateTracker.from_events("alice", events, domain.slots)
    action = RemoteAction("action_shop", None)
    ours = action._action_call_format(tracker, domain)
    rasas = bot.rasa_speedups._original_action_call_format(action, tracker, domain)
    print(json.dumps({"ours": ours, "rasas": rasas}, default=str))
    """
)


def _run_in_rasa(script: str, env: dict[str, str] | None = None) -> dict[str, object]:
    """The JSON object the script prints last, run by .venv-rasa's Python with ``env`` added."""
    import json
    import os

    python = RASA.parent / "python"
    result = subprocess.run([str(python), "-c", script], capture_output=True, text=True, timeout=180,
                            env={**os.environ, **(env or {})})
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _call_formats(env: dict[str, str] | None = None) -> dict[str, dict[str, object]]:
    return _run_in_rasa(CALL_FORMAT, env)  # type: ignore[return-value]


def test_action_calls_carry_the_current_turn_not_the_whole_conversation() -> None:
    formats = _call_formats()
    ours, rasas = formats["ours"], formats["rasas"]
    assert isinstance(ours["tracker"], dict) and isinstance(rasas["tracker"], dict)
    events = ours["tracker"].pop("events")
    full = rasas["tracker"].pop("events")
    assert len(full) == 27 and [e["event"] for e in events] == ["user"]  # from the last message on
    assert events[0]["text"] == "cheaper" and events == full[-1:]
    # Everything else an action reads is Rasa's own: slots, latest message, sender, domain.
    assert ours == rasas
    assert ours["tracker"]["slots"]["shop_state"] == {"turn": 4}
    assert ours["tracker"]["latest_message"]["text"] == "cheaper"


def test_the_whole_conversation_is_sent_when_asked() -> None:
    formats = _call_formats({"SHOPKEEPER_ACTION_EVENTS": "all"})
    assert formats["ours"] == formats["rasas"]


RESOLVE = textwrap.dedent(
    """
    import json
    import jsonschema
    import rasa.shared.utils.common
    import bot.rasa_speedups as speedups
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event

    names = sorted({cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)})
    patched = Event.resolve_by_type is speedups.resolve_by_type
    same = all(Event.resolve_by_type(n) is speedups._original_resolve_by_type(n) for n in names) if patched else None
    again = all(Event.resolve_by_type(n) is Event.resolve_by_type(n) for n in names)
    try:
        Event.resolve_by_type("no such event")
        unknown = "accepted"
    except ValueError as error:
        unknown = str(error)
    print(json.dumps({"patched": patched, "same": same, "again": again, "names": len(names), "unknown": unknown,
                      "schema": jsonschema.validate is speedups.validate,
                      "actions": RemoteAction._action_call_format is speedups.action_call_format}))
    """
)


def _resolve(env: dict[str, str] | None = None) -> dict[str, object]:
    return _run_in_rasa(RESOLVE, env)


def test_stored_events_resolve_to_rasas_own_classes_without_the_walk() -> None:
    out = _resolve()
    assert out["patched"] is True and out["same"] is True and out["again"] is True
    assert int(out["names"]) > 20  # every event type Rasa defines
    assert out["unknown"] == "Unknown event name 'no such event'."  # Rasa's own error, unchanged


def test_rasa_as_released_when_the_speedups_are_off() -> None:
    out = _resolve({"SHOPKEEPER_RASA_SPEEDUPS": "0"})
    assert (out["patched"], out["schema"], out["actions"]) == (False, False, False)

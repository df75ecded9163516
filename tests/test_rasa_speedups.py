"""The schema-check speed-up installed into the Rasa environment keeps Rasa's behaviour."""

from __future__ import annotations

import subprocess
import textwrap

from evaluation.stack import RASA

CHECK = textwrap.dedent(
    """
    import jsonschema
    import shopkeeper_rasa_speedups
    from rasa.core.actions.action import RemoteAction

    assert jsonschema.validate is shopkeeper_rasa_speedups.validate
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
    info = shopkeeper_rasa_speedups._compiled.cache_info()
    print(info.misses, info.hits)
    """
)


def test_rasa_checks_action_answers_with_the_cached_validator() -> None:
    python = RASA.parent / "python"
    result = subprocess.run([str(python), "-c", CHECK], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    misses, hits = map(int, result.stdout.strip().splitlines()[-1].split())
    assert (misses, hits) == (1, 6)  # the schema is checked and compiled once, then reused

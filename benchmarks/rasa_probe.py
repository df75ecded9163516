"""Rasa's own parts of a turn, timed in process inside the Rasa environment (Python 3.10, rasa 3.6).

``benchmarks/turns.py`` runs this file with ``.venv-rasa/bin/python -I`` after its servers stopped, on
the trackers and tracker store of the finished run::

    .venv-rasa/bin/python -I benchmarks/rasa_probe.py SPEC.json OUT.json

``SPEC.json`` holds the model path, the trackers with the action Rasa ran after each, the texts to
parse by kind, action server answers to validate and the action that gave them, the tracker store
file and a copy's path, the senders and the number of calls; ``OUT.json`` receives the timings in
milliseconds (the fields of ``benchmarks.turns.RasaParts``). Nothing here imports our packages: only
Rasa and the standard library.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import sqlite3
import sys
import time
from typing import Any

__all__ = ["main", "probe"]

Spec = dict[str, Any]
Out = dict[str, Any]


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0


def _time_predictions(processor: Any, domain: Any, spec: Spec, out: Out) -> None:
    """One next-action prediction per call (after three to warm up), and how often it matches the run."""
    from rasa.shared.core.trackers import DialogueStateTracker

    cases = [(DialogueStateTracker.from_dict(t["sender_id"], t["events"], domain.slots), expected)
             for t, expected in spec["trackers"]]
    for tracker, _ in cases[:3]:
        processor._predict_next_with_tracker(tracker.copy())
    for n in range(spec["calls"]):
        tracker, expected = cases[n % len(cases)]
        tracker = tracker.copy()
        started = time.perf_counter()
        prediction = processor._predict_next_with_tracker(tracker)
        out["predict"].append(_ms_since(started))
        if n < len(cases):
            out["agree"] += domain.action_names_or_texts[prediction.max_confidence_index] == expected


async def _time_parsing(processor: Any, spec: Spec, out: Out) -> None:
    """NLU on every text of each kind (after three of the kind to warm up)."""
    from rasa.core.channels.channel import UserMessage

    for kind, texts in spec["texts"].items():
        for text in texts[:3]:
            await processor.parse_message(UserMessage(text))
        times = out["parse"].setdefault(kind, [])
        for text in texts:
            started = time.perf_counter()
            await processor.parse_message(UserMessage(text))
            times.append(_ms_since(started))


def _time_validation(spec: Spec, out: Out) -> None:
    """Validating action server answers as Rasa does, and with a validator built once, for comparison."""
    import jsonschema
    from jsonschema import validators
    from rasa.core.actions.action import RemoteAction

    out["validate_impl"] = f"{jsonschema.validate.__module__}.{jsonschema.validate.__name__}"
    schema = RemoteAction.action_response_format_spec()
    remote = RemoteAction(spec["action"], None)  # the shopping action, named by turns.py from the contract
    compiled = validators.validator_for(schema)(schema)
    for answer in spec["answers"]:
        remote._validate_action_result(answer)
    for n in range(spec["calls"]):
        answer = spec["answers"][n % len(spec["answers"])]
        started = time.perf_counter()
        remote._validate_action_result(answer)
        out["validate"].append(_ms_since(started))
        started = time.perf_counter()
        compiled.validate(answer)  # the answer alone, with a validator built once
        out["instance"].append(_ms_since(started))


async def _time_tracker_store(domain: Any, spec: Spec, out: Out) -> None:
    """The SQL tracker store's read of a conversation and save of its last turn, on a copy of the run's file."""
    from rasa.core.tracker_store import SQLTrackerStore

    shutil.copyfile(spec["tracker_db"], spec["copy_db"])
    store = SQLTrackerStore(domain, dialect="sqlite", db=spec["copy_db"])
    db = sqlite3.connect(spec["copy_db"])
    senders = spec["senders"]
    for n in range(spec["calls"] + 3):
        sender = senders[n % len(senders)]
        started = time.perf_counter()
        tracker = await store.retrieve(sender)
        read = _ms_since(started)
        # forget the last turn's rows, then time writing them back as Rasa does at the end of a turn
        last_user = max(e.timestamp for e in tracker.events if e.type_name == "user")
        with db:
            removed = db.execute("DELETE FROM events WHERE sender_id = ? AND timestamp >= ?",
                                 (sender, last_user)).rowcount
        started = time.perf_counter()
        await store.save(tracker)
        save = _ms_since(started)
        if n >= 3:
            out["read"].append(read)
            out["save"].append(save)
            out["events_saved"].append(removed)


async def probe(spec: Spec) -> Out:
    """Load the model named in ``spec`` and time prediction, NLU, answer validation and the tracker store."""
    from rasa.core.agent import Agent

    out: Out = {"predict": [], "agree": 0, "parse": {}, "read": [], "save": [], "events_saved": [], "validate": [],
                "instance": [], "validate_impl": ""}
    agent = Agent.load(spec["model"])
    processor, domain = agent.processor, agent.domain
    _time_predictions(processor, domain, spec, out)
    await _time_parsing(processor, spec, out)
    _time_validation(spec, out)
    await _time_tracker_store(domain, spec, out)
    return out


def main(argv: list[str]) -> int:
    """Read the spec from ``argv[1]``, write the timings to ``argv[2]``."""
    logging.disable(logging.WARNING)
    with open(argv[1], encoding="utf-8") as spec_file:
        spec = json.load(spec_file)
    out = asyncio.run(probe(spec))
    with open(argv[2], "w", encoding="utf-8") as out_file:
        json.dump(out, out_file)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

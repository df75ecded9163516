"""The soak benchmark's pure parts (benchmarks/soak.py): windows, targets, process groups, stored bytes per turn."""

from __future__ import annotations

import doctest
import json
import math
import os
from collections.abc import Sequence
from pathlib import Path

import benchmarks.soak as soak
from benchmarks.soak import (
    ChecksRecord,
    Journal,
    Sample,
    TurnBytes,
    TurnRecord,
    Window,
    group_pids,
    growth_table,
    memory_table,
    parse_stat,
    spans,
    targets_table,
    turn_bytes,
    verdicts,
    windows,
    windows_table,
)
from tests.conftest import ROOT


def test_the_docstring_examples_hold() -> None:
    assert doctest.testmod(soak).failed == 0


def test_a_process_group_is_read_from_stat_even_with_parentheses_in_the_command(tmp_path: Path) -> None:
    assert parse_stat("17 (python3) S 1 17 17 0") == (17, 17)
    assert parse_stat("18 (a) b (c)) R 17 17 5 0") == (18, 17)
    for pid, stat in {17: "17 (rasa) S 1 17 17 0", 18: "18 (sanic (worker)) S 17 17 17 0",
                      19: "19 (other) S 1 19 19 0"}.items():
        (tmp_path / str(pid)).mkdir()
        (tmp_path / str(pid) / "stat").write_text(stat)
    (tmp_path / "20").mkdir()  # a process gone between listing and reading
    (tmp_path / "self").mkdir()
    assert group_pids(17, tmp_path) == [17, 18]
    assert group_pids(os.getpgrp()) and os.getpid() in group_pids(os.getpgrp())


def journal_of(turns: Sequence[tuple[float, float, bool]], checks: Sequence[tuple[float, int, int]] = ()) -> Journal:
    journal = Journal()
    journal.turns = [TurnRecord(*t) for t in turns]
    journal.checks = [ChecksRecord(*c) for c in checks]
    return journal


def test_turns_and_checks_fall_in_the_window_they_ended_in() -> None:
    journal = journal_of([(5.0, 0.5, True), (99.0, 9.0, True), (100.0, 0.1, True), (150.0, 0.2, False),
                          (230.0, 1.0, True)], [(50.0, 9, 10), (180.0, 3, 4)])
    first, second = windows(journal, start=0.0, length=100.0, count=2)
    assert (first.latencies, first.errors, first.checks_passed, first.checks) == ((0.5, 9.0), 0, 9, 10)
    assert (second.latencies, second.errors, second.turns, second.checks_passed) == ((0.1,), 1, 2, 3)
    assert math.isclose(first.ms(50), 4750.0)
    assert math.isnan(Window(0, 1, (), 0, 0, 0).ms(95))


def window(p95_seconds: float, errors: int = 0) -> Window:
    return Window(0.0, 300.0, (p95_seconds,) * 20, errors, 0, 0)


def test_targets_memory_growth_p95_drift_and_errors() -> None:
    warm = {"rasa-0": 1000.0, "actions-0": 400.0, "gateway": 50.0}
    found = verdicts(warm, {"rasa-0": 1050.0, "actions-0": 420.0, "gateway": 50.0}, [window(0.5), window(0.55)])
    assert [v.met for v in found] == [True, True, True]
    assert "+5.0% (rasa-0)" in found[0].measured and "500 → 550 ms" in found[1].measured
    found = verdicts(warm, {"rasa-0": 1000.0, "actions-0": 460.0, "gateway": 50.0},
                     [window(0.5), window(0.7, errors=2)])
    assert [v.met for v in found] == [False, False, False]
    assert "+15.0% (actions-0)" in found[0].measured and found[2].measured == "2"


def test_a_process_that_is_gone_misses_the_memory_target() -> None:
    found = verdicts({"rasa-0": 1000.0, "rasa-1": 1000.0}, {"rasa-0": 1000.0, "rasa-1": float("nan")}, [window(0.5)])
    assert not found[0].met and "rasa-1" in found[0].measured


def event(kind: str, **data: object) -> tuple[str, str]:
    return kind, json.dumps({"event": kind, **data})


def test_stored_bytes_are_counted_per_turn_and_by_kind() -> None:
    rows = [event("action", name="action_session_start"), event("session_started"),
            event("user", text="a sofa"), event("action", name="action_shop"),
            event("slot", name="shop_state", value={"seen": ["a", "b", "c"]}),
            event("slot", name="seen_items", value=["a", "b", "c"]), event("slot", name="shown_items", value=["a"]),
            event("bot", text="Here you go"),
            event("user", text="more"), event("bot", text="More"), ("slot", "not json")]
    first, second = turn_bytes(rows)
    assert first.events == 6 and second.events == 3
    assert first.by_kind["shop_state slot"] == len(rows[4][1])
    assert first.by_kind["seen_items slot"] == len(rows[5][1])
    assert first.by_kind["other slots"] == len(rows[6][1])
    assert first.total == sum(len(data) for _, data in rows[2:8])
    assert second.by_kind == {"user": len(rows[8][1]), "bot": len(rows[9][1]), "other slots": len("not json")}


def test_growth_table_compares_early_and_late_turns() -> None:
    turns = [TurnBytes(5, {"shop_state slot": 100 + 10 * n, "bot": 50}) for n in range(40)]
    table = growth_table(turns, "soak-x-long")
    assert table.rows[0][0] == "1–10" and table.rows[-1][0] == "31–40"
    assert table.rows[0][2] == "195" and table.rows[-1][2] == "495"
    assert "+300 bytes per turn" in table.notes[0]


def test_spans_cover_the_conversation_without_running_past_it() -> None:
    assert spans(0) == []
    for count in (1, 9, 10, 11, 57, 120, 1500):
        found = spans(count)
        assert found[0][0] == 0 and found[-1][1] == count
        assert all(0 <= low < high <= count and high - low == min(10, count) for low, high in found)


def test_tables_render_with_a_window_per_row() -> None:
    samples = [Sample("idle", "0.1/0.1/0.1", {"rasa-0": 900.0}), Sample("end of warm-up (2 min)", "1/1/1",
                                                                          {"rasa-0": 1000.0}),
               Sample("5 min", "2/2/2", {"rasa-0": 1010.0}), Sample("10 min", "2/2/2", {"rasa-0": 1030.0})]
    measured = [Window(0.0, 300.0, (0.2, 0.4), 0, 9, 10), Window(300.0, 600.0, (0.3,), 1, 0, 0)]
    table = windows_table(measured, samples)
    assert table.title == "Turns per 5-minute window"
    assert [r[0] for r in table.rows] == ["0–5", "5–10"] and table.rows[0][8] == "90.0% of 10"
    assert table.rows[1][-1] == "2/2/2" and table.rows[1][7] == "1"
    memory = memory_table(samples)
    assert [r[-1] for r in memory.rows] == ["—", "+0.0%", "+1.0%", "+3.0%"]
    assert "NO" in targets_table(verdicts(samples[1].rss, samples[-1].rss, measured)).text()


def test_the_customers_play_the_demo_conversations_of_the_suites() -> None:
    shop = soak.demo_shop("http://127.0.0.1:1", ROOT / "tests" / "conversations", think=2.0, run="t")
    assert shop.url == "http://127.0.0.1:1/webhooks/rest/webhook"
    assert len(shop.conversations) > 100
    assert all(c.runs_on("demo") and "{category}" not in t.say for c in shop.conversations for t in c.turns)

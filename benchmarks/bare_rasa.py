"""The yardstick for a turn's cost: Rasa 3.6's own starter assistant, measured with our client.

``rasa init --no-prompt`` writes and trains the "moodbot" project (greet, ask how you are,
cheer you up with a picture, ask whether that helped). It has no custom action and no
action server, keeps its trackers in memory and runs Rasa's default pipeline and
policies, and none of bot/rasa_speedups.py's patches (``SHOPKEEPER_RASA_SPEEDUPS=0``): what any
Rasa turn costs before a product adds anything. It is trained once
into ``build/bare-rasa/`` (a stamp names the Rasa version) and served on a free port.

:func:`measure_side` measures both assistants for ``benchmarks/turns.py`` (the load levels with
benchmarks/load.py's ``run_level``); the moodbot customer repeats "hi" → "i'm sad" → "yes" → "bye".
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.load import CustomerLoop, Level, run_level
from benchmarks.reporting import Table, log, percentile
from evaluation.stack import RASA, free_port, get, say
from retrieval.paths import PROJECT_ROOT as REPO

BARE_DIR = REPO / "build" / "bare-rasa"
MODEL_NAME = "bare.tar.gz"
#: What the moodbot's customer says, over and over (each message is one turn).
MOODBOT_SCRIPT = ("hi", "i'm sad", "yes", "bye")


def rasa_version() -> str:
    """The Rasa release of .venv-rasa (the stamp of the trained starter model)."""
    out = subprocess.run([str(RASA), "--version"], capture_output=True, text=True, timeout=120).stdout
    return next((line.split(":", 1)[1].strip() for line in out.splitlines() if line.startswith("Rasa Version")),
                out.strip())


def ensure_model(directory: Path = BARE_DIR) -> Path:
    """``rasa init`` and its training, once; the model is reused while the Rasa version is the same."""
    model, stamp = directory / "models" / MODEL_NAME, directory / ".rasa-version"
    version = rasa_version()
    if model.is_file() and stamp.is_file() and stamp.read_text().strip() == version:
        return model
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    log(f"training Rasa {version}'s starter assistant (rasa init) into {directory}: a few minutes, once")
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    result = subprocess.run([str(RASA), "init", "--no-prompt", "--init-dir", "."], cwd=directory, env=env,
                            capture_output=True, text=True, timeout=1800)
    trained = sorted((directory / "models").glob("*.tar.gz"))
    if result.returncode != 0 or not trained:
        raise RuntimeError(f"rasa init failed ({result.returncode}):\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    trained[-1].rename(model)
    stamp.write_text(version + "\n")
    return model


@dataclass(frozen=True)
class BareRasa:
    """The starter assistant's server."""

    url: str
    pid: int


@contextmanager
def running_bare_rasa(work: Path, model: Path) -> Iterator[BareRasa]:
    """``rasa run --enable-api`` on the starter model, its log in ``work``; stopped on exit."""
    port = free_port()
    work.mkdir(parents=True, exist_ok=True)
    log_path = work / "bare-rasa.log"
    # Rasa as released: none of bot/rasa_speedups.py's patches (the .pth in .venv-rasa loads it).
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SHOPKEEPER_RASA_SPEEDUPS": "0"}
    process = subprocess.Popen(
        [str(RASA), "run", "--enable-api", "-i", "127.0.0.1", "-p", str(port), "-m", str(model)],
        cwd=model.parent.parent, env=env, stdout=log_path.open("wb"), stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600
        while "model_file" not in get(f"{url}/status")[1]:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the starter assistant did not start:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.5)
        yield BareRasa(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def rss_mb(pid: int) -> float:
    """Resident memory of a process (``VmRSS``), in MB; NaN when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def timed(url: str, sender: str, text: str) -> tuple[float, bool]:
    """One REST turn: seconds from sending to having every bot message, and whether it answered."""
    started = time.perf_counter()
    try:
        reply = say(url, sender, text)
    except (OSError, ValueError):
        return time.perf_counter() - started, False
    return time.perf_counter() - started, isinstance(reply, list) and bool(reply)


def moodbot_loop(url: str, name: str, stop: threading.Event, record: Callable[[float, bool], None]) -> None:
    """A moodbot customer on this thread until ``stop``: a new conversation every 30 messages."""
    generation = 0
    while not stop.is_set():
        sender = f"{name}-{generation}"
        generation += 1
        for n in range(30):
            if stop.is_set():
                return
            record(*timed(url, sender, MOODBOT_SCRIPT[n % len(MOODBOT_SCRIPT)]))


def moodbot_turns(url: str, sender: str, count: int) -> list[float]:
    """``count`` turns of one conversation with the starter assistant, each one's seconds."""
    return [timed(url, sender, MOODBOT_SCRIPT[n % len(MOODBOT_SCRIPT)])[0] for n in range(count)]


def growth_slope(latencies: Sequence[float]) -> float:
    """Least-squares slope of a turn's latency over its turn number, in ms per turn.

    >>> round(growth_slope([0.010, 0.011, 0.012, 0.013]), 3)
    1.0
    """
    n = len(latencies)
    if n < 2:
        return float("nan")
    xs = range(1, n + 1)
    mean_x, mean_y = (n + 1) / 2, sum(latencies) * 1000.0 / n
    num = sum((x - mean_x) * (y * 1000.0 - mean_y) for x, y in zip(xs, latencies, strict=True))
    return num / sum((x - mean_x) ** 2 for x in xs)


def p50_by_turn(latencies: Sequence[float], window: int = 10) -> list[tuple[int, float]]:
    """Median latency (ms) of each run of ``window`` turns, keyed by the run's middle turn number.

    >>> p50_by_turn([0.001, 0.003, 0.002, 0.010], window=2)
    [(1, 2.0), (3, 6.0)]
    """
    return [(start + window // 2, percentile(latencies[start:start + window], 50) * 1000.0)
            for start in range(0, len(latencies) - window + 1, window)]



# -- the comparison ----------------------------------------------------------------------------

#: Concurrency levels of the load comparison.
LEVELS = (1, 10, 20, 50)
#: Turns of the long conversations whose growth is compared ...
LONG_TURNS = 120
#: ... and how many of them: one conversation's slope swung between 0.73 and 1.11 ms/turn from run to run
#: on the same build, so each turn number's latency is the median over several conversations.
LONG_CONVERSATIONS = 3


@dataclass
class Side:
    """What one assistant measured: load levels (the first, one customer, is its sequential turns),
    the per-turn median latency of the long conversations, memory."""

    loads: list[Level] = field(default_factory=list)
    long: list[float] = field(default_factory=list)
    rss: dict[str, float] = field(default_factory=dict)


def measure_side(url: str, assistant: str, loop: CustomerLoop, long_turns: Callable[[str, int], list[float]],
                 levels: Sequence[int], seconds: float, pids: dict[str, int]) -> Side:
    """One assistant's load levels (the first level's turns double as its sequential turns) and long conversation."""
    side = Side()
    log(f"{assistant}: {LONG_CONVERSATIONS} conversations of {LONG_TURNS} turns")
    runs = [long_turns(f"{assistant}-long-{n}", LONG_TURNS) for n in range(LONG_CONVERSATIONS)]
    side.long = [statistics.median(turn) for turn in zip(*runs, strict=True)]
    for customers in levels:
        side.loads.append(run_level(url, assistant, customers, seconds, min(5.0, seconds / 4), loop=loop))
    side.rss = {name: rss_mb(pid) for name, pid in pids.items()}
    return side


def _ms(value: float) -> str:
    return "—" if value != value else f"{value:.1f}"  # NaN: not measured


def _ratio(ours: float, bare: float) -> str:
    return "—" if not bare or ours != ours or bare != bare else f"{ours / bare:.2f}×"


def comparison_tables(ours: Side, bare: Side, our_kinds: Sequence[tuple[str, Sequence[float]]]) -> list[Table]:
    """Per turn type, under load, over a long conversation and in memory: ours beside the starter assistant.

    ``our_kinds``: (label, latencies in ms) per recommendation turn type, from the sequential customers.
    """
    sequential = [t * 1000.0 for t in (bare.loads[0].latencies if bare.loads else [])]
    bare_p50, bare_p95 = percentile(sequential, 50), percentile(sequential, 95)
    turns = Table("Beside bare Rasa 3.6: one turn at a time", ["turn", "turns", "p50 ms", "p95 ms",
                                                                "p50 ratio", "p95 ratio"])
    turns.add("bare Rasa (rasa init moodbot), any turn", len(sequential), _ms(bare_p50), _ms(bare_p95),
              "1.00×", "1.00×")
    for label, values in our_kinds:
        p50, p95 = percentile(values, 50), percentile(values, 95)
        turns.add(f"Shopkeeper: {label}", len(values), _ms(p50), _ms(p95), _ratio(p50, bare_p50),
                  _ratio(p95, bare_p95))
    load = Table("Beside bare Rasa 3.6: concurrent customers", ["customers", "bare turns/s", "bare p50 ms",
                 "bare p95 ms", "Shopkeeper turns/s", "Shopkeeper p50 ms", "Shopkeeper p95 ms", "throughput ratio"])
    for mine, theirs in zip(ours.loads, bare.loads, strict=True):
        load.add(mine.customers, f"{theirs.throughput:.1f}", _ms(theirs.ms(50)), _ms(theirs.ms(95)),
                 f"{mine.throughput:.1f}", _ms(mine.ms(50)), _ms(mine.ms(95)),
                 _ratio(mine.throughput, theirs.throughput))
    growth = Table(f"Beside bare Rasa 3.6: {LONG_CONVERSATIONS} conversations of {LONG_TURNS} turns, "
                   "each turn's median",
                   ["assistant", "p50 turns 1–10 ms", f"p50 turns {LONG_TURNS - 9}–{LONG_TURNS} ms",
                    "slope ms/turn", "slope ratio"])
    bare_slope = growth_slope(bare.long)
    for name, side in (("bare Rasa", bare), ("Shopkeeper", ours)):
        windows = p50_by_turn(side.long)
        growth.add(name, _ms(windows[0][1] if windows else float("nan")),
                   _ms(windows[-1][1] if windows else float("nan")), f"{growth_slope(side.long):.3f}",
                   _ratio(growth_slope(side.long), bare_slope))
    memory = Table("Beside bare Rasa 3.6: resident memory after the load (MB)", ["process", "bare Rasa", "Shopkeeper"])
    memory.add("Rasa server", _ms(bare.rss.get("rasa", float("nan"))), _ms(ours.rss.get("rasa", float("nan"))))
    memory.add("action server", "— (none)", _ms(ours.rss.get("actions", float("nan"))))
    targets = Table("Targets against bare Rasa (same run)", ["target", "measured", "result"])
    every = [v for _, values in our_kinds for v in values]
    p95_ratio = percentile(every, 95) / bare_p95 if every and bare_p95 else float("nan")
    targets.add("recommendation-turn p95 ≤ 1.3× bare Rasa's", f"{p95_ratio:.2f}×",
                _verdict(p95_ratio <= 1.3, p95_ratio))
    twenty = [(m, t) for m, t in zip(ours.loads, bare.loads, strict=True) if m.customers == 20]
    share = twenty[0][0].throughput / twenty[0][1].throughput if twenty else float("nan")
    targets.add("throughput at 20 customers ≥ 0.75× bare Rasa's", f"{share:.2f}×", _verdict(share >= 0.75, share))
    slope = growth_slope(ours.long) / bare_slope if bare_slope and bare_slope == bare_slope else float("nan")
    targets.add(f"growth over {LONG_TURNS} turns ≤ 1.2× bare Rasa's slope", f"{slope:.2f}×",
                _verdict(slope <= 1.2, slope))
    return [turns, load, growth, memory, targets]


def _verdict(passed: bool, value: float) -> str:
    return "not measured" if value != value else ("PASS" if passed else "FAIL")

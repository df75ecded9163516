#!/usr/bin/env python3
"""NLU cross-validation with the project's own pipeline: intent and entity F1 against the targets.

Run from the repository root (needs ``.venv-rasa``; this script itself uses only the standard library)::

    .venv/bin/python -m benchmarks.nlu                        # 5 folds, 24-32 min on 2 cores
    .venv/bin/python -m benchmarks.nlu --quick                # 2 folds, ~8 min
    .venv/bin/python -m benchmarks.nlu --markdown out.md      # also write the tables as markdown

What it does: runs Rasa's own cross-validation on ``data/nlu`` with ``config.yml``::

    .venv-rasa/bin/rasa test nlu --nlu data/nlu --config config.yml --cross-validation --folds 5 --out DIR --no-plot

Rasa trains one model per fold on the other folds and predicts the held-out fold; the
reports it writes in ``DIR`` pool the held-out predictions of every fold (each example is
predicted once, by the model that did not see it): ``intent_report.json`` and
``intent_errors.json`` for intents, ``DIETClassifier_report.json`` for entities (the
pipeline's only entity extractor; entity scores are per token, labels with a role read
``colour.exclude``). Intents with fewer examples than folds are dropped by Rasa first.

Printed: intent macro-F1, weighted F1 and accuracy; entity micro and macro F1 and per-entity
F1; the worst intents by F1 and the most frequent confusions; pass/fail against the
targets intent macro-F1 ≥ 0.90 and entity F1 ≥ 0.85 (micro average over entity labels).
Tables go to stdout, Rasa's output to ``DIR/rasa.log``, progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.reporting import (
    Report,
    Table,
    code_version,
    log,
)
from benchmarks.reporting import cpu_model as _cpu_model
from benchmarks.reporting import elapsed as seconds_since_start
from benchmarks.reporting import load_average as _load_average
from benchmarks.reporting import mem_total_gb as _mem_total_gb
from retrieval.paths import PROJECT_ROOT as REPO

RASA = REPO / ".venv-rasa" / "bin" / "rasa"
NLU_DATA = "data/nlu"
CONFIG = "config.yml"
TARGET_INTENT_MACRO_F1 = 0.90
TARGET_ENTITY_F1 = 0.85
#: Entities reported one by one (in this order), each also with its roles when it has any.
ENTITIES: tuple[str, ...] = (
    "category", "colour", "material", "style", "brand", "use", "budget", "ordinal", "item", "attribute",
)
#: Keys of a classification report that are averages, not labels.
AVERAGES = ("accuracy", "micro avg", "macro avg", "weighted avg")
#: Written next to Rasa's reports: how long the run took and on what, for --reports.
RUN_RECORD = "benchmark-run.json"

# -- output --------------------------------------------------------------------------------











def _f(value: Any) -> str:
    """A score with three decimals, or a dash."""
    return f"{float(value):.3f}" if isinstance(value, int | float) else "—"


def _verdict(value: float | None, target: float) -> str:
    if value is None:
        return "not measured"
    return "PASS" if value >= target else "FAIL"


# -- machine -------------------------------------------------------------------------------








def _rasa_version() -> str:
    python = RASA.parent / "python"
    try:
        found = subprocess.run(
            [str(python), "-c", "import importlib.metadata as m; print(m.version('rasa'), m.version('tensorflow'))"],
            capture_output=True, text=True, check=True, timeout=120,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return "Rasa (version unknown)"
    return f"Rasa {found[0]}, TensorFlow {found[1]}" if len(found) == 2 else "Rasa (version unknown)"




def machine_line() -> str:
    """CPU model, cores, memory and versions, on one line."""
    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    return f"{_cpu_model()}, {cores} cores ({usable} usable), {_mem_total_gb():.0f} GB RAM; {_rasa_version()}"


# -- running Rasa ----------------------------------------------------------------------------


@dataclass
class Options:
    """Parsed command-line options."""

    folds: int
    out: Path | None
    reports: Path | None
    plots: bool
    worst: int
    confusions: int
    markdown: Path | None
    quick: bool
    command: str


def rasa_command(opts: Options, out: Path) -> list[str]:
    """The ``rasa test nlu`` cross-validation command line."""
    command = [str(RASA.relative_to(REPO)), "test", "nlu", "--nlu", NLU_DATA, "--config", CONFIG,
               "--cross-validation", "--folds", str(opts.folds), "--out", str(out)]
    return command if opts.plots else [*command, "--no-plot"]


#: Lines of Rasa's output worth echoing as progress (besides the end of each fold's training).
_PROGRESS = re.compile(r"(Accumulated test folds|CV evaluation|\bError\b|Traceback)")
#: Rasa's fold means: "test F1-score: 0.912 (0.015)", per intent and per entity extractor.
_SUMMARY = re.compile(r"\b(train|test) (Accuracy|F1-score|Precision): [0-9.]+ \([0-9.]+\)")
#: Rasa warns that it found no domain: harmless here (NLU only), not worth echoing.
_NOISE = ("Loading domain from",)


def fold_summary(lines: Iterable[str]) -> list[str]:
    """Rasa's per-fold F1 averages from its output, e.g. ``intents test F1 0.912 (0.015)``."""
    summary: list[str] = []
    section = ""
    for raw in lines:
        line = raw.rstrip().split("\r")[-1]
        if "Intent evaluation results" in line:
            section = "intents"
        elif "Entity evaluation results" in line:
            section = "entities"
        if (found := _SUMMARY.search(line)) is not None and found.group(2) == "F1-score":
            summary.append(f"{section} {found.group(1)} F1 {found.group(0).split(':', 1)[1].strip()}")
    return summary


def run_rasa(opts: Options, out: Path) -> float:
    """Run the cross-validation; its output goes to ``out/rasa.log``.

    Returns:
        Wall-clock seconds.

    Raises:
        RuntimeError: when Rasa fails.
    """
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
           "HF_HUB_OFFLINE": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = rasa_command(opts, out)
    log("running: " + " ".join(command))
    started = time.perf_counter()
    trained = 0
    with (out / "rasa.log").open("w", encoding="utf-8") as rasa_log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, bufsize=1)
        assert process.stdout is not None
        for raw in process.stdout:
            rasa_log.write(raw)
            line = raw.rstrip().split("\r")[-1]
            if "Your Rasa model is trained" in line:
                trained += 1
                log(f"fold {trained} of {opts.folds} trained ({(time.perf_counter() - started) / 60:.1f} min)")
            elif _PROGRESS.search(line) and not any(n in line for n in _NOISE):
                log("rasa: " + re.sub(r"\s+", " ", line)[:200])
        code = process.wait()
    seconds = time.perf_counter() - started
    if code != 0:
        tail = (out / "rasa.log").read_text(encoding="utf-8", errors="replace")[-3000:]
        raise RuntimeError(f"rasa test nlu exited with {code}:\n{tail}")
    return seconds


def fallback_threshold(config: Path = REPO / CONFIG) -> float | None:
    """The FallbackClassifier's ``threshold`` in the config, if it has one."""
    try:
        text = config.read_text(encoding="utf-8")
    except OSError:
        return None
    found = re.search(r"name:\s*FallbackClassifier\b(?:(?!\n\s*- name:).)*?\bthreshold:\s*([0-9.]+)", text, re.DOTALL)
    return float(found.group(1)) if found else None


# -- reading the reports -------------------------------------------------------------------------


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def entity_report_file(out: Path) -> Path | None:
    """The DIETClassifier entity report, or another extractor's when the pipeline changed."""
    preferred = out / "DIETClassifier_report.json"
    if preferred.exists():
        return preferred
    others = sorted(p for p in out.glob("*_report.json") if p.name not in ("intent_report.json",
                                                                           "response_selection_report.json"))
    return others[0] if others else None


def labels_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The per-label rows of a classification report (averages left out)."""
    return {k: v for k, v in report.items() if k not in AVERAGES and isinstance(v, dict)}


def micro_f1(report: dict[str, Any]) -> float | None:
    """The micro-averaged F1 (``accuracy`` when sklearn reported that instead)."""
    micro = report.get("micro avg")
    if isinstance(micro, dict):
        return float(micro["f1-score"])
    accuracy = report.get("accuracy")
    return float(accuracy) if isinstance(accuracy, int | float) else None


def confusions(errors: list[dict[str, Any]] | None, intents: dict[str, dict[str, Any]]) -> Counter[tuple[str, str]]:
    """(true, predicted) intent pairs of the wrong predictions, counted."""
    pairs: Counter[tuple[str, str]] = Counter()
    if errors:
        for error in errors:
            predicted = (error.get("intent_prediction") or {}).get("name") or "(none)"
            pairs[(str(error.get("intent")), str(predicted))] += 1
        return pairs
    for name, row in intents.items():  # fallback: the report's own "confused_with"
        for other, count in (row.get("confused_with") or {}).items():
            pairs[(name, other)] += int(count)
    return pairs


def examples_of(errors: list[dict[str, Any]] | None) -> dict[tuple[str, str], str]:
    """One example text per (true, predicted) pair."""
    found: dict[tuple[str, str], str] = {}
    for error in errors or []:
        key = (str(error.get("intent")), str((error.get("intent_prediction") or {}).get("name") or "(none)"))
        found.setdefault(key, str(error.get("text", "")))
    return found


# -- options and main ----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> Options:
    """Command-line options; ``--quick`` runs two folds."""
    parser = argparse.ArgumentParser(
        description="NLU k-fold cross-validation of data/nlu with config.yml (Rasa's `rasa test nlu "
        "--cross-validation`): intent macro/weighted F1 and accuracy, entity micro/macro and per-entity F1, the "
        f"worst intents and the most frequent confusions, against the targets intent macro-F1 ≥ "
        f"{TARGET_INTENT_MACRO_F1:.2f} and entity F1 ≥ {TARGET_ENTITY_F1:.2f}. One fold trains a model "
        "(about 5-6 minutes on two cores).",
    )
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (default: 5)")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="keep Rasa's reports and log in DIR (default: a temporary folder, removed)")
    parser.add_argument("--reports", type=Path, metavar="DIR",
                        help="do not run Rasa: read the reports (and rasa.log) a previous run kept in DIR with --out")
    parser.add_argument("--plots", action="store_true",
                        help="let Rasa draw its confusion matrices and histograms (slower; default: --no-plot)")
    parser.add_argument("--worst", type=int, default=10, help="worst intents listed (default: 10)")
    parser.add_argument("--confusions", type=int, default=10, help="confusions listed (default: 10)")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the tables as markdown to FILE")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 folds (~8 min)")
    args = parser.parse_args(argv)
    folds = 2 if args.quick else args.folds
    if folds < 2:
        parser.error("--folds must be at least 2")
    return Options(
        folds=folds, out=args.out, reports=args.reports, plots=args.plots, worst=max(0, args.worst),
        confusions=max(0, args.confusions), markdown=args.markdown, quick=args.quick,
        command=" ".join([".venv/bin/python -m benchmarks.nlu", *(argv if argv is not None else sys.argv[1:])]),
    )


@dataclass
class Reports:
    """What one cross-validation left: Rasa's reports, its per-fold averages and the run's record."""

    out: Path
    run: dict[str, Any]
    #: Rasa's own per-fold averages (:func:`fold_summary`)
    fold_lines: list[str]
    intent_report: dict[str, Any]
    errors: list[dict[str, Any]] | None
    entity_file: Path | None
    entity_report: dict[str, Any] | None

    @property
    def intents(self) -> dict[str, dict[str, Any]]:
        """The intent report's rows, by intent."""
        return labels_of(self.intent_report)

    @property
    def examples(self) -> int:
        """How many examples were predicted."""
        return int(self.intent_report.get("macro avg", {}).get("support")
                   or sum(r["support"] for r in self.intents.values()))

    @property
    def entities(self) -> dict[str, dict[str, Any]]:
        """The entity report's rows, by label."""
        return labels_of(self.entity_report) if self.entity_report is not None else {}

    @property
    def entity_micro(self) -> float | None:
        """The entities' micro-averaged F1."""
        return micro_f1(self.entity_report) if self.entity_report is not None else None

    @property
    def extractor(self) -> str:
        """The entity extractor the report is of."""
        return self.entity_file.name.removesuffix("_report.json") if self.entity_file else "—"

    @property
    def pairs(self) -> Counter[tuple[str, str]]:
        """How often each (true, predicted) intent pair was confused."""
        return confusions(self.errors, self.intents)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the cross-validation and print the tables."""
    opts = parse_args(argv)
    if not RASA.exists():
        print(f"{RASA} is missing: run `make setup` first", file=sys.stderr)
        return 2
    report = Report()
    report.line(f"Command: `{opts.command}`")
    report.line(f"Machine: {machine_line()}")
    load_start = _load_average()
    started_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    reports = collect_reports(opts, report, started_at, load_start)
    for table in (summary_table(opts, reports), entity_table(reports), worst_table(opts, reports),
                  confusion_table(opts, reports)):
        report.table(table)
    elapsed = seconds_since_start()
    if opts.reports is not None:
        report.line(f"Rendered {started_at} from the reports an earlier run kept in {reports.out}.")
    else:
        report.line(f"Run: started {started_at}, took {elapsed / 60:.1f} min; load average (1/5/15 min) "
                    f"{load_start} at start, {_load_average()} at end.")
    report.write(opts.markdown)
    return 0


def collect_reports(opts: Options, report: Report, started_at: str, load_start: str) -> Reports:
    """Run Rasa's cross-validation (or read the reports an earlier run kept) and load what it wrote.

    A folder made for this run only is removed once read.

    Raises:
        RuntimeError: when the folder holds no intent report.
    """
    temporary = opts.out is None and opts.reports is None
    if opts.reports is not None:
        out = opts.reports.resolve()
    else:
        out = opts.out.resolve() if opts.out is not None else Path(tempfile.mkdtemp(prefix="shopkeeper-nlu-"))
    try:
        report.line(f"Rasa: `{' '.join(rasa_command(opts, Path('DIR')))}`")
        if opts.reports is not None:
            log(f"reading the reports in {out} (Rasa not run)")
            record = _load(out / RUN_RECORD)
            run: dict[str, Any] = record if isinstance(record, dict) else {}
        else:
            code = code_version()
            seconds = run_rasa(opts, out)
            run = {"seconds": seconds, "folds": opts.folds, "started_at": started_at, "code": code,
                   "load_start": load_start, "load_end": _load_average()}
            (out / RUN_RECORD).write_text(json.dumps(run, indent=2), encoding="utf-8")
        report.line(f"Code: {run.get('code', 'unknown (the run kept no record)')}")
        rasa_log = out / "rasa.log"
        summary = fold_summary(rasa_log.read_text(encoding="utf-8", errors="replace").splitlines()
                               if rasa_log.exists() else [])
        intent_report = _load(out / "intent_report.json")
        errors = _load(out / "intent_errors.json")
        entity_file = entity_report_file(out)
        entity_report = _load(entity_file) if entity_file else None
        if not isinstance(intent_report, dict):
            raise RuntimeError(f"no intent_report.json in {out}")
    finally:
        if temporary:
            shutil.rmtree(out, ignore_errors=True)
    return Reports(out, run, summary, intent_report, errors if isinstance(errors, list) else None, entity_file,
                   entity_report if isinstance(entity_report, dict) else None)


def summary_table(opts: Options, reports: Reports) -> Table:
    """The headline scores against their targets, and how the run went."""
    intent_report, entity_report, run = reports.intent_report, reports.entity_report, reports.run
    error_list = reports.errors or []
    threshold = fallback_threshold()
    low = sum(1 for e in error_list
              if threshold is not None and float((e.get("intent_prediction") or {}).get("confidence") or 0) < threshold)
    macro = intent_report.get("macro avg", {}).get("f1-score")
    weighted = intent_report.get("weighted avg", {}).get("f1-score")
    entity_micro, extractor = reports.entity_micro, reports.extractor
    entity_macro = entity_report.get("macro avg", {}).get("f1-score") if entity_report is not None else None
    table = Table("NLU cross-validation: summary", ["metric", "value", "target", "result"])
    table.add("intent macro-F1", _f(macro), f"≥ {TARGET_INTENT_MACRO_F1:.2f}",
              _verdict(float(macro) if macro is not None else None, TARGET_INTENT_MACRO_F1))
    table.add("intent weighted F1", _f(weighted), "—", "—")
    table.add("intent accuracy", _f(micro_f1(intent_report)), "—", "—")
    table.add(f"entity micro-F1 ({extractor}, per token)", _f(entity_micro), f"≥ {TARGET_ENTITY_F1:.2f}",
              _verdict(entity_micro, TARGET_ENTITY_F1))
    table.add(f"entity macro-F1 ({extractor}, per token)", _f(entity_macro), f"(≥ {TARGET_ENTITY_F1:.2f})",
              _verdict(float(entity_macro) if entity_macro is not None else None, TARGET_ENTITY_F1))
    table.notes += [
        f"{opts.folds}-fold cross-validation of `{NLU_DATA}` with `{CONFIG}`: {reports.examples} examples, "
        f"{len(reports.intents)} intents, {len(reports.entities)} entity labels. Every example is predicted once, by "
        "the fold model that did not see it; the scores pool those predictions (Rasa's `intent_report.json` and "
        f"`{reports.entity_file.name if reports.entity_file else 'DIETClassifier_report.json'}`).",
        "Rasa's evaluation undoes the FallbackClassifier: the top intent counts however low its confidence. "
        + (f"{low} of the {len(error_list)} wrong predictions scored below the fallback threshold {threshold:g} "
           "(in conversation the assistant would ask to rephrase instead of acting on them)."
           if threshold is not None and error_list else ""),
        "Entity scores are per token and per label; a label with a role is its own label (`colour.exclude`). "
        "The entity target is judged on the micro average (every entity token counts once); the macro average "
        "weighs rare labels like frequent ones.",
        (f"Rasa took {float(run['seconds']) / 60:.1f} min for {run.get('folds', opts.folds)} folds (each fold "
         "trains a model and predicts both its training and its held-out examples)"
         + (f"; that run started {run['started_at']} on {run.get('code', 'unknown code')}, load average "
            f"{run.get('load_start', 'n/a')} at its start and {run.get('load_end', 'n/a')} at its end"
            if opts.reports is not None and "started_at" in run else "") + "."
         if "seconds" in run else f"Reports read from {reports.out} (kept by an earlier run; --folds must match it)."),
    ]
    if reports.fold_lines:
        table.notes.append("Rasa's own per-fold averages, mean (standard deviation) over the folds — "
                           "weighted F1, train is the fold's own training data: " + "; ".join(reports.fold_lines))
    return table


def entity_table(reports: Reports) -> Table:
    """Precision, recall and F1 of every entity label (each role its own label), then the micro average."""
    entities, entity_report = reports.entities, reports.entity_report
    table = Table(f"Entities ({reports.extractor}, per token)", ["entity", "precision", "recall", "F1", "support"])
    listed: list[str] = []
    for name in ENTITIES:
        family = [name, *sorted(k for k in entities if k.startswith(f"{name}."))]
        for label in family:
            row = entities.get(label)
            listed.append(label)
            if row is None:
                table.add(label, "—", "—", "—", "0")
            else:
                table.add(label, _f(row["precision"]), _f(row["recall"]), _f(row["f1-score"]), int(row["support"]))
    for label in sorted(set(entities) - set(listed)):
        row = entities[label]
        table.add(label, _f(row["precision"]), _f(row["recall"]), _f(row["f1-score"]), int(row["support"]))
    table.add("micro average", _f(entity_report.get("micro avg", {}).get("precision"))
              if entity_report is not None else "—",
              _f(entity_report.get("micro avg", {}).get("recall")) if entity_report is not None else "—",
              _f(reports.entity_micro), sum(int(r["support"]) for r in entities.values()))
    table.notes.append("Support = entity tokens of that label in the data. A dash: the label does not occur.")
    return table


def worst_table(opts: Options, reports: Reports) -> Table:
    """The intents with the lowest F1, and what each was most often taken for."""
    table = Table(f"The {opts.worst} worst intents by F1",
                  ["intent", "precision", "recall", "F1", "support", "most often taken for"])
    pairs = reports.pairs
    for name, row in sorted(reports.intents.items(), key=lambda item: (item[1]["f1-score"], item[0]))[: opts.worst]:
        taken = [(other, n) for (true, other), n in pairs.most_common() if true == name][:2]
        table.add(name, _f(row["precision"]), _f(row["recall"]), _f(row["f1-score"]), int(row["support"]),
                  ", ".join(f"{other} ({n})" for other, n in taken) or "—")
    return table


def confusion_table(opts: Options, reports: Reports) -> Table:
    """The most frequent intent confusions, each with an example message."""
    pairs = reports.pairs
    sample = examples_of(reports.errors)
    table = Table(f"The {opts.confusions} most frequent intent confusions",
                  ["true intent", "predicted", "count", "example"])
    for (true, predicted), count in pairs.most_common(opts.confusions):
        text = sample.get((true, predicted), "")
        table.add(true, predicted, count, (text[:70] + "…") if len(text) > 70 else text)
    table.notes.append(f"{sum(pairs.values())} wrong intent predictions in all, out of {reports.examples}.")
    return table


if __name__ == "__main__":
    sys.exit(main())

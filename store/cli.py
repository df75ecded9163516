"""``shopkeeper experiments …``: report on the running online experiment.

::

    shopkeeper experiments list
    shopkeeper experiments report                       # the experiment SHOPKEEPER_EXPERIMENT names
    shopkeeper experiments report --experiment personalisation --json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from store.db import StoreSettings, create_schema, make_engine
from store.experiments import (
    DEFAULT_EXPERIMENTS_FILE,
    ExperimentError,
    active_experiment,
    experiment_report,
    format_report,
    load_experiments,
)

__all__ = ["add_experiments_parser"]


def _cmd_list(args: argparse.Namespace) -> int:
    experiments = load_experiments(args.file)
    if not experiments:
        print(f"No experiments defined in {args.file}.")
    for experiment in experiments.values():
        total = sum(v.weight for v in experiment.variants)
        arms = ", ".join(f"{v.name} {v.weight / total:.0%}{'' if v.personalised else ' (not personalised)'}"
                         for v in experiment.variants)
        print(f"{experiment.name}: {arms}")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    try:
        if args.experiment:
            experiment = load_experiments(args.file).get(args.experiment)
            if experiment is None:
                raise ExperimentError(f"experiment {args.experiment!r} is not defined in {args.file}")
        else:
            experiment = active_experiment()
            if experiment is None:
                raise ExperimentError("no experiment named: pass --experiment NAME or set SHOPKEEPER_EXPERIMENT")
    except ExperimentError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    engine = make_engine(args.db or StoreSettings.from_env().url)
    create_schema(engine)
    reports = experiment_report(engine, experiment)
    if args.json:
        print(json.dumps([r.as_dict() for r in reports], indent=2))
    else:
        print(f"experiment {experiment.name}")
        print(format_report(reports))
    return 0


def add_experiments_parser(commands: Any) -> None:
    """Register ``experiments`` and its subcommands on the CLI's subparsers.

    Args:
        commands: the object ``ArgumentParser.add_subparsers()`` returned.
    """
    experiments = commands.add_parser(
        "experiments", help="online experiments: definitions and per-variant report",
        description="List the experiments of data/experiments.toml and report on one: per variant, "
                    "click-through, acceptance and satisfaction with Wilson 95%% intervals and a "
                    "two-proportion z-test against the control (the first variant).",
    )
    sub = experiments.add_subparsers(dest="experiments_command", required=True, metavar="SUBCOMMAND")
    listing = sub.add_parser("list", help="list the defined experiments", description="List the defined experiments.")
    listing.add_argument("--file", type=Path, default=DEFAULT_EXPERIMENTS_FILE,
                         help="definitions (default data/experiments.toml)")
    listing.set_defaults(func=_cmd_list)
    report = sub.add_parser("report", help="per-variant figures with intervals and p-values",
                            description="Per-variant click-through (lists with a 👍), acceptance (customers "
                                        "who chose an item) and satisfaction (yes answers).")
    report.add_argument("--experiment", help="experiment name (default SHOPKEEPER_EXPERIMENT)")
    report.add_argument("--file", type=Path, default=DEFAULT_EXPERIMENTS_FILE,
                        help="definitions (default data/experiments.toml)")
    report.add_argument("--db", metavar="URL", help="database URL (default SHOPKEEPER_DB_URL or build/shopkeeper.db)")
    report.add_argument("--json", action="store_true", help="print JSON instead of a table")
    report.set_defaults(func=_cmd_report)

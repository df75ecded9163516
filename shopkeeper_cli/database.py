"""``shopkeeper experiments …`` and ``shopkeeper privacy …``: commands on our database.

::

    shopkeeper experiments list
    shopkeeper experiments report                       # the experiment SHOPKEEPER_EXPERIMENT names
    shopkeeper experiments report --experiment personalisation --json
    shopkeeper privacy purge --dry-run                  # what is older than SHOPKEEPER_RETENTION_DAYS
    shopkeeper privacy purge                            # delete it (run daily)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from store.db import SettingsError, StoreSettings, create_schema, make_engine, tracker_store_url
from store.experiments import (
    DEFAULT_EXPERIMENTS_FILE,
    ExperimentError,
    active_experiment,
    experiment_report,
    format_report,
    load_experiments,
)

__all__ = ["add_experiments_parser", "add_privacy_parser"]


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


def _cmd_purge(args: argparse.Namespace) -> int:
    from store.retention import purge

    try:
        settings = StoreSettings.from_env()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    days = args.days if args.days is not None else settings.retention_days
    if days < 1:
        print(f"error: --days must be at least 1, not {days}", file=sys.stderr)
        return 2
    store = make_engine(args.db or settings.url)
    create_schema(store)
    tracker_url = args.tracker_db or tracker_store_url()
    report = purge(store, make_engine(tracker_url) if tracker_url else None, retention_days=days,
                   dry_run=args.dry_run)
    if args.json:
        print(json.dumps({**report.as_dict(), "tracker_store": bool(tracker_url)}, indent=2))
        return 0
    verb = "would delete" if report.dry_run else "deleted"
    print(f"{verb} what was last active before {report.cutoff:%Y-%m-%d %H:%M} UTC ({days} days):")
    for label, value in (("conversations (tracker store)", report.conversations),
                         ("  their events", report.events), ("interactions", report.interactions),
                         ("console summaries", report.summaries), ("customers", report.customers),
                         ("  profiles", report.profiles), ("  consent history entries", report.consent_events),
                         ("console audit entries", report.audit_entries)):
        print(f"  {label:<32} {value:>8}")
    if not tracker_url:
        print("  (no tracker store configured: set SHOPKEEPER_TRACKER_DB_URL or RASA_TRACKER_DB)")
    return 0


def add_privacy_parser(commands: Any) -> None:
    """Register ``privacy`` and its subcommands on the CLI's subparsers.

    Args:
        commands: the object ``ArgumentParser.add_subparsers()`` returned.
    """
    privacy = commands.add_parser(
        "privacy", help="storage limitation: delete what is older than the retention period",
        description="Privacy duties on our database and Rasa's tracker store (docs/PRIVACY.md).",
    )
    sub = privacy.add_subparsers(dest="privacy_command", required=True, metavar="SUBCOMMAND")
    purge = sub.add_parser(
        "purge", help="delete conversations, interactions, summaries and customers past the retention",
        description="Delete, in Rasa's tracker store, every conversation whose newest event is older than the "
                    "retention period, and, in our database, the interactions logged before it, the console "
                    "summaries (tags, notes) of those conversations and the customers (profile, consent history) "
                    "last seen before it. Prints the counts. Run it daily, e.g. from cron.",
    )
    purge.add_argument("--days", type=int, help="retention in days (default SHOPKEEPER_RETENTION_DAYS or 90)")
    purge.add_argument("--dry-run", action="store_true", help="count what would go, delete nothing")
    purge.add_argument("--db", metavar="URL", help="our database (default SHOPKEEPER_DB_URL or build/shopkeeper.db)")
    purge.add_argument("--tracker-db", metavar="URL",
                       help="Rasa's tracker store (default SHOPKEEPER_TRACKER_DB_URL, else RASA_TRACKER_DB)")
    purge.add_argument("--json", action="store_true", help="print JSON instead of a table")
    purge.set_defaults(func=_cmd_purge)

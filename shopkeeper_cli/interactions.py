"""``shopkeeper interactions …``: a shop's order history in, and the collaborative model built.

::

    shopkeeper interactions import orders.csv --mapping orders.toml   # store the valid rows, list the refused
    shopkeeper interactions build                                     # the model, from every purchase, like and choice

Run ``build`` again whenever new orders or chats should count (the README gives a nightly cron line).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from retrieval.collaborative import DEFAULT_L2, CollaborativeModel, collaborative_dir
from retrieval.interactions import load_interaction_mapping, read_interactions
from store.db import StoreSettings, create_schema, make_engine
from store.pseudonyms import Pseudonymiser
from store.purchases import import_purchases, taken_pairs

__all__ = ["add_interactions_parser"]


def _store(args: argparse.Namespace) -> tuple[Any, Pseudonymiser]:
    settings = StoreSettings.from_env()
    engine = make_engine(args.db or settings.url)
    create_schema(engine)
    return engine, Pseudonymiser(settings.pseudonym_key, rotation_days=settings.pseudonym_rotation_days)


def _cmd_import(args: argparse.Namespace) -> int:
    from shopkeeper_cli.main import _catalog_from, _settings

    catalog = _catalog_from(_settings(args), args)
    report = read_interactions(args.source, load_interaction_mapping(args.interactions_mapping),
                               {p.id for p in catalog})
    engine, pseudonyms = _store(args)
    stored, repeated = import_purchases(engine, report.kept, pseudonyms)
    print(f"{report.summary()}; {stored:,} stored, {repeated:,} already stored or repeated in the file")
    if report.refused:
        print(f"\nRefused rows ({len(report.refused):,}):")
        for problem in report.refused[:args.show]:
            print(f"  {problem.row:>8}  {problem.field:<9} {problem.message[:60]:<60} {problem.value!r}")
        if len(report.refused) > args.show:
            print(f"  … {len(report.refused) - args.show:,} more (use --show N to list more)")
    print("Build the model with: shopkeeper interactions build")
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from shopkeeper_cli.main import _catalog_from, _settings

    settings = _settings(args)
    catalog = _catalog_from(settings, args)
    engine, _ = _store(args)
    started = time.perf_counter()
    model = CollaborativeModel.build(catalog, taken_pairs(engine), l2=args.l2)
    out = args.out or collaborative_dir(settings.index_dir)
    model.save(out)
    manifest = model.manifest
    print(f"Built the collaborative model of {manifest.interactions:,} interactions of {manifest.customers:,} "
          f"customers over {manifest.items_with_data:,} of {len(catalog):,} items in "
          f"{time.perf_counter() - started:.1f}s → {out}")
    return 0


def add_interactions_parser(commands: Any) -> None:
    """``shopkeeper interactions import|build``."""
    interactions = commands.add_parser(
        "interactions", help="a shop's order history, and the collaborative model",
        description="Import a shop's orders or ratings, and build the model of what customers take together.")
    sub = interactions.add_subparsers(dest="interactions_command", required=True, metavar="SUBCOMMAND")
    imp = sub.add_parser("import", help="store the valid rows of an order or rating export",
                         description="Read an export through its mapping; store the valid rows under keyed "
                                     "pseudonyms of the shop's customer ids; list the refused rows with why.")
    imp.add_argument("source", type=Path, help="the export (.csv, .json or .jsonl)")
    imp.add_argument("--mapping", dest="interactions_mapping", type=Path, required=True,
                     help="TOML mapping of its columns (retrieval/interactions.py)")
    imp.add_argument("--show", type=int, default=20, metavar="N", help="list at most N refused rows (default 20)")
    imp.set_defaults(func=_cmd_import)
    build = sub.add_parser("build", help="build the collaborative model of the active catalog",
                           description="Learn which items customers take together from every stored purchase, "
                                       "like and choice; save it beside the catalog's index.")
    build.add_argument("--out", type=Path, help="model folder (default: the index folder's collaborative/)")
    build.add_argument("--l2", type=float, default=DEFAULT_L2, help=f"EASE's regularisation (default {DEFAULT_L2:g})")
    build.set_defaults(func=_cmd_build)
    for parser in (imp, build):
        parser.add_argument("--db", help="database URL (default SHOPKEEPER_DB_URL)")
        parser.add_argument("--catalog", type=Path, help="catalog file (default SHOPKEEPER_CATALOG)")
        parser.add_argument("--catalog-mapping", dest="mapping", type=Path, help="mapping of a foreign catalog")

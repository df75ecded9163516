r"""The ``shopkeeper`` command line: the parser, ``main``, and the catalog, index and search commands.

Every command shares its code path with the library; ``--help`` on each says
what it does. Examples::

    shopkeeper catalog import ../shared/catalogs/flipkart-sample.csv \\
        --mapping data/catalog/mappings/flipkart.toml --out build/flipkart.jsonl --lenient
    shopkeeper catalog use ../shared/catalogs/flipkart-sample.csv \\
        --mapping data/catalog/mappings/flipkart.toml      # import, index, NLU, model; make run uses it
    shopkeeper catalog use --demo                           # back to the demo catalog
    shopkeeper index build
    shopkeeper search "grey sofa for a small flat" --max-price 800 --exclude leather
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from retrieval.cache import EmbeddingCache
from retrieval.catalog import Catalog
from retrieval.errors import RetrievalError, RowError
from retrieval.filters import Filters
from retrieval.loaders import LoadReport, load_catalog
from retrieval.mapping import load_mapping
from retrieval.search import Retriever, build_catalog_index
from retrieval.settings import PROJECT_ROOT, RetrievalSettings
from retrieval.vocabulary import CatalogVocabulary, read_nlu_synonyms
from shopkeeper_cli.console import add_console_parser
from shopkeeper_cli.database import add_experiments_parser, add_privacy_parser
from shopkeeper_cli.interactions import add_interactions_parser
from store.errors import StoreError, StoreUnavailableError

__all__ = ["main"]


def _load(source: Path, mapping: Path | None, *, strict: bool) -> LoadReport:
    return load_catalog(source, load_mapping(mapping) if mapping else None, strict=strict)


def _print_row_problems(title: str, problems: list[RowError], limit: int) -> None:
    if not problems:
        return
    print(f"\n{title} ({len(problems)}):")
    print(f"  {'row':>6}  {'field':<12}  {'problem':<44}  value")
    for problem in problems[:limit]:
        value = problem.value if len(problem.value) <= 30 else problem.value[:29] + "…"
        print(f"  {problem.row:>6}  {problem.field:<12}  {problem.message[:44]:<44}  {value!r}")
    if len(problems) > limit:
        print(f"  … {len(problems) - limit} more (use --show N to list more)")


def _cmd_catalog_import(args: argparse.Namespace) -> int:
    report = _load(args.source, args.mapping, strict=not args.lenient)
    if args.out:
        report.catalog.write_jsonl(args.out)
    print(report.summary())
    _print_row_problems("Skipped rows", report.errors, args.show)
    if args.warnings:
        _print_row_problems("Warnings", report.warnings, args.show)
    categories = report.catalog.categories()
    print(f"\n{len(categories)} categories: {', '.join(categories[:12])}{' …' if len(categories) > 12 else ''}")
    if args.out:
        print(f"Wrote {args.out}")
    return 0


def _catalog_from(settings: RetrievalSettings, args: argparse.Namespace) -> Catalog:
    source = args.catalog or settings.catalog_path
    mapping = args.mapping or settings.mapping_path
    return _load(source, mapping, strict=False).catalog


def _settings(args: argparse.Namespace) -> RetrievalSettings:
    settings = RetrievalSettings.from_env()
    if getattr(args, "encoder", None):
        settings = RetrievalSettings(**{**settings.__dict__, "encoder": args.encoder})
    return settings


def _cmd_index_build(args: argparse.Namespace) -> int:
    settings = _settings(args)
    catalog = _catalog_from(settings, args)
    encoder = settings.make_encoder()
    index_dir = args.out or settings.index_dir
    with EmbeddingCache(settings.cache_path) as cache:
        result = build_catalog_index(
            catalog, encoder, index_dir, cache=cache, kind=args.kind or settings.index_kind,
            force=args.force, show_progress=not args.quiet,
        )
    manifest = result.index.manifest
    if result.skipped:
        print(f"Index in {index_dir} is up to date ({manifest.count} items, {manifest.kind}); nothing to do.")
    else:
        print(
            f"Built a {manifest.kind} index of {manifest.count} items in {result.seconds:.1f}s "
            f"({result.computed} embedded, {result.reused} from cache) → {index_dir}"
        )
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    settings = _settings(args)
    catalog = _catalog_from(settings, args)
    encoder = settings.make_query_encoder()
    retriever = Retriever.load(catalog, encoder, args.index or settings.index_dir)
    filters = Filters(
        categories=frozenset(args.category or ()),
        min_price=args.min_price,
        max_price=args.max_price,
        exclude_terms=tuple(args.exclude or ()),
        in_stock_only=not args.include_out_of_stock,
    )
    matches = retriever.search(" ".join(args.query), filters, k=args.k, diversity=args.diversity)
    if not matches:
        print("No item matches those filters.")
        return 1
    width = max(40, min(shutil.get_terminal_size((100, 20)).columns - 60, 70))
    print(f"{'#':>2}  {'score':>5}  {'id':<14}  {'title':<{width}}  {'price':>10}  category")
    for match in matches:
        product = match.product
        title = textwrap.shorten(product.title, width=width, placeholder="…")
        price = f"{product.price:,.2f} {product.currency}"
        print(
            f"{match.rank:>2}  {match.score:5.3f}  {product.id[:14]:<14}  {title:<{width}}  {price:>10}  "
            f"{product.category}"
        )
    return 0


def _cmd_nlu_lookups(args: argparse.Namespace) -> int:
    settings = _settings(args)
    catalog = _catalog_from(settings, args)
    out: Path = args.out
    others = [p for p in sorted(out.parent.glob("*.yml")) if p.resolve() != out.resolve()]
    vocabulary = write_nlu_lookups(catalog, out, Path(args.catalog or settings.catalog_path), others)
    counts = ", ".join(f"{len(v)} {k}" for k, v in vocabulary.lookup_tables().items())
    print(f"Wrote {out}: lookup tables with {counts}.")
    return 0


#: Where ``catalog use`` puts each catalog's import, index, NLU lookups and model.
CATALOG_BUILDS = PROJECT_ROOT / "build" / "catalogs"
#: The environment of the catalog ``make run`` serves; absent for the demo catalog.
ACTIVE_CATALOG_ENV = PROJECT_ROOT / "build" / "active-catalog.env"
DEMO_NLU_LOOKUPS = PROJECT_ROOT / "data" / "nlu" / "catalog_lookups.yml"


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path.resolve())


def write_nlu_lookups(catalog: Catalog, out: Path, source: Path, others: list[Path], *,
                      examples: bool = False) -> CatalogVocabulary:
    """Write the lookup tables and synonyms of a catalog, leaving out synonym texts ``others`` define.

    Args:
        catalog: the products.
        out: the YAML file to write.
        source: the catalog file, named in the header.
        others: the rest of the NLU training data (Rasa refuses a text mapped to two values).
        examples: also write annotated examples in the catalog's words (see
            :meth:`CatalogVocabulary.training_examples`).

    Returns:
        The catalog's vocabulary.
    """
    vocabulary = CatalogVocabulary(catalog)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = vocabulary.nlu_yaml(_relative(source), exclude_synonym_texts=read_nlu_synonyms(others), examples=examples)
    out.write_text(text, encoding="utf-8")
    return vocabulary


def read_catalog_env(path: Path) -> dict[str, str]:
    """The variables of a ``catalog.env`` (``KEY=value`` lines, values quoted for the shell that sources it)."""
    env = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            words = shlex.split(value)
            env[key.strip()] = words[0] if words else ""
    return env


def _shop_name_from(source: Path) -> str:
    words = re.sub(r"[_-]+", " ", source.stem).split()
    return " ".join(w[:1].upper() + w[1:] for w in words) or "Our shop"


def shop_tagline(catalog: Catalog, kinds: int = 3) -> str:
    """What a shop sells, from its biggest categories: "Hobbies, Puzzles and Party Supplies"."""
    counts = Counter(p.category for p in catalog)
    biggest = [name for name, _ in counts.most_common(kinds)]
    if len(biggest) < 2:
        return biggest[0] if biggest else ""
    more = " and more" if len(counts) > kinds else ""
    return (", ".join(biggest[:-1]) + (", " if more else " and ") + biggest[-1] + more)


def _import_step(args: argparse.Namespace, jsonl: Path) -> LoadReport:
    """Step 1 of ``catalog use``: import the catalog through its mapping and write it as JSONL."""
    print(f"1/4 Importing {args.source} …")
    report = _load(args.source, args.mapping, strict=args.strict)
    report.catalog.write_jsonl(jsonl)
    print(f"    {report.summary()} → {_relative(jsonl)}")
    _print_row_problems("    Skipped rows", report.errors, args.show)
    return report


def _index_step(args: argparse.Namespace, settings: RetrievalSettings, catalog: Catalog, index_dir: Path) -> None:
    """Step 2 of ``catalog use``: embed the catalog and save its index (skipped when up to date)."""
    print("2/4 Building the index …")
    encoder = settings.make_encoder()
    with EmbeddingCache(settings.cache_path) as cache:
        result = build_catalog_index(catalog, encoder, index_dir, cache=cache, kind=settings.index_kind,
                                     show_progress=not args.quiet)
    state = "up to date" if result.skipped else f"built in {result.seconds:.1f}s ({result.computed} embedded)"
    print(f"    {result.index.manifest.count} items, {state} → {_relative(index_dir)}")


def _lookups_step(args: argparse.Namespace, catalog: Catalog, lookups: Path) -> None:
    """Step 3 of ``catalog use``: NLU lookup tables, synonyms and examples in the catalog's words."""
    print("3/4 Writing the NLU lookup tables, synonyms and examples in the catalog's words …")
    others = [p for p in sorted(DEMO_NLU_LOOKUPS.parent.glob("*.yml")) if p.name != DEMO_NLU_LOOKUPS.name]
    vocabulary = write_nlu_lookups(catalog, lookups, args.source, others, examples=True)
    counts = ", ".join(f"{len(v)} {k}" for k, v in vocabulary.lookup_tables().items())
    print(f"    {counts} → {_relative(lookups)}")


def _catalog_environment(args: argparse.Namespace, settings: RetrievalSettings, catalog: Catalog,
                         home: Path) -> dict[str, str]:
    """The variables that make ``make run`` serve the catalog built in ``home``."""
    mapping = load_mapping(args.mapping) if args.mapping else None
    shop_name = args.shop_name or (mapping.shop_name if mapping else "") or _shop_name_from(args.source)
    return {
        "SHOPKEEPER_SHOP_NAME": shop_name,
        "SHOPKEEPER_SHOP_TAGLINE": shop_tagline(catalog),
        "SHOPKEEPER_CATALOG": _relative(home / "products.jsonl"),
        "SHOPKEEPER_CATALOG_MAPPING": "",  # the import is in the native format
        "SHOPKEEPER_INDEX_DIR": _relative(home / "index"),
        "SHOPKEEPER_NLU_LOOKUPS": _relative(home / "catalog_lookups.yml"),
        "SHOPKEEPER_RASA_MODEL": _relative(home / "models" / "shopkeeper.tar.gz"),
        **({"SHOPKEEPER_ENCODER": settings.encoder} if settings.encoder != "sentence-transformers" else {}),
    }


def _train_step(args: argparse.Namespace, environment: dict[str, str], model: Path) -> int:
    """Step 4 of ``catalog use``: train the Rasa model on the catalog's NLU data; the exit code (0 when done)."""
    if args.no_train:
        print("4/4 Training skipped (--no-train); `make run` trains the model when it starts.")
        return 0
    print("4/4 Training the Rasa model (skipped when the NLU data is unchanged) …", flush=True)
    train = subprocess.run([str(PROJECT_ROOT / "scripts" / "train.sh")], cwd=PROJECT_ROOT,
                           env={**os.environ, **environment}, check=False)
    if train.returncode != 0:
        print(f"error: training failed (exit {train.returncode}); the active catalog is unchanged",
              file=sys.stderr)
        return train.returncode
    print(f"    → {_relative(model)}")
    return 0


def _cmd_catalog_use(args: argparse.Namespace) -> int:
    active: Path = args.active_file
    if args.demo:
        if active.exists():
            active.unlink()
        print("The demo catalog is active again (data/catalog/products.jsonl, build/index, models/).")
        print("Restart `make run` to serve it.")
        return 0
    if args.source is None:
        raise ValueError("name a catalog file to use, or --demo to go back to the demo catalog")
    name = args.name or re.sub(r"[^\w.-]+", "-", args.source.stem).strip("-").lower() or "catalog"
    home: Path = args.build_dir or CATALOG_BUILDS / name
    home.mkdir(parents=True, exist_ok=True)
    model = home / "models" / "shopkeeper.tar.gz"

    report = _import_step(args, home / "products.jsonl")
    settings = _settings(args)
    _index_step(args, settings, report.catalog, home / "index")
    _lookups_step(args, report.catalog, home / "catalog_lookups.yml")
    environment = _catalog_environment(args, settings, report.catalog, home)
    env_text = "".join(f"{key}={shlex.quote(value)}\n" for key, value in environment.items())
    (home / "catalog.env").write_text(env_text, encoding="utf-8")
    trained = _train_step(args, environment, model)
    if trained != 0:
        return trained

    if args.no_activate:
        print(f"\nBuilt {name} in {_relative(home)}; serve it with the variables in {_relative(home / 'catalog.env')}.")
        return 0
    active.parent.mkdir(parents=True, exist_ok=True)
    active.write_text(f"# Written by `shopkeeper catalog use`; `make catalog-demo` removes it.\n{env_text}",
                      encoding="utf-8")
    print(f"\n{name} is now the active catalog ({_relative(active)}).")
    print("Restart `make run` to serve it (Ctrl-C, then `make run`); `make catalog-demo` switches back.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and documentation)."""
    parser = argparse.ArgumentParser(
        prog="shopkeeper",
        description="Catalog import, index build and search for the Shopkeeper assistant.",
        epilog="Settings come from SHOPKEEPER_* environment variables; see retrieval/settings.py.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    catalog = commands.add_parser("catalog", help="import and validate catalogs",
                                  description="Import and validate catalog files.")
    catalog_commands = catalog.add_subparsers(dest="catalog_command", required=True, metavar="SUBCOMMAND")
    _add_catalog_import(catalog_commands)
    _add_catalog_use(catalog_commands)
    _add_index_build(commands)
    _add_search(commands)
    _add_nlu_lookups(commands)
    add_console_parser(commands)
    add_experiments_parser(commands)
    add_privacy_parser(commands)
    add_interactions_parser(commands)
    return parser


def _add_catalog_import(catalog_commands: Any) -> None:
    """``shopkeeper catalog import``: validate a catalog file and write it as Shopkeeper JSONL."""
    imp = catalog_commands.add_parser(
        "import",
        help="validate a CSV/JSON/JSONL catalog and write it as Shopkeeper JSONL",
        description=(
            "Read a catalog through a column mapping, validate every row and (with --out) write "
            "it in Shopkeeper's JSONL format. Strict by default: any invalid row fails the import "
            "and all problems are listed. With --lenient invalid rows are skipped and reported."
        ),
    )
    imp.add_argument("source", type=Path, help="the catalog file (.csv, .json or .jsonl)")
    imp.add_argument("--mapping", type=Path, help="TOML column mapping (default: native field names)")
    imp.add_argument("--out", type=Path, help="write the valid products here as JSONL")
    imp.add_argument("--lenient", action="store_true", help="skip invalid rows instead of failing")
    imp.add_argument("--warnings", action="store_true", help="also list warnings (blank descriptions, …)")
    imp.add_argument("--show", type=int, default=20, metavar="N", help="list at most N problems (default 20)")
    imp.set_defaults(func=_cmd_catalog_import)


def _add_catalog_use(catalog_commands: Any) -> None:
    """``shopkeeper catalog use``: import, index, NLU lookups and model for a catalog, and make it active."""
    use = catalog_commands.add_parser(
        "use",
        help="make a catalog the one the assistant serves: import, index, NLU lookups, model",
        description=(
            "Import a CSV/JSON/JSONL catalog through its mapping (invalid rows are skipped and listed "
            "unless --strict), embed it, write NLU lookup tables and synonyms from its categories, "
            "colours, materials, styles and brands, train a Rasa model on them, and make it the active "
            "catalog of `make run`. Everything goes to build/catalogs/NAME/, so the demo catalog's index "
            "and model are untouched; steps whose inputs did not change are skipped. "
            "`shopkeeper catalog use --demo` (make catalog-demo) switches back."
        ),
    )
    use.add_argument("source", type=Path, nargs="?", help="the catalog file (.csv, .json or .jsonl)")
    use.add_argument("--mapping", type=Path, help="TOML column mapping (default: native field names)")
    use.add_argument("--demo", action="store_true", help="switch back to the demo catalog")
    use.add_argument("--name", help="build folder name (default: the file name, e.g. flipkart-sample)")
    use.add_argument("--shop-name", help="the shop's name on its page (default: the mapping's shop_name, "
                                         "else from the file name)")
    use.add_argument("--build-dir", type=Path, help="build folder (default build/catalogs/NAME)")
    use.add_argument("--strict", action="store_true", help="fail on any invalid row instead of skipping it")
    use.add_argument("--no-train", action="store_true", help="skip training (make run trains when it starts)")
    use.add_argument("--no-activate", action="store_true", help="build only; leave the active catalog as it is")
    use.add_argument("--active-file", type=Path, default=ACTIVE_CATALOG_ENV, help=argparse.SUPPRESS)
    use.add_argument("--encoder", choices=("sentence-transformers", "hashing"),
                     help="embedding model (default SHOPKEEPER_ENCODER or sentence-transformers)")
    use.add_argument("--quiet", action="store_true", help="no progress bar")
    use.add_argument("--show", type=int, default=10, metavar="N", help="list at most N skipped rows (default 10)")
    use.set_defaults(func=_cmd_catalog_use)


def _add_index_build(commands: Any) -> None:
    """``shopkeeper index build``: embed the catalog and save its FAISS index."""
    index = commands.add_parser("index", help="build the vector index", description="Build the vector index.")
    index_commands = index.add_subparsers(dest="index_command", required=True, metavar="SUBCOMMAND")
    build = index_commands.add_parser(
        "build",
        help="embed the catalog and save its FAISS index (skipped when up to date)",
        description=(
            "Embed the catalog with the configured model, reusing cached vectors of unchanged "
            "items, and save the index with its manifest. Does nothing when the saved index "
            "already matches the catalog and model, unless --force."
        ),
    )
    _catalog_options(build)
    build.add_argument("--out", type=Path, help="index directory (default SHOPKEEPER_INDEX_DIR or build/index)")
    build.add_argument("--kind", choices=("auto", "flat", "ivf", "hnsw"), help="index kind (default auto)")
    build.add_argument("--force", action="store_true", help="rebuild even when up to date")
    build.add_argument("--quiet", action="store_true", help="no progress bar")
    build.set_defaults(func=_cmd_index_build)


def _add_search(commands: Any) -> None:
    """``shopkeeper search``: search the indexed catalog and print a table."""
    search = commands.add_parser(
        "search",
        help="search the catalog and print a table",
        description="Search the indexed catalog for a text query with optional filters.",
    )
    search.add_argument("query", nargs="+", help="what the customer is looking for")
    _catalog_options(search)
    search.add_argument("--index", type=Path, help="index directory (default SHOPKEEPER_INDEX_DIR)")
    search.add_argument("--category", action="append", help="allowed category (repeatable)")
    search.add_argument("--min-price", type=float, help="lowest price")
    search.add_argument("--max-price", type=float, help="highest price")
    search.add_argument("--exclude", action="append", help="word to exclude, e.g. leather (repeatable)")
    search.add_argument("--include-out-of-stock", action="store_true", help="also show items out of stock")
    search.add_argument("-k", type=int, default=5, help="results (default 5)")
    search.add_argument("--diversity", type=float, default=0.0, help="MMR diversity 0..1 (default 0)")
    search.set_defaults(func=_cmd_search)


def _add_nlu_lookups(commands: Any) -> None:
    """``shopkeeper nlu lookups``: lookup tables and synonyms in the catalog's words."""
    nlu = commands.add_parser("nlu", help="generate NLU data from the catalog",
                              description="Generate Rasa NLU data from the catalog.")
    nlu_commands = nlu.add_subparsers(dest="nlu_command", required=True, metavar="SUBCOMMAND")
    lookups = nlu_commands.add_parser(
        "lookups",
        help="write lookup tables and synonyms for categories, colours, materials, styles and brands",
        description=(
            "Write the NLU lookup tables and synonyms (singular/plural, lower case) for the catalog's "
            "categories, colours, materials, styles and brands, so that after importing another catalog "
            "the assistant recognises its words. Synonym texts already defined in the other files of the "
            "output folder are left out. Retrain the model afterwards (make model)."
        ),
    )
    _catalog_options(lookups)
    lookups.add_argument("--out", type=Path, default=PROJECT_ROOT / "data" / "nlu" / "catalog_lookups.yml",
                         help="output file (default data/nlu/catalog_lookups.yml)")
    lookups.set_defaults(func=_cmd_nlu_lookups)


def _catalog_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--catalog", type=Path, help="catalog file (default SHOPKEEPER_CATALOG)")
    parser.add_argument("--mapping", type=Path, help="mapping for a foreign catalog")
    parser.add_argument("--encoder", choices=("sentence-transformers", "hashing"),
                        help="embedding model (default SHOPKEEPER_ENCODER or sentence-transformers)")


def error_message(error: Exception) -> str:
    """What the CLI prints for an error of the catalog, index or database: one line that says what to do.

    >>> error_message(ValueError("--days must be at least 1"))
    'error: --days must be at least 1'
    >>> error_message(StoreUnavailableError("the purge", 6, ConnectionError("refused"))).endswith("is running")
    True
    """
    if isinstance(error, StoreUnavailableError):
        return f"error: {error}; check that the database (SHOPKEEPER_DB_URL, or --db) is running"
    return f"error: {error}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code (2, with a one-line message, when a command fails).

    The errors of the packages it drives (:class:`RetrievalError`, :class:`store.errors.StoreError`)
    and bad values (``ValueError``) are printed as ``error: …`` instead of a traceback.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except (RetrievalError, StoreError, ValueError) as exc:
        print(error_message(exc), file=sys.stderr)
        return 2
    return code



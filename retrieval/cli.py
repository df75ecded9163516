r"""The ``shopkeeper`` command line: catalog import, index build, search.

Every command shares its code path with the library; ``--help`` on each says
what it does. Examples::

    shopkeeper catalog import ../shared/catalogs/flipkart-sample.csv \\
        --mapping data/catalog/mappings/flipkart.toml --out build/flipkart.jsonl --lenient
    shopkeeper index build
    shopkeeper search "grey sofa for a small flat" --max-price 800 --exclude leather
"""

from __future__ import annotations

import argparse
import shutil
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

from retrieval.cache import EmbeddingCache
from retrieval.catalog import Catalog
from retrieval.errors import RetrievalError, RowError
from retrieval.filters import Filters
from retrieval.index import VectorIndex
from retrieval.loaders import LoadReport, load_catalog
from retrieval.mapping import load_mapping
from retrieval.search import Retriever, build_catalog_index
from retrieval.settings import PROJECT_ROOT, RetrievalSettings
from retrieval.vocabulary import CatalogVocabulary, read_nlu_synonyms

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
    encoder = settings.make_encoder()
    index = VectorIndex.load(
        args.index or settings.index_dir,
        expected_model=encoder.name,
        expected_fingerprint=catalog.fingerprint(),
    )
    retriever = Retriever(catalog, index, encoder)
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
    taken = read_nlu_synonyms(others)
    source = args.catalog or settings.catalog_path
    try:
        source_name = str(Path(source).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        source_name = Path(source).name
    vocabulary = CatalogVocabulary(catalog)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(vocabulary.nlu_yaml(source_name, exclude_synonym_texts=taken), encoding="utf-8")
    counts = ", ".join(f"{len(v)} {k}" for k, v in vocabulary.lookup_tables().items())
    print(f"Wrote {out}: lookup tables with {counts}.")
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
    from web.console.cli import add_console_parser  # the review console's users live with the web app

    add_console_parser(commands)
    from store.cli import add_experiments_parser  # experiments report on our database

    add_experiments_parser(commands)
    return parser


def _catalog_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--catalog", type=Path, help="catalog file (default SHOPKEEPER_CATALOG)")
    parser.add_argument("--mapping", type=Path, help="mapping for a foreign catalog")
    parser.add_argument("--encoder", choices=("sentence-transformers", "hashing"),
                        help="embedding model (default SHOPKEEPER_ENCODER or sentence-transformers)")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except (RetrievalError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

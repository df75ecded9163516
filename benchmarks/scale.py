#!/usr/bin/env python3
"""Search and rerank latency at catalog scale (10,000 items by default), and what the build costs.

Run from the repository root (``make bench-scale`` does the same)::

    .venv/bin/python -m benchmarks.scale                          # 10,000 items, about 10 minutes
    .venv/bin/python -m benchmarks.scale --markdown /tmp/scale.md # also write the tables as markdown
    .venv/bin/python -m benchmarks.scale --items 30000 --repeat 5

The target: a shopper's query answered by search + rerank (``Recommender.recommend``) in under 5 ms
at the 95th percentile on a 10,000-item catalog, the query's vector already embedded.

The catalog. Real products: the demo catalog (``data/catalog/products.jsonl``) and the three foreign
catalogs of ``../shared/catalogs`` read through their mappings in ``data/catalog/mappings/`` (lenient
import, as ``shopkeeper catalog use`` does), ids prefixed by their source. They hold about 2,700
items; :func:`expand_catalog` adds seeded variants until there are ``--items``: a copy of a product
with a new id, its title prefixed by a size, colour or edition word ("Compact", "Navy", "Gift Set")
no other copy of that product has, and its price multiplied by a factor in [0.8, 1.25]. So no two
items have the same text or vector, while neighbourhoods stay as dense as in a catalog that sells
variants. Without ``../shared/catalogs`` the run stops, unless ``--demo-only`` is given.

The build, timed step by step: the encoder (all-MiniLM-L6-v2, offline) embeds every item's
``embedding_text()``; the FAISS index is built as ``Retriever.build`` builds it (``kind="auto"``:
exact below 20,000 items, IVF above); BM25 (``LexicalIndex.build``); the rest of the retriever (the
filter table). Builds use the machine's default thread counts; queries then run with the serving
setting (``SHOPKEEPER_QUERY_THREADS``, 1), as in the action server.

The queries: the shopper queries of ``benchmarks/queries/*.yml`` (every suite; read here rather than
through benchmarks/queries.py, which imports the server stack). Each becomes a :class:`Needs` with the
query as its text; a share of them (``--filtered``, half by default) also gets a hard filter, in
turn a category scope (one of the query's accepted categories), a maximum price (the median price
of that category), or both. Each query's vector is embedded first (timed on its own), then these
are timed one call at a time, ``--repeat`` passes after ``--warmup`` untimed queries:

* ``Retriever.search(text, k=3, mode=m)`` for hybrid, dense and lexical, without filters;
* hybrid search under the need's filters, for the filtered queries;
* ``Recommender(retriever).recommend(needs, k=3)``: hard filters, FAISS and BM25 candidates (60
  each), fusion, the ranking signals, MMR and the reasons;
* the same pipeline replayed stage by stage (filter mask, FAISS, BM25, fusion, signals, MMR, ...),
  to see where the time goes; the replay is checked to return the same items as ``recommend``.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import platform
import random
import resource
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.queries import OFF_TOPIC, load_queries
from benchmarks.reporting import (
    Report,
    Table,
    code_version,
    cpu_model,
    elapsed,
    load_average,
    log,
    mem_total_gb,
    percentile,
)
from retrieval.cache import EmbeddingCache
from retrieval.catalog import Catalog, Product
from retrieval.encoder import Encoder, HashingEncoder
from retrieval.index import VectorIndex
from retrieval.lexical import LexicalIndex
from retrieval.loaders import load_catalog
from retrieval.mapping import load_mapping
from retrieval.paths import PROJECT_ROOT as REPO
from retrieval.ranker import Pool, Request
from retrieval.ranking import mmr
from retrieval.recommender import Needs, Preferences, Recommender
from retrieval.search import MODES, Retriever
from retrieval.settings import RetrievalSettings

DEMO_CATALOG = REPO / "data" / "catalog" / "products.jsonl"
MAPPINGS = REPO / "data" / "catalog" / "mappings"
SHARED_CATALOGS = REPO.parent / "shared" / "catalogs"
#: The foreign catalogs: (source name, file in ../shared/catalogs, mapping in data/catalog/mappings).
FOREIGN = (
    ("flipkart", "flipkart-sample.csv", "flipkart.toml"),
    ("dummyjson", "dummyjson-products.json", "dummyjson.toml"),
    ("amazon", "amazon-2020-sample.csv", "amazon.toml"),
)
QUERIES = REPO / "benchmarks" / "queries"
K = 3
TARGET_MS = 5.0
#: Words a variant's title starts with: sizes, colours, editions. A product's copies take them in a
#: seeded order of their own, so no two copies of one product share a title (one word for the first
#: 24 copies, two words for the next 576).
VARIANT_WORDS = (
    "Compact", "Large", "Mini", "XL", "Travel", "Deluxe", "Classic", "Limited Edition", "2-Pack", "Navy",
    "Ivory", "Charcoal", "Olive", "Sand", "Rose", "Slate", "Premium", "Essential", "Pro", "Kids'",
    "Family Size", "Gift Set", "Vintage", "Matte",
)
PRICE_FACTORS = (0.8, 1.25)
SCOPES = ("category", "max price", "category + max price")


# -- the catalog ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """One real catalog the benchmark's items come from."""

    name: str
    path: Path
    catalog: Catalog
    skipped: int


def load_sources(shared: Path, *, demo_only: bool) -> list[Source]:
    """The demo catalog and, unless ``demo_only``, the three foreign ones, ids prefixed by source."""
    loaded = [("demo", DEMO_CATALOG, load_catalog(DEMO_CATALOG))]
    if not demo_only:
        for name, file, mapping in FOREIGN:
            path = shared / file
            loaded.append((name, path, load_catalog(path, load_mapping(MAPPINGS / mapping), strict=False)))
    return [
        Source(name, path, Catalog(dataclasses.replace(p, id=f"{name}:{p.id}") for p in report.catalog),
               len(report.errors))
        for name, path, report in loaded
    ]


def variant_label(order: Sequence[int], copy: int) -> str:
    """The title prefix of a product's ``copy``-th variant (from 1), given its order of the words."""
    words = len(VARIANT_WORDS)
    first, second = (copy - 1) % words, (copy - 1) // words
    label = VARIANT_WORDS[order[first]]
    if second:
        label += " " + VARIANT_WORDS[order[(second - 1) % words]]
    return label


def expand_catalog(products: Iterable[Product], count: int, *, seed: int = 0) -> Catalog:
    """Exactly ``count`` items: the products, then seeded variants of them (a random sample when fewer).

    Variants are added in rounds, each round going through every product once in a new random order,
    so the copies are spread evenly over the sources. A variant has the id ``"<id>~<copy>"``, its title
    prefixed by :func:`variant_label`, and its price times a factor in :data:`PRICE_FACTORS`, rounded
    to cents and never below 0.01.

    Args:
        products: the real items (unique ids).
        count: items wanted, at least 1.
        seed: the same seed gives the same catalog.

    Returns:
        The catalog, the real products first in their order.

    Raises:
        ValueError: when ``count`` < 1 or there are no products.
    """
    base = list(products)
    if count < 1 or not base:
        raise ValueError(f"need at least one product and count >= 1, got {len(base)} product(s), count {count}")
    rng = random.Random(seed)
    if count <= len(base):
        return Catalog(base[i] for i in sorted(rng.sample(range(len(base)), count)))
    items = list(base)
    orders: dict[int, list[int]] = {}
    copy = 0
    while len(items) < count:
        copy += 1
        for position in rng.sample(range(len(base)), len(base)):
            if len(items) == count:
                break
            product = base[position]
            order = orders.setdefault(position, rng.sample(range(len(VARIANT_WORDS)), len(VARIANT_WORDS)))
            price = round(max(product.price * rng.uniform(*PRICE_FACTORS), 0.01), 2)
            items.append(dataclasses.replace(product, id=f"{product.id}~{copy}",
                                             title=f"{variant_label(order, copy)} {product.title}", price=price))
    return Catalog(items)


# -- the queries ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ShopperQuery:
    """One query of a suite, its accepted categories, and the needs it is asked as."""

    suite: str
    text: str
    accept: tuple[str, ...]
    needs: Needs
    scope: str


def read_suites(folder: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    """(suite, text, accepted categories) of every shopper query in ``folder/*.yml``.

    The off-topic messages (``off-topic.yml``) ask for no product, so they are no search to time.
    """
    found = []
    for path in sorted(folder.glob("*.yml")):
        if path.name == OFF_TOPIC.name:
            continue
        catalog, queries = load_queries(path)
        found += [(catalog, q.text, tuple(sorted(q.accept))) for q in queries]
    return found


def shopper_queries(suites: Sequence[tuple[str, str, tuple[str, ...]]], catalog: Catalog, *,
                    filtered: float, seed: int) -> list[ShopperQuery]:
    """The queries as needs; a seeded ``filtered`` share gets a category scope and/or a maximum price.

    The filtered ones take :data:`SCOPES` in turn; the price cap is the median price of the chosen
    category (one of the query's accepted categories that the catalog has).
    """
    rng = random.Random(seed)
    prices: dict[str, list[float]] = defaultdict(list)
    for product in catalog:
        prices[product.category].append(product.price)
    scoped = [i for i, (_, _, accept) in enumerate(suites) if any(c in prices for c in accept)]
    # on the demo variants alone (--demo-only) few foreign queries have an accepted category to scope by
    chosen = sorted(rng.sample(scoped, min(len(scoped), round(filtered * len(suites)))) if filtered > 0 else [])
    scope_of = {i: SCOPES[n % len(SCOPES)] for n, i in enumerate(chosen)}
    out = []
    for i, (suite, text, accept) in enumerate(suites):
        scope = scope_of.get(i, "none")
        needs = Needs(text=text)
        if scope != "none":
            category = rng.choice([c for c in accept if c in prices])
            cap = round(statistics.median(prices[category]), 2)
            needs = Needs(category=category if "category" in scope else None,
                          max_price=cap if "price" in scope else None, text=text)
        out.append(ShopperQuery(suite, text, accept, needs, scope))
    return out


# -- timing --------------------------------------------------------------------------------


class Laps:
    """Milliseconds of consecutive stages of one call."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self._last = time.perf_counter_ns()

    def lap(self, stage: str) -> None:
        now = time.perf_counter_ns()
        self.times[stage] = self.times.get(stage, 0.0) + (now - self._last) / 1e6
        self._last = now


def timed(call: Callable[[], object]) -> float:
    """Milliseconds one call takes."""
    started = time.perf_counter_ns()
    call()
    return (time.perf_counter_ns() - started) / 1e6


def traced_recommend(recommender: Recommender, needs: Needs, k: int = K) -> tuple[list[str], dict[str, float]]:
    """``recommender.recommend(needs, k=k)`` (no profile, nothing excluded) replayed stage by stage.

    Mirrors :meth:`Recommender.recommend` with a lap after each stage: each candidate source and each
    signal of the open ranker is a stage of its own; the caller checks that the ids agree with the real call.

    Returns:
        The recommended ids, best first, and milliseconds per stage.
    """
    retriever = recommender.retriever
    laps = Laps()
    filters = needs.filters(())
    mask = retriever.filter_table.mask(filters)
    laps.lap("filter mask")
    if int(mask.sum()) < k:
        filters, _ = recommender._relax(filters, k)
        mask = retriever.filter_table.mask(filters)
        laps.lap("relaxing (fewer than k pass)")
    text = needs.query_text()
    vector = retriever.embed_query(text)
    laps.lap("query vector (from the query cache)")
    request = Request(vector, text, mask, needs, Preferences(), (), retriever.lexical.scores(text))
    laps.lap("BM25 scoring (tokenise + score every item)")
    fetch = max(recommender.fetch, 4 * k)
    positions: list[int] = []
    for source in recommender.sources:
        positions += [p for p in source.propose(request, fetch) if p not in positions]
        laps.lap(f"source: {source.name}")
    if not positions:
        return [], laps.times
    vectors = retriever.index.reconstruct(positions)
    semantic = (vectors @ np.asarray(vector, dtype=np.float32)).astype(np.float64)
    pool = Pool(positions, [retriever.catalog[p] for p in positions], vectors, semantic)
    laps.lap("candidate vectors + dense similarity")
    contributions: dict[str, np.ndarray] = {}
    for signal in recommender.signals:
        contributions.update(signal.score(request, pool))
        laps.lap(f"signal: {type(signal).__name__}")
    scores = np.sum(list(contributions.values()), axis=0)
    order = mmr(scores, vectors, k, diversity=recommender.weights.diversity)
    laps.lap("MMR")
    for i in order:
        recommender._reason(pool.products[i], needs, {c: float(v[i]) for c, v in contributions.items() if v[i]})
    laps.lap("reasons")
    return [pool.products[i].id for i in order], laps.times


def distribution(values: Sequence[float]) -> list[str]:
    """p50, p95, p99, max and mean, formatted."""
    return [_ms(percentile(values, 50)), _ms(percentile(values, 95)), _ms(percentile(values, 99)),
            _ms(max(values)), _ms(statistics.fmean(values))]


def _ms(value: float) -> str:
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def rss_mb() -> tuple[float, float]:
    """Resident memory now (from /proc) and the peak so far (``resource.getrusage``), in MB."""
    now = float("nan")
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                now = int(line.split()[1]) / 1024
    except OSError:
        pass
    return now, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- the run -------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=10_000, help="catalog size (default 10,000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the variants and of the filtered queries")
    parser.add_argument("--repeat", type=int, default=3, help="timed passes over the queries (default 3)")
    parser.add_argument("--warmup", type=int, default=20, help="queries run untimed first (default 20)")
    parser.add_argument("--filtered", type=float, default=0.5,
                        help="share of the queries asked with a hard filter (default 0.5)")
    parser.add_argument("--markdown", type=Path, help="also write the tables as markdown here")
    parser.add_argument("--shared", type=Path, default=SHARED_CATALOGS,
                        help="folder of the foreign catalogs (default ../shared/catalogs)")
    parser.add_argument("--demo-only", action="store_true",
                        help="variants of the demo catalog only (when ../shared/catalogs is absent)")
    parser.add_argument("--cache", type=Path,
                        help="embedding cache (SQLite) to reuse vectors between runs; default: embed everything")
    parser.add_argument("--blas-threads", type=int,
                        help="limit numpy's BLAS to this many threads for the queries (threadpoolctl); default: "
                             "as the action server leaves it")
    parser.add_argument("--hashing", action="store_true",
                        help="smoke run with the hashing encoder instead of the model (figures not comparable)")
    args = parser.parse_args(argv)
    if args.items < 1 or args.repeat < 1 or args.warmup < 0 or not 0 <= args.filtered <= 1:
        parser.error("--items and --repeat must be >= 1, --warmup >= 0, --filtered within 0..1")
    return args


def blas_threads() -> str:
    """numpy's BLAS and its thread count (``SHOPKEEPER_QUERY_THREADS`` does not set it)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "numpy BLAS threads unknown"
    pools = [p for p in threadpool_info() if p.get("user_api") == "blas" and "numpy" in str(p.get("filepath"))]
    return ", ".join(f"numpy {p['internal_api']} {p['num_threads']}" for p in pools) or "numpy BLAS threads unknown"


def machine_line(build_threads: tuple[int, int], query_threads: int) -> str:
    """CPU, cores, memory, threads and library versions, on one line."""
    import faiss
    import sentence_transformers
    import torch

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{cpu_model()}, {os.cpu_count()} cores ({usable} usable), {mem_total_gb():.0f} GB RAM; threads: "
            f"faiss {build_threads[0]}, torch {build_threads[1]} for the build, {query_threads} for queries "
            f"(faiss and torch; {blas_threads()} at the start); "
            f"Python {platform.python_version()}, numpy {np.__version__}, faiss-cpu {faiss.__version__}, "
            f"torch {torch.__version__}, sentence-transformers {sentence_transformers.__version__}")


def embed_catalog(encoder: Encoder, texts: Sequence[str], cache_path: Path | None) -> tuple[np.ndarray, int]:
    """Vectors of the texts, in chunks with progress lines; and how many came from the cache."""
    chunk = 2048
    parts, reused = [], 0
    cache = EmbeddingCache(cache_path) if cache_path else None
    try:
        for start in range(0, len(texts), chunk):
            batch = texts[start:start + chunk]
            if cache is not None:
                vectors, stats = cache.embed(encoder, batch)
                reused += stats.reused
            else:
                vectors = encoder.encode(batch)
            parts.append(vectors)
            log(f"embedded {start + len(batch):,}/{len(texts):,}")
    finally:
        if cache is not None:
            cache.close()
    return np.concatenate(parts), reused


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark."""
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import faiss
    import torch

    if not args.demo_only and not args.shared.is_dir():
        sys.exit(f"{args.shared} is absent: the benchmark's catalog is built from the three foreign catalogs "
                 "there (clone ../shared beside the repository), or run with --demo-only for variants of the "
                 "demo catalog alone")
    started_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load_start = load_average()
    settings = RetrievalSettings.from_env({})
    build_threads = (faiss.omp_get_max_threads(), torch.get_num_threads())
    report = Report()
    options = " ".join(sys.argv[1:] if argv is None else argv)
    report.line(f"Command: `{' '.join(['.venv/bin/python -m benchmarks.scale', options]).strip()}`")
    report.line(f"Machine: {machine_line(build_threads, settings.query_threads)}")
    report.line(f"Code: {code_version()}")

    build = Table(f"Building the {args.items:,}-item catalog's retriever",
                  ["step", "items", "seconds", "notes"])
    catalog, made = build_catalog(args, build)
    encoder, recommender, queries = build_retriever(args, settings, catalog, build, build_threads[1])
    report.table(made)
    report.table(build)

    settings.limit_serving_threads()
    if args.blas_threads is not None:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.blas_threads, user_api="blas")
        report.line(f"Queries ran with numpy's BLAS limited to {args.blas_threads} thread(s) (--blas-threads).")
    load_queries = load_average()
    log(f"{len(queries)} queries; threads now faiss {faiss.omp_get_max_threads()}, torch {torch.get_num_threads()}")
    timings = time_queries(args, encoder, recommender, queries)
    report.table(latency_table(args, catalog, queries, timings))
    report.table(breakdown_table(recommender, queries, timings))
    report.table(target_table(catalog, timings))
    if timings.disagree:
        log(f"the replay disagreed with recommend on: {timings.disagree[:5]}")
    report.line(f"Run: started {started_at}, took {elapsed() / 60:.1f} min; load average (1/5/15 min) {load_start} "
                f"at start, {load_queries} when the timed queries began, {load_average()} at end.")
    report.write(args.markdown)
    return 0


def build_catalog(args: argparse.Namespace, build: Table) -> tuple[Catalog, Table]:
    """The benchmark's catalog: the sources' real products and their variants; its table, and rows of ``build``."""
    started = time.perf_counter()
    sources = load_sources(args.shared, demo_only=args.demo_only)
    real = sum(len(s.catalog) for s in sources)
    build.add("load the source catalogs", f"{real:,}", f"{time.perf_counter() - started:.2f}",
              "lenient import through the mappings")
    started = time.perf_counter()
    catalog = expand_catalog((p for s in sources for p in s.catalog), args.items, seed=args.seed)
    build.add("add the variants", f"{len(catalog):,}", f"{time.perf_counter() - started:.2f}", f"seed {args.seed}")
    log(f"catalog: {len(catalog):,} items from {real:,} real products")

    made = Table("The catalog", ["source", "file", "products", "rows skipped", "currency", "items with variants"])
    copies: defaultdict[str, int] = defaultdict(int)
    for product in catalog:
        copies[product.id.split(":", 1)[0]] += 1
    for source in sources:
        made.add(source.name, os.path.relpath(source.path, REPO), f"{len(source.catalog):,}", source.skipped,
                 source.catalog.currency, f"{copies[source.name]:,}")
    made.add("all", "", f"{real:,}", sum(s.skipped for s in sources), "",
             f"{len(catalog):,}")
    made.notes.append(
        "Real products first (ids prefixed by source), then variants in seeded rounds over all of them until "
        f"there are {len(catalog):,} items: a copy with a new id, its title prefixed by a size, colour or edition "
        f"word none of its other copies has ({', '.join(VARIANT_WORDS[:6])}, …; {len(VARIANT_WORDS)} in all), and "
        f"its price times U[{PRICE_FACTORS[0]}, {PRICE_FACTORS[1]}]; every embedded text is distinct. "
        f"{len(catalog.categories()):,} categories; prices mix dollars and rupees, as the sources do.")
    return catalog, made


def build_retriever(args: argparse.Namespace, settings: RetrievalSettings, catalog: Catalog, build: Table,
                    torch_threads: int) -> tuple[Encoder, Recommender, list[ShopperQuery]]:
    """Load the encoder, embed the catalog and build both indexes, each step timed as a row of ``build``.

    Returns:
        The encoder, the recommender over the new retriever, and the shopper queries to time.
    """
    encoder: Encoder = HashingEncoder() if args.hashing else settings.make_encoder()
    rss_before = rss_mb()[0]
    started = time.perf_counter()
    dimension = encoder.dimension  # loads the model
    build.add("load the encoder", "", f"{time.perf_counter() - started:.2f}",
              "hashing encoder (smoke run)" if args.hashing else f"{encoder.name}, offline")
    rss_model = rss_mb()[0]

    texts = [p.embedding_text() for p in catalog]
    started = time.perf_counter()
    vectors, reused = embed_catalog(encoder, texts, args.cache)
    seconds = time.perf_counter() - started
    computed = len(texts) - reused
    build.add("embed the items", f"{len(texts):,}", f"{seconds:.1f}",
              f"{computed:,} by the encoder ({computed / seconds:.1f} texts/s)" + (f", {reused:,} from the cache"
                                                                                    if args.cache else "")
              + f"; batches of 64, {torch_threads} torch threads")
    started = time.perf_counter()
    index = VectorIndex.build(vectors, catalog.ids, model=encoder.name, catalog_fingerprint=catalog.fingerprint(),
                              kind=settings.index_kind)
    build.add("FAISS index", f"{len(index):,}", f"{time.perf_counter() - started:.2f}",
              f"kind {index.manifest.kind}, dimension {dimension}; includes the catalog fingerprint")
    started = time.perf_counter()
    lexical = LexicalIndex.build(catalog)
    build.add("BM25 index", f"{len(lexical):,}", f"{time.perf_counter() - started:.2f}",
              "bm25s, Snowball stemmer; includes the catalog fingerprint")
    started = time.perf_counter()
    queries = shopper_queries(read_suites(QUERIES), catalog, filtered=args.filtered, seed=args.seed)
    # The query cache holds every text asked, so no timed call embeds (the default keeps 1,024).
    retriever = Retriever(catalog, index, encoder, lexical=lexical, query_cache_size=4 * len(queries) + 64)
    recommender = Recommender(retriever)
    build.add("the rest of the retriever", f"{len(catalog):,}", f"{time.perf_counter() - started:.2f}",
              "filter table (prices, categories, attributes, searchable words)")
    rss_now, rss_peak = rss_mb()
    build.notes.append(
        f"Resident memory: {rss_before:.0f} MB before the encoder, {rss_model:.0f} MB with it loaded, "
        f"{rss_now:.0f} MB after the build (peak {rss_peak:.0f} MB, resource.getrusage); the index itself "
        f"holds {len(index) * dimension * 4 / 1e6:.1f} MB of vectors.")
    return encoder, recommender, queries


Operation = tuple[list[ShopperQuery], Callable[[ShopperQuery], object]]


def operations_of(recommender: Recommender, queries: list[ShopperQuery]) -> dict[str, Operation]:
    """The operations timed, by row name: each search mode, search with the need's filters, recommend.

    Each comes with the queries it is timed on (the filtered search: only the queries with a filter).
    """
    retriever = recommender.retriever
    filtered = [q for q in queries if q.scope != "none"]

    def search_in(mode: str) -> Callable[[ShopperQuery], object]:
        return lambda q: retriever.search(q.text, k=K, mode=mode)

    operations: dict[str, Operation] = {f"search {mode}": (queries, search_in(mode)) for mode in MODES}
    operations["search hybrid, with the need's filters"] = (
        filtered, lambda q: retriever.search(q.text, q.needs.filters(), k=K))
    operations["recommend (search + rerank)"] = (queries, lambda q: recommender.recommend(q.needs, k=K))
    return operations


class Timings:
    """What the timed passes measured (milliseconds per call)."""

    def __init__(self) -> None:
        #: embedding each query's text once, uncached
        self.embedding: list[float] = []
        #: each operation's calls, by row name
        self.timings: dict[str, list[float]] = defaultdict(list)
        #: recommend's calls by the scope of the query's filter
        self.recommend_by_scope: dict[str, list[float]] = defaultdict(list)
        #: the replayed pipeline's stages, and ``"all stages"``
        self.stages: dict[str, list[float]] = defaultdict(list)
        #: queries where the replay's items differ from recommend's
        self.disagree: list[str] = []
        #: items passing each query's filters, by scope
        self.allowed: dict[str, list[int]] = defaultdict(list)


def time_queries(args: argparse.Namespace, encoder: Encoder, recommender: Recommender,
                 queries: list[ShopperQuery]) -> Timings:
    """Warm up, embed every query once (timed), then time every operation on every query, pass after pass."""
    retriever = recommender.retriever
    for query in queries[:args.warmup]:
        encoder.encode([query.text + " warm-up"])
    measured = Timings()
    for query in queries:
        measured.embedding.append(timed(functools.partial(retriever.embed_query, query.text)))
        retriever.embed_query(query.needs.query_text())  # untimed: the scoped needs' text, for recommend
    operations = operations_of(recommender, queries)
    for _name, (subset, call) in operations.items():
        for query in subset[:args.warmup]:
            call(query)
    for query in queries[:args.warmup]:
        traced_recommend(recommender, query.needs)

    for scope in ("none", *SCOPES):
        measured.allowed[scope] = [int(retriever.filter_table.mask(q.needs.filters()).sum()) for q in queries
                                   if q.scope == scope]
    for number in range(args.repeat):
        for query in queries:
            for name, (subset, call) in operations.items():
                if subset is queries or query.scope != "none":
                    spent = timed(functools.partial(call, query))
                    measured.timings[name].append(spent)
                    if name.startswith("recommend"):
                        measured.recommend_by_scope[query.scope].append(spent)
            ids, laps = traced_recommend(recommender, query.needs)
            for stage, spent in laps.items():
                measured.stages[stage].append(spent)
            measured.stages["all stages"].append(sum(laps.values()))
            if number == 0 and ids != [s.product.id for s in recommender.recommend(query.needs, k=K).items]:
                measured.disagree.append(query.text)
        log(f"pass {number + 1}/{args.repeat} done")
    return measured


def latency_table(args: argparse.Namespace, catalog: Catalog, queries: list[ShopperQuery], measured: Timings) -> Table:
    """Latency per operation (and recommend's by filter scope)."""
    filtered = [q for q in queries if q.scope != "none"]
    latency = Table(f"Latency per query at {len(catalog):,} items (ms, one call at a time, k={K})",
                    ["operation", "calls", "p50", "p95", "p99", "max", "mean"])
    latency.add("embed the query (model, not cached)", len(measured.embedding), *distribution(measured.embedding))
    by_scope = measured.recommend_by_scope
    for name, values in measured.timings.items():
        latency.add(name, len(values), *distribution(values))
        if name.startswith("recommend"):
            for scope in ("none", *SCOPES):
                if by_scope[scope]:
                    label = "no filter" if scope == "none" else scope
                    latency.add(f"… {label}", len(by_scope[scope]), *distribution(by_scope[scope]))
    suites = sorted({q.suite for q in queries})
    latency.notes.append(
        f"{len(queries)} shopper queries ({', '.join(suites)}), each as a need with its text; "
        f"{len(filtered)} ({args.filtered:.0%}) also with a hard filter, in turn a category scope (one of its "
        "accepted categories), a maximum price (that category's median price) or both. Items passing the "
        "filters, median per scope: " + ", ".join(
            f"{'no filter' if s == 'none' else s} {int(statistics.median(v)):,}"
            for s, v in measured.allowed.items() if v)
        + ".")
    latency.notes.append(
        f"{args.repeat} timed pass(es) over the queries after {args.warmup} untimed ones; the operations "
        "interleave query by query. Each query's vector is embedded first (the first row) and then comes from "
        "the retriever's query cache, so the other rows time search and ranking only.")
    return latency


def breakdown_table(recommender: Recommender, queries: list[ShopperQuery], measured: Timings) -> Table:
    """recommend's time stage by stage, from the replayed pipeline."""
    breakdown = Table("Where recommend's time goes (ms per call, the pipeline replayed stage by stage)",
                      ["stage", "calls", "p50", "p95", "p99", "max", "mean", "share of the mean"])
    stages = dict(measured.stages)
    calls = stages.pop("all stages")
    for stage, values in stages.items():
        breakdown.add(stage, len(values), *distribution(values), f"{sum(values) / sum(calls):.0%}")
    breakdown.add("the whole replayed call", len(calls), *distribution(calls), "100%")
    breakdown.notes.append(
        "traced_recommend() repeats Recommender.recommend with a clock read after each source, signal and other "
        f"stage (no profile, nothing excluded, fetch {recommender.fetch}); it returned the same items as "
        f"recommend for {len(queries) - len(measured.disagree)} of {len(queries)} queries.")
    return breakdown


def target_table(catalog: Catalog, measured: Timings) -> Table:
    """The latency target, judged at 10,000 items."""
    recommend = measured.timings["recommend (search + rerank)"]
    p95 = percentile(recommend, 95)
    targets = Table("Target", ["target", "measured", "result"])
    targets.add(f"search + rerank p95 < {TARGET_MS:g} ms at 10,000 items",
                f"recommend p95 {_ms(p95)} ms over {len(recommend):,} calls at {len(catalog):,} items "
                f"(hybrid search alone {_ms(percentile(measured.timings['search hybrid'], 95))} ms)",
                ("PASS" if p95 < TARGET_MS else "FAIL") if len(catalog) == 10_000 else "n/a (other size)")
    return targets


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Retrieval benchmark: embedding speed, index build/search/recall, rebuild speed.

Run from the repository root::

    HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.retrieval_bench                    # full run, ~20 min
    HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.retrieval_bench --quick            # smoke run, ~1-2 min
    HF_HUB_OFFLINE=1 .venv/bin/python -m benchmarks.retrieval_bench --markdown out.md  # also write markdown

Tables go to stdout, progress to stderr. What is measured:

1. Embedding throughput of the real model (all-MiniLM-L6-v2) on the demo
   catalog's embedding texts, and single-query encode latency.
2. The structure of the synthetic vectors next to the real catalog's.
3. For each size: build time, index memory, single-query search latency and
   recall@10 against exact ground truth, for ``flat``, ``ivf`` and ``hnsw``
   (``hnsw`` only up to ``--hnsw-max``), plus an IVF ``nprobe`` sweep.
4. ``sentence_transformers.util.semantic_search`` on the same vectors, and
   whether it agrees with the flat index.
5. Filtered search latency with selective ``allowed`` masks.
6. Full index build versus rebuild after a 1% catalog change, through the
   embedding cache.

Synthetic vectors. Uniform random vectors have no neighbourhood structure
(every point is about equally far from every other), which makes approximate
indexes look either useless or perfect. Instead each synthetic vector mixes two
real catalog embeddings and adds isotropic noise::

    x = normalise(a·e_i + b·e_j + n),  a ~ U[0.6, 1], b ~ U[0, 0.4], n ~ N(0, σ²/d · I)

with ``i, j`` random catalog items and ``σ = 0.35`` (the noise vector's length is
about σ). With that σ a 600-vector synthetic sample has about the real
catalog's nearest-neighbour similarities (both are printed). Queries come from
the same process with another random stream, so they are never in the index;
50 customer-like queries encoded by the real model are searched as well.

Threads. Single-query timings (search, encode) run with ``--search-threads``
FAISS/torch threads (default 1); builds, ground truth, batch searches and batch
encoding use ``--threads`` (default: the usable cores). On a small shared
machine a second OpenMP thread makes single-query flat search and encoding
slower, so the benchmark also prints both settings side by side.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import faiss
import numpy as np
import numpy.typing as npt

from benchmarks.reporting import (
    Report,
    Table,
    log,
)
from benchmarks.reporting import cpu_model as _cpu_model
from benchmarks.reporting import elapsed as seconds_since_start
from benchmarks.reporting import load_average as _load_average
from benchmarks.reporting import mem_total_gb as _mem_total_gb
from retrieval.cache import EmbeddingCache
from retrieval.catalog import Catalog, Product
from retrieval.encoder import SentenceTransformerEncoder
from retrieval.index import APPROXIMATE_THRESHOLD, EXACT_SCAN_LIMIT, VectorIndex
from retrieval.loaders import load_catalog
from retrieval.paths import PROJECT_ROOT as REPO
from retrieval.search import build_catalog_index

Matrix = npt.NDArray[np.float32]
Positions = npt.NDArray[np.int64]
T = TypeVar("T")

K = 10
DEMO_CATALOG = REPO / "data" / "catalog" / "products.jsonl"
GENERATOR = REPO / "data" / "catalog" / "generate.py"
MIX_A = (0.6, 1.0)
MIX_B = (0.0, 0.4)
DEFAULT_SIGMA = 0.35
FILTER_SHARES = (0.01, 0.10)
TIE_EPS = 1e-5

#: Short, customer-like queries: encoded for latency and searched as "real" queries.
CUSTOMER_QUERIES: tuple[str, ...] = (
    "grey sofa for a small flat",
    "comfy armchair for my reading corner",
    "waterproof jacket for hiking",
    "trail running shoes",
    "oak dining table for six",
    "desk for my home office",
    "ergonomic office chair for long workdays",
    "noise cancelling headphones for commuting",
    "backpack for travel with a laptop sleeve",
    "wool rug for the living room",
    "bedside lamp with warm light",
    "bookcase for a kids' room",
    "velvet sofa in green",
    "leather lounge chair",
    "white sneakers for everyday wear",
    "small coffee table in walnut",
    "king size bed in natural wood",
    "cheap desk lamp",
    "rain jacket for city walks",
    "gaming headphones",
    "marble coffee table",
    "jute rug for the hallway",
    "something cosy for winter weekends",
    "a present for someone who cycles to work",
    "scandinavian style bookcase",
    "navy blazer-style jacket",
    "linen sofa bed for the guest room",
    "rattan armchair for the balcony",
    "standing desk",
    "mesh office chair with lumbar support",
    "studio headphones for mixing",
    "school backpack",
    "modern floor lamp for the open-plan living room",
    "round dining table for a small kitchen",
    "bouclé accent chair",
    "black leather sneakers",
    "gym bag",
    "lightweight down jacket for travel",
    "pine bed for a small bedroom",
    "glass coffee table",
    "rug in terracotta",
    "bookcase for a home library",
    "boho rattan lamp",
    "sofa that seats the whole family for movie nights",
    "wireless earbuds for workouts",
    "canvas backpack in olive",
    "extendable table for dinner parties",
    "comfortable chair for gaming",
    "warm jacket for festivals",
    "minimalist white desk",
)


# -- output --------------------------------------------------------------------------------











def _ms(value: float) -> str:
    if value < 1:
        return f"{value:.3f}"
    if value < 100:
        return f"{value:.2f}"
    return f"{value:.1f}"


def _mb(n_bytes: float) -> str:
    return f"{n_bytes / 1e6:.1f}"


def _pct(values: npt.NDArray[np.float64], q: float) -> float:
    return float(np.percentile(values, q))


# -- machine -------------------------------------------------------------------------------






def _rss_bytes() -> int:
    """Resident set size of this process (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0




@contextmanager
def threads(count: int) -> Iterator[None]:
    """Run a block with ``count`` FAISS (OpenMP) and torch threads."""
    import torch

    before = faiss.omp_get_max_threads(), torch.get_num_threads()
    faiss.omp_set_num_threads(count)
    torch.set_num_threads(count)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before[0])
        torch.set_num_threads(before[1])


def machine_line(opts: Options) -> str:
    """CPU, cores, memory, thread settings and library versions, on one line."""
    import sentence_transformers
    import torch

    cores = os.cpu_count() or 0
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    simd = ""
    config = getattr(faiss, "SIMDConfig", None)
    if config is not None and hasattr(config, "get_level_name"):
        simd = f" ({config.get_level_name()})"
    return (
        f"{_cpu_model()}, {cores} cores ({usable} usable), {_mem_total_gb():.0f} GB RAM; "
        f"threads: {opts.threads} (faiss {faiss.omp_get_max_threads()}, torch {torch.get_num_threads()}) for "
        f"builds, batch work and encoding, {opts.search_threads} for single-query search timings; "
        f"Python {platform.python_version()}, numpy {np.__version__}, faiss-cpu {faiss.__version__}{simd}, "
        f"torch {torch.__version__}, sentence-transformers {sentence_transformers.__version__}"
    )


# -- vectors, ground truth, recall ---------------------------------------------------------


def synthesize(
    catalog_vectors: Matrix, count: int, rng: np.random.Generator, sigma: float, chunk: int = 100_000
) -> Matrix:
    """``count`` unit vectors shaped like real embeddings (see the module docstring).

    Args:
        catalog_vectors: real embeddings ``(n, d)``, unit rows.
        count: vectors wanted.
        rng: random stream.
        sigma: length of the isotropic noise added to each mix.
        chunk: rows generated at a time (bounds temporary memory).
    """
    items, dim = catalog_vectors.shape
    out = np.empty((count, dim), dtype=np.float32)
    for start in range(0, count, chunk):
        m = min(chunk, count - start)
        i = rng.integers(0, items, m)
        j = rng.integers(0, items, m)
        a = rng.uniform(*MIX_A, size=(m, 1)).astype(np.float32)
        b = rng.uniform(*MIX_B, size=(m, 1)).astype(np.float32)
        x = a * catalog_vectors[i] + b * catalog_vectors[j]
        x += rng.standard_normal((m, dim), dtype=np.float32) * np.float32(sigma / np.sqrt(dim))
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        out[start : start + m] = x
    return out


def exact_top_k(vectors: Matrix, queries: Matrix, k: int = K, chunk: int = 64) -> tuple[Positions, Matrix]:
    """Brute-force top ``k`` by inner product (numpy matmul, query chunks), best first.

    Ties are broken by position, like ``tests/test_index.py``'s oracle.
    """
    positions = np.empty((len(queries), k), dtype=np.int64)
    scores = np.empty((len(queries), k), dtype=np.float32)
    for start in range(0, len(queries), chunk):
        block = queries[start : start + chunk] @ vectors.T
        part = np.argpartition(-block, k - 1, axis=1)[:, :k]
        part_scores = np.take_along_axis(block, part, axis=1)
        order = np.lexsort((part, -part_scores), axis=1)
        positions[start : start + len(block)] = np.take_along_axis(part, order, axis=1)
        scores[start : start + len(block)] = np.take_along_axis(part_scores, order, axis=1)
    return positions, scores


def recall_at_k(found: Sequence[Sequence[int]], truth: Positions) -> float:
    """Share of the true top-k that was found."""
    hits = sum(len(set(f) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return hits / truth.size


def agreement(
    found: Sequence[Sequence[int]], truth: Positions, truth_scores: Matrix, vectors: Matrix, queries: Matrix
) -> tuple[float, float]:
    """Recall against exact results, plainly and modulo ties.

    Returns:
        ``(recall, tie_aware)``; ``tie_aware`` also counts a found item that
        is not in the truth but scores within :data:`TIE_EPS` of the k-th true
        score (equal-score items may come back in either order).
    """
    plain = recall_at_k(found, truth)
    hits = 0
    for f, t, ts, q in zip(found, truth, truth_scores, queries, strict=True):
        expected = set(t.tolist())
        for p in f:
            if p in expected or float(vectors[p] @ q) >= float(ts[-1]) - TIE_EPS:
                hits += 1
    return plain, hits / truth.size


def neighbour_stats(vectors: Matrix) -> tuple[float, float, float]:
    """Mean top-1 and top-10 cosine to other members of the set, and the median pair cosine."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    top = -np.sort(-np.partition(sims, sims.shape[1] - K, axis=1)[:, -K:], axis=1)
    upper = sims[np.triu_indices(min(len(vectors), 2000), 1)]  # the pairs among the first 2,000 suffice
    return float(top[:, 0].mean()), float(top[:, K - 1].mean()), float(np.median(upper))


def time_calls(fn: Callable[[int], T], count: int, warmup: int) -> tuple[npt.NDArray[np.float64], list[T]]:
    """Call ``fn(n)`` for n in range(count), one at a time, after ``warmup`` untimed calls.

    Returns:
        Milliseconds per call and the results.
    """
    for n in range(min(warmup, count)):
        fn(n)
    gc.collect()
    times = np.empty(count, dtype=np.float64)
    results: list[T] = []
    for n in range(count):
        started = time.perf_counter()
        result = fn(n)
        times[n] = time.perf_counter() - started
        results.append(result)
    return times * 1000.0, results


# -- benchmark parts -----------------------------------------------------------------------


@dataclass
class Options:
    """Parsed command-line options."""

    sizes: list[int]
    queries: int
    latency_queries: int
    encode_queries: int
    warmup: int
    hnsw_max: int
    sweep_sizes: list[int]
    filter_sizes: list[int]
    cos_sim_max: int
    threads_max: int
    rebuild_count: int
    sigma: float
    seed: int
    threads: int
    search_threads: int
    encode_runs: int
    rebuild_runs: int
    markdown: Path | None
    quick: bool
    command: str


@dataclass
class IndexRun:
    """Figures for one index at one size."""

    size: int
    kind: str
    params: str
    build_s: float
    serialized: int
    rss_delta: int
    p50: float
    p95: float
    recall: float
    recall_real: float


@dataclass
class Results:
    """Figures the targets are judged on."""

    runs: list[IndexRun] = field(default_factory=list)
    #: size -> (nprobe, recall@10, recall@10 real queries, p50 ms, p95 ms)
    sweep: dict[int, list[tuple[int, float, float, float, float]]] = field(default_factory=dict)
    full_build_s: float | None = None
    rebuild_s: float | None = None
    rebuild_products: int = 0

    def run(self, size: int, kind: str) -> IndexRun | None:
        """The run of ``kind`` at ``size``, if measured."""
        return next((r for r in self.runs if r.size == size and r.kind == kind), None)


def auto_kind(size: int) -> str:
    """What ``VectorIndex.build(kind="auto")`` picks for ``size`` vectors."""
    return "ivf" if size > APPROXIMATE_THRESHOLD else "flat"


def bench_embedding(
    encoder: SentenceTransformerEncoder, catalog: Catalog, opts: Options, report: Report
) -> tuple[Matrix, Matrix]:
    """Table 1: model load, batch throughput and single-query latency.

    Returns:
        The catalog's embeddings and the customer queries' embeddings.
    """
    texts = [p.embedding_text() for p in catalog]
    log("loading the embedding model")
    started = time.perf_counter()
    model = encoder.model
    load_s = time.perf_counter() - started
    encoder.encode(texts[:16])  # warm-up
    batch_runs: list[float] = []
    for run in range(opts.encode_runs):
        log(f"encoding {len(texts)} catalog texts (run {run + 1} of {opts.encode_runs})")
        started = time.perf_counter()
        catalog_vectors = encoder.encode(texts)
        batch_runs.append(time.perf_counter() - started)
    batch_s = min(batch_runs)
    tokens = [len(ids) for ids in model.tokenizer(texts, truncation=True, max_length=model.max_seq_length)["input_ids"]]
    queries = CUSTOMER_QUERIES
    single: dict[int, npt.NDArray[np.float64]] = {}
    for count in dict.fromkeys((opts.search_threads, opts.threads)):
        log(f"single-query encode latency ({opts.encode_queries} calls, {count} torch thread(s))")
        with threads(count):
            single[count], _ = time_calls(
                lambda n: encoder.encode([queries[n % len(queries)]]), opts.encode_queries, 10
            )
    query_vectors = encoder.encode(list(queries))

    table = Table("Embedding: all-MiniLM-L6-v2 on CPU", ["measure", "value"])
    table.add("model load (s)", f"{load_s:.1f}")
    table.add("catalog texts embedded (batch run)", len(texts))
    table.add("mean text length (characters / tokens)",
              f"{np.mean([len(t) for t in texts]):.0f} / {np.mean(tokens):.0f}")
    table.add("batch size", encoder.batch_size)
    table.add(f"batch run time (s), {len(batch_runs)} run(s)", " / ".join(f"{b:.1f}" for b in batch_runs))
    table.add("throughput, best run (texts/s)", f"{len(texts) / batch_s:.1f}")
    table.add("throughput, slowest run (texts/s)", f"{len(texts) / max(batch_runs):.1f}")
    for count, times in single.items():
        table.add(f"single-query encode p50 / p95 (ms), {count} torch thread(s)",
                  f"{_ms(_pct(times, 50))} / {_ms(_pct(times, 95))}")
    table.notes.append(
        f"Catalog: {DEMO_CATALOG.relative_to(REPO)} (`Product.embedding_text()`); single queries are "
        f"{len(queries)} short customer-like strings (mean {np.mean([len(q) for q in queries]):.0f} characters), "
        f"encoded one at a time ({opts.encode_queries} calls after 10 warm-up calls); batch runs use "
        f"{opts.threads} torch thread(s)."
    )
    report.table(table)
    return catalog_vectors, query_vectors


def bench_structure(
    catalog_vectors: Matrix,
    real_queries: Matrix,
    sample: Matrix,
    first: Matrix,
    per_size: list[tuple[int, Matrix, Matrix]],
    opts: Options,
    report: Report,
) -> None:
    """Table 2: nearest-neighbour similarities, real against synthetic."""
    table = Table(
        "Synthetic vectors against real embeddings",
        ["set", "vectors", "searched by", "mean top-1 cos", "mean top-10 cos", "median pair cos"],
    )
    top1, top10, median = neighbour_stats(catalog_vectors)
    table.add("real catalog", f"{len(catalog_vectors):,}", "its own items", f"{top1:.3f}", f"{top10:.3f}",
              f"{median:.3f}")
    top1, top10, median = neighbour_stats(sample)
    table.add("synthetic sample", f"{len(sample):,}", "its own items", f"{top1:.3f}", f"{top10:.3f}",
              f"{median:.3f}")
    top1, top10, median = neighbour_stats(first)
    table.add("synthetic index", f"{len(first):,}", "its own items", f"{top1:.3f}", f"{top10:.3f}",
              f"{median:.3f}")
    _, scores = exact_top_k(catalog_vectors, real_queries)
    table.add("real catalog", f"{len(catalog_vectors):,}", f"{len(real_queries)} real queries",
              f"{scores[:, 0].mean():.3f}", f"{scores[:, -1].mean():.3f}", "—")
    for size, syn_scores, real_scores in per_size:
        table.add("synthetic index", f"{size:,}", f"{len(syn_scores):,} held-out synthetic queries",
                  f"{syn_scores[:, 0].mean():.3f}", f"{syn_scores[:, -1].mean():.3f}", "—")
        table.add("synthetic index", f"{size:,}", f"{len(real_scores)} real queries",
                  f"{real_scores[:, 0].mean():.3f}", f"{real_scores[:, -1].mean():.3f}", "—")
    table.notes.append(
        f"Synthetic vector = normalise(a·e_i + b·e_j + n) with e_i, e_j random real catalog embeddings, "
        f"a ~ U[{MIX_A[0]}, {MIX_A[1]}], b ~ U[{MIX_B[0]}, {MIX_B[1]}], n ~ N(0, σ²/d·I), σ = {opts.sigma}, "
        f"d = {catalog_vectors.shape[1]}; seed {opts.seed}. The synthetic sample has the real catalog's size, "
        "so its similarities compare directly; neighbours get closer as the index grows."
    )
    report.table(table)


def _positions(results: Sequence[Sequence[Any]]) -> list[list[int]]:
    return [[h.position for h in hits] for hits in results]


def bench_size(
    size: int,
    vectors: Matrix,
    ids: list[str],
    queries: Matrix,
    real_queries: Matrix,
    truth: tuple[Positions, Matrix],
    real_truth: tuple[Positions, Matrix],
    opts: Options,
    results: Results,
    tables: dict[str, Table],
) -> None:
    """Build each index kind at one size and measure it."""
    lat_n = min(opts.latency_queries, len(queries))
    kinds = ["flat", "ivf"] + (["hnsw"] if size <= opts.hnsw_max else [])
    masks, filter_truth = filter_masks(size, vectors, queries[:lat_n], opts)
    for kind in kinds:
        index, build_s, rss_delta = timed_build(vectors, ids, kind)
        serialized = int(faiss.serialize_index(index.faiss_index).nbytes)
        params = ", ".join(f"{k}={v}" for k, v in index.manifest.params.items()) or "—"
        log(f"{size:,}: {kind} built in {build_s:.1f}s; recall and latency")
        recall = recall_at_k(_positions(index.search(queries, K)), truth[0])
        recall_real = recall_at_k(_positions(index.search(real_queries, K)), real_truth[0])

        def search(n: int, ix: VectorIndex = index) -> list[list[Any]]:
            return ix.search(queries[n], K)

        with threads(opts.search_threads):
            times, _ = time_calls(search, lat_n, opts.warmup)
        if size <= opts.threads_max and opts.threads != opts.search_threads:
            with threads(opts.threads):
                more, _ = time_calls(search, lat_n, opts.warmup)
            tables["threads"].add(
                f"{size:,}", kind, f"{_ms(_pct(times, 50))} / {_ms(_pct(times, 95))}",
                f"{_ms(_pct(more, 50))} / {_ms(_pct(more, 95))}",
            )
        run = IndexRun(size, kind, params, build_s, serialized, rss_delta,
                       _pct(times, 50), _pct(times, 95), recall, recall_real)
        results.runs.append(run)
        tables["index"].add(
            f"{size:,}", kind + (" (auto)" if auto_kind(size) == kind else ""), params, f"{build_s:.2f}",
            _mb(serialized), _mb(rss_delta), _ms(run.p50), _ms(run.p95), f"{recall:.4f}", f"{recall_real:.4f}",
        )
        if kind == "ivf" and size in opts.sweep_sizes:
            bench_sweep(size, index, queries, real_queries, truth, real_truth, lat_n, opts, results, tables["sweep"])
        for share, mask in masks.items():
            bench_filtered(size, kind, index, queries, mask, share, filter_truth[share], lat_n, opts, tables["filter"])
        if kind == "flat":
            bench_semantic_search(size, vectors, queries, index, run, truth, lat_n, opts, tables["st"])
        del index


def filter_masks(size: int, vectors: Matrix, queries: Matrix,
                 opts: Options) -> tuple[dict[float, npt.NDArray[np.bool_]], dict[float, Positions]]:
    """For a size with the filtered-search check: a random allowed mask per share, and the exact top k within it.

    Args:
        size: how many vectors.
        vectors: the vectors, ``(size, dim)``.
        queries: the queries timed, ``(n, dim)``.
        opts: the options (``filter_sizes``, ``seed``).

    Returns:
        ``{share: mask}`` and ``{share: ground-truth positions}``; both empty for other sizes.
    """
    masks: dict[float, npt.NDArray[np.bool_]] = {}
    filter_truth: dict[float, Positions] = {}
    if size in opts.filter_sizes:
        rng = np.random.default_rng(opts.seed + size)
        for share in FILTER_SHARES:
            mask = np.zeros(size, dtype=bool)
            mask[rng.choice(size, max(K, round(size * share)), replace=False)] = True
            allowed = np.flatnonzero(mask)
            masks[share] = mask
            filter_truth[share] = allowed[exact_top_k(vectors[allowed], queries)[0]]
    return masks, filter_truth


def timed_build(vectors: Matrix, ids: list[str], kind: str) -> tuple[VectorIndex, float, int]:
    """Build one index kind: the index, the seconds it took and the growth of resident memory (bytes)."""
    gc.collect()
    log(f"{len(ids):,}: building {kind}")
    rss_before = _rss_bytes()
    started = time.perf_counter()
    index = VectorIndex.build(vectors, ids, model="synthetic", kind=kind)
    build_s = time.perf_counter() - started
    gc.collect()
    return index, build_s, _rss_bytes() - rss_before


def bench_filtered(size: int, kind: str, index: VectorIndex, queries: Matrix, mask: npt.NDArray[np.bool_],
                   share: float, truth: Positions, lat_n: int, opts: Options, table: Table) -> None:
    """Time and check single-query search restricted to an allowed mask; one row of the filter table."""
    log(f"{size:,}: {kind} filtered search, {share:.0%} allowed")
    allowed_n = int(mask.sum())
    exact = allowed_n <= index.exact_scan_limit or (kind == "flat" and allowed_n < size // 8)

    def filtered(n: int, ix: VectorIndex = index, m: npt.NDArray[np.bool_] = mask) -> list[list[Any]]:
        return ix.search(queries[n], K, allowed=m)

    with threads(opts.search_threads):
        ftimes, found = time_calls(filtered, lat_n, opts.warmup)
    frecall = recall_at_k([[h.position for h in hits[0]] for hits in found], truth)
    table.add(
        f"{size:,}", kind, f"{share:.0%} ({allowed_n:,})",
        "exact scan of allowed" if exact else "FAISS ID selector",
        _ms(_pct(ftimes, 50)), _ms(_pct(ftimes, 95)), f"{frecall:.4f}",
    )


def bench_sweep(
    size: int,
    index: VectorIndex,
    queries: Matrix,
    real_queries: Matrix,
    truth: tuple[Positions, Matrix],
    real_truth: tuple[Positions, Matrix],
    lat_n: int,
    opts: Options,
    results: Results,
    table: Table,
) -> None:
    """IVF nprobe sweep: recall@10 and latency per nprobe."""
    nlist = int(index.manifest.params["nlist"])
    default = int(index.manifest.params["nprobe"])
    probes = sorted({p for p in (4, 8, 16, 32, 64, 128, 256, 512) if p <= nlist} | {default})
    if nlist <= 1024 and nlist not in probes:
        probes.append(nlist)  # every list: what the 8-bit codes alone allow
    rows: list[tuple[int, float, float, float, float]] = []
    for nprobe in probes:
        log(f"{size:,}: ivf nprobe={nprobe}")
        index.set_search_effort(nprobe=nprobe)
        recall = recall_at_k(_positions(index.search(queries, K)), truth[0])
        recall_real = recall_at_k(_positions(index.search(real_queries, K)), real_truth[0])
        with threads(opts.search_threads):
            times, _ = time_calls(lambda n: index.search(queries[n], K), lat_n, opts.warmup)
        rows.append((nprobe, recall, recall_real, _pct(times, 50), _pct(times, 95)))
        label = " (all lists)" if nprobe == nlist else ""
        label = " (default)" + label if nprobe == default else label
        table.add(
            f"{size:,}", nlist, f"{nprobe}{label}",
            f"{recall:.4f}", f"{recall_real:.4f}", _ms(_pct(times, 50)), _ms(_pct(times, 95)),
        )
    index.set_search_effort(nprobe=default)
    results.sweep[size] = rows


def bench_semantic_search(
    size: int,
    vectors: Matrix,
    queries: Matrix,
    flat: VectorIndex,
    flat_run: IndexRun,
    truth: tuple[Positions, Matrix],
    lat_n: int,
    opts: Options,
    table: Table,
) -> None:
    """sentence-transformers' brute-force search on the same vectors, against the flat index."""
    import torch
    from sentence_transformers import util

    log(f"{size:,}: semantic_search")
    corpus = torch.from_numpy(vectors)
    query_tensor = torch.from_numpy(queries)

    def one(n: int, score: Callable[..., Any] = util.dot_score) -> list[list[dict[str, Any]]]:
        return util.semantic_search(query_tensor[n : n + 1], corpus, top_k=K, score_function=score)

    with threads(opts.search_threads):
        times, _ = time_calls(one, lat_n, opts.warmup)
    cos_cell = "—"
    if size <= opts.cos_sim_max:
        with threads(opts.search_threads):
            cos_times, _ = time_calls(lambda n: one(n, util.cos_sim), lat_n, opts.warmup)
        cos_cell = f"{_ms(_pct(cos_times, 50))} / {_ms(_pct(cos_times, 95))}"
    batch = util.semantic_search(query_tensor, corpus, top_k=K, score_function=util.dot_score)
    st_found = [[int(h["corpus_id"]) for h in hits] for hits in batch]
    flat_hits = flat.search(queries, K)
    flat_found = _positions(flat_hits)
    same_lists = sum(a == b for a, b in zip(st_found, flat_found, strict=True)) / len(queries)
    flat_pos = np.asarray(flat_found, dtype=np.int64)
    flat_scores = np.asarray([[h.score for h in hits] for hits in flat_hits], dtype=np.float32)
    plain, tie_aware = agreement(st_found, flat_pos, flat_scores, vectors, queries)
    truth_plain, truth_tie = agreement(st_found, truth[0], truth[1], vectors, queries)
    table.add(
        f"{size:,}",
        f"{_ms(flat_run.p50)} / {_ms(flat_run.p95)}",
        f"{_ms(_pct(times, 50))} / {_ms(_pct(times, 95))}",
        cos_cell,
        f"{plain:.4f} / {tie_aware:.4f}",
        f"{same_lists:.1%}",
        f"{truth_plain:.4f} / {truth_tie:.4f}",
    )


def bench_rebuild(encoder: SentenceTransformerEncoder, workdir: Path, opts: Options, results: Results,
                  report: Report) -> None:
    """Full catalog build with an empty cache, then rebuilds after 1% edits (median of several)."""
    catalog = load_catalog(workdir / "products.jsonl").catalog
    index_dir = workdir / "index"
    cache = EmbeddingCache(workdir / "embeddings.sqlite")
    table = Table(
        f"Rebuild: {len(catalog):,}-product demo catalog, real model, embedding cache",
        ["step", "embedded by the model", "reused from cache", "index", "seconds"],
    )
    rebuilds: list[float] = []
    try:
        log(f"rebuild: full build of {len(catalog):,} products")
        full = build_catalog_index(catalog, encoder, index_dir, cache=cache)
        table.add("full build (empty cache)", full.computed, full.reused, full.index.manifest.kind,
                  f"{full.seconds:.2f}")
        same = build_catalog_index(catalog, encoder, index_dir, cache=cache)
        table.add("nothing changed (saved index matches)", same.computed, same.reused,
                  "loaded" if same.skipped else same.index.manifest.kind, f"{same.seconds:.3f}")
        rng = np.random.default_rng(opts.seed + 5)
        products: list[Product] = list(catalog)
        edits = max(1, len(catalog) // 100)
        for run in range(opts.rebuild_runs):
            for position in rng.choice(len(catalog), edits, replace=False):
                product = products[position]
                products[position] = dataclasses.replace(
                    product, description=f"{product.description} Revision {run + 1}: now with a recycled-fibre finish."
                )
            log(f"rebuild: {edits} products edited, rebuilding (run {run + 1} of {opts.rebuild_runs})")
            rebuilt = build_catalog_index(Catalog(products), encoder, index_dir, cache=cache)
            rebuilds.append(rebuilt.seconds)
            table.add(f"rebuild after editing {edits} descriptions ({edits / len(catalog):.0%}), run {run + 1}",
                      rebuilt.computed, rebuilt.reused, rebuilt.index.manifest.kind, f"{rebuilt.seconds:.2f}")
    finally:
        cache.close()
    median = float(np.median(rebuilds))
    results.full_build_s, results.rebuild_s, results.rebuild_products = full.seconds, median, len(catalog)
    table.notes.append(
        f"Speed-up of the rebuild (median of {len(rebuilds)} runs, {median:.2f} s) over the full build: "
        f"{full.seconds / median:.1f}×. Each run edits another random 1% of the products. Times are "
        "`build_catalog_index` (fingerprint, embed through the SQLite cache, build, save) with the model "
        f"already loaded; the full build embeds {full.computed / full.seconds:.1f} texts/s overall. Catalog from "
        f"`data/catalog/generate.py --count {len(catalog)}`."
    )
    report.table(table)


def targets(results: Results, opts: Options, report: Report) -> None:
    """The performance targets, pass or fail."""
    table = Table("Targets", ["target", "measured", "result"])

    def verdict(ok: bool | None) -> str:
        return "not measured" if ok is None else ("PASS" if ok else "FAIL")

    at_100k = results.run(100_000, auto_kind(100_000))
    table.add(
        "search p95 ≤ 2 ms at 100k (index auto picks)",
        f"{at_100k.kind}: p95 {_ms(at_100k.p95)} ms" if at_100k else "—",
        verdict(at_100k.p95 <= 2.0 if at_100k else None),
    )
    at_1m = results.run(1_000_000, auto_kind(1_000_000))
    table.add(
        "search p95 ≤ 5 ms at 1M with recall@10 ≥ 0.95 (auto, default nprobe)",
        f"{at_1m.kind}: p95 {_ms(at_1m.p95)} ms, recall@10 {at_1m.recall:.4f}" if at_1m else "—",
        verdict(at_1m.p95 <= 5.0 and at_1m.recall >= 0.95 if at_1m else None),
    )
    if at_1m and 1_000_000 in results.sweep:
        passing = [r for r in results.sweep[1_000_000] if r[1] >= 0.95 and r[2] >= 0.95 and r[4] <= 5.0]
        best = (f"nprobe {passing[0][0]}: recall@10 {passing[0][1]:.4f} (real q {passing[0][2]:.4f}), "
                f"p95 {_ms(passing[0][4])} ms" if passing else "no nprobe in the sweep meets it")
        table.add("… same target, smallest nprobe in the sweep meeting it for synthetic and real queries",
                  best, verdict(bool(passing)))
    speedup = (results.full_build_s / results.rebuild_s
               if results.full_build_s is not None and results.rebuild_s else None)
    rebuild_verdict = verdict(speedup >= 20 if speedup else None)
    if speedup and results.rebuild_products < 5000:
        rebuild_verdict = f"{rebuild_verdict} (indicative: {results.rebuild_products:,} products, target is for 5,000)"
    table.add(
        "rebuild after a 1% change ≥ 20× faster than a full build",
        f"{results.full_build_s:.1f} s → {results.rebuild_s:.2f} s = {speedup:.1f}×" if speedup else "—",
        rebuild_verdict,
    )
    ivf_1m = results.run(1_000_000, "ivf")
    table.add(
        "approximate index memory at 1M ≤ 0.5 GB (serialized size)",
        f"ivf: {_mb(ivf_1m.serialized)} MB serialized, RSS +{_mb(ivf_1m.rss_delta)} MB" if ivf_1m else "—",
        verdict(ivf_1m.serialized <= 0.5e9 if ivf_1m else None),
    )
    report.table(table)


# -- main ----------------------------------------------------------------------------------


def _size(text: str) -> int:
    part = text.strip().lower().replace("_", "")
    scale = {"k": 1_000, "m": 1_000_000}.get(part[-1:], 1)
    try:
        value = int(float(part[:-1] if scale > 1 else part) * scale)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"sizes cannot be negative: {text!r}")
    return value


def _sizes(text: str) -> list[int]:
    out = [_size(part) for part in text.split(",") if part.strip()]
    if not out or min(out) < 1000:
        raise argparse.ArgumentTypeError(f"sizes must be ≥ 1000, got {text!r}")
    return sorted(set(out))


def build_parser(threads_default: int) -> argparse.ArgumentParser:
    """The command line (``threads_default``: the usable cores, the default of ``--threads``)."""
    parser = argparse.ArgumentParser(
        description="Retrieval benchmark: embedding throughput, index build/search/recall "
        "(flat, IVF, HNSW, semantic_search) on structured synthetic vectors, filtered search, "
        "and rebuild speed with the embedding cache. Tables on stdout, progress on stderr.",
    )
    parser.add_argument("--sizes", type=_sizes, default=_sizes("10000,100000,1000000"),
                        help="index sizes, comma-separated; k/M suffixes allowed (default: 10000,100000,1000000)")
    parser.add_argument("--queries", type=int, default=1000,
                        help="held-out synthetic queries for recall (default: 1000)")
    parser.add_argument("--latency-queries", type=int, default=500,
                        help="queries timed one at a time per measurement (default: 500)")
    parser.add_argument("--encode-queries", type=int, default=200,
                        help="single-query encode calls timed (default: 200)")
    parser.add_argument("--warmup", type=int, default=50, help="untimed calls before each timing (default: 50)")
    parser.add_argument("--hnsw-max", type=_size, default=1_000_000,
                        help="largest size at which HNSW is built; 0 skips HNSW (default: 1000000)")
    parser.add_argument("--sweep-sizes", type=_sizes, default=_sizes("100000,1000000"),
                        help="sizes with an IVF nprobe sweep (default: 100000,1000000)")
    parser.add_argument("--filter-sizes", type=_sizes, default=_sizes("100000"),
                        help="sizes with the filtered-search check (default: 100000)")
    parser.add_argument("--cos-sim-max", type=_size, default=100_000,
                        help="largest size at which semantic_search is also timed with its default "
                        "cos_sim (default: 100000)")
    parser.add_argument("--rebuild-count", type=int, default=5000,
                        help="products in the generated catalog for the rebuild test; 0 skips it (default: 5000)")
    parser.add_argument("--sigma", type=float, default=DEFAULT_SIGMA,
                        help=f"noise length of the synthetic vectors (default: {DEFAULT_SIGMA})")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("--threads", type=int, default=threads_default,
                        help="FAISS/torch threads for builds, batch searches and encoding "
                        f"(default: the usable cores, {threads_default})")
    parser.add_argument("--search-threads", type=int, default=1,
                        help="FAISS/torch threads while timing single-query searches (default: 1)")
    parser.add_argument("--threads-max", type=_size, default=100_000,
                        help="largest size at which single-query search is also timed with --threads "
                        "threads (default: 100000)")
    parser.add_argument("--encode-runs", type=int, default=2,
                        help="batch runs over the catalog texts; the best counts (default: 2)")
    parser.add_argument("--rebuild-runs", type=int, default=3,
                        help="rebuilds after a 1%% edit; the median counts (default: 3)")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the tables as markdown to FILE")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 10k vectors, few queries, 500-product rebuild (~1-2 min)")
    return parser


def parse_args(argv: Sequence[str] | None = None) -> Options:
    """Command-line options; ``--quick`` overrides the sizes and counts for a smoke run."""
    threads_default = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    parser = build_parser(threads_default)
    args = parser.parse_args(argv)
    opts = Options(
        sizes=args.sizes, queries=args.queries, latency_queries=args.latency_queries,
        encode_queries=args.encode_queries, warmup=args.warmup, hnsw_max=args.hnsw_max,
        sweep_sizes=args.sweep_sizes, filter_sizes=args.filter_sizes, cos_sim_max=args.cos_sim_max,
        rebuild_count=args.rebuild_count, sigma=args.sigma, seed=args.seed, threads=max(1, args.threads),
        search_threads=max(1, args.search_threads), threads_max=args.threads_max,
        encode_runs=max(1, args.encode_runs), rebuild_runs=max(1, args.rebuild_runs),
        markdown=args.markdown, quick=args.quick,
        command=" ".join([".venv/bin/python -m benchmarks.retrieval_bench",
                          *(argv if argv is not None else sys.argv[1:])]),
    )
    if args.quick:
        opts.sizes, opts.sweep_sizes, opts.filter_sizes = [10_000], [10_000], [10_000]
        opts.queries, opts.latency_queries, opts.encode_queries, opts.warmup = 200, 100, 30, 10
        opts.rebuild_count, opts.encode_runs, opts.rebuild_runs = min(opts.rebuild_count, 500), 1, 2
    if opts.queries < 1 or opts.latency_queries < 1:
        parser.error("--queries and --latency-queries must be positive")
    return opts


def main(argv: Sequence[str] | None = None) -> int:
    """Run every part and print the tables."""
    opts = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import torch

    faiss.omp_set_num_threads(opts.threads)
    torch.set_num_threads(opts.threads)
    report = Report()
    report.line(f"Command: `{opts.command}`")
    report.line(f"Machine: {machine_line(opts)}")
    load_start = _load_average()
    started_at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = Results()

    with tempfile.TemporaryDirectory(prefix="shopkeeper-bench-") as tmp:
        workdir = Path(tmp)
        if opts.rebuild_count > 0:  # before the model runs: forking after tokenizers ran warns
            log(f"generating a {opts.rebuild_count:,}-product demo catalog in {workdir}")
            subprocess.run(
                [sys.executable, str(GENERATOR), "--count", str(opts.rebuild_count), "--out", str(workdir)],
                check=True, capture_output=True,
            )

        encoder = SentenceTransformerEncoder()
        catalog = load_catalog(DEMO_CATALOG).catalog
        catalog_vectors, real_queries = bench_embedding(encoder, catalog, opts, report)
        bench_indexes(catalog_vectors, real_queries, opts, results, report)

        if opts.rebuild_count > 0:
            bench_rebuild(encoder, workdir, opts, results, report)

    targets(results, opts, report)
    elapsed = seconds_since_start()
    report.line(
        f"Run: started {started_at}, took {elapsed / 60:.1f} min; load average (1/5/15 min) "
        f"{load_start} at start, {_load_average()} at end."
    )
    report.write(opts.markdown)
    return 0


def bench_indexes(catalog_vectors: Matrix, real_queries: Matrix, opts: Options, results: Results,
                  report: Report) -> None:
    """Every index kind at every size on synthetic vectors shaped like the catalog's; their tables.

    Args:
        catalog_vectors: the demo catalog's embeddings, which the synthetic vectors imitate.
        real_queries: customer queries encoded by the model.
        opts: the options.
        results: where each run's figures are kept for the targets.
        report: where the tables go.
    """
    largest = max(opts.sizes)
    log(f"generating {largest:,} synthetic vectors (σ = {opts.sigma})")
    streams = np.random.SeedSequence(opts.seed).spawn(3)
    base = synthesize(catalog_vectors, largest, np.random.default_rng(streams[0]), opts.sigma)
    queries = synthesize(catalog_vectors, opts.queries, np.random.default_rng(streams[1]), opts.sigma)
    sample = synthesize(catalog_vectors, len(catalog_vectors), np.random.default_rng(streams[2]), opts.sigma)
    all_ids = [f"v{i}" for i in range(largest)]

    tables = index_tables(opts)
    per_size: list[tuple[int, Matrix, Matrix]] = []
    for size in opts.sizes:
        vectors = base[:size]
        log(f"{size:,}: exact ground truth (numpy matmul)")
        truth = exact_top_k(vectors, queries)
        real_truth = exact_top_k(vectors, real_queries)
        per_size.append((size, truth[1], real_truth[1]))
        bench_size(size, vectors, all_ids[:size], queries, real_queries, truth, real_truth, opts, results,
                   tables)
        gc.collect()

    first = base[: min(10_000, largest)]
    bench_structure(catalog_vectors, real_queries, sample, first, per_size, opts, report)
    add_notes(tables, opts)
    for key in ("index", "sweep", "threads", "st", "filter"):
        if tables[key].rows:
            report.table(tables[key])


def index_tables(opts: Options) -> dict[str, Table]:
    """The empty tables the index measurements fill, by key: index, sweep, st, threads, filter."""
    return {
        "index": Table(
            "Index build, memory, single-query search and recall",
            ["vectors", "index", "params", "build s", "serialized MB", "RSS Δ MB",
             "p50 ms", "p95 ms", "recall@10", "recall@10 real q"],
        ),
        "sweep": Table(
            "IVF nprobe sweep",
            ["vectors", "nlist", "nprobe", "recall@10", "recall@10 real q", "p50 ms", "p95 ms"],
        ),
        "st": Table(
            "sentence_transformers.util.semantic_search against the flat index",
            ["vectors", "flat p50 / p95 ms", "semantic_search dot_score p50 / p95 ms",
             "semantic_search cos_sim p50 / p95 ms", "recall vs flat (plain / tie-aware)",
             "identical top-10 lists", "recall vs numpy truth (plain / tie-aware)"],
        ),
        "threads": Table(
            "Single-query search latency by thread count",
            ["vectors", "index", f"{opts.search_threads} thread(s): p50 / p95 ms",
             f"{opts.threads} threads: p50 / p95 ms"],
        ),
        "filter": Table(
            "Filtered search (allowed mask), one query at a time, k=10",
            ["vectors", "index", "allowed", "path", "p50 ms", "p95 ms", "recall@10"],
        ),
    }


def add_notes(tables: dict[str, Table], opts: Options) -> None:
    """The notes under each index table: what was measured and how."""
    lat_n = min(opts.latency_queries, opts.queries)
    tables["index"].notes += [
        f"`VectorIndex.build` with the repository defaults (auto switches to ivf above "
        f"{APPROXIMATE_THRESHOLD:,} vectors). Latency: `VectorIndex.search(q, k={K})` one query at a "
        f"time, {lat_n} queries after {opts.warmup} warm-up calls, {opts.search_threads} FAISS thread(s).",
        f"recall@10 against exact numpy ground truth: {opts.queries:,} held-out synthetic queries; "
        f"'real q' = {len(CUSTOMER_QUERIES)} customer queries encoded by the model.",
        "serialized MB = len(faiss.serialize_index(index)); RSS Δ MB = process resident memory after "
        "the build minus before it (includes the id list copy and allocator slack).",
    ]
    if max(opts.sizes) > opts.hnsw_max:
        tables["index"].notes.append(
            f"hnsw is not built above {opts.hnsw_max:,} vectors (--hnsw-max)."
        )
    tables["sweep"].notes.append(
        f"Same queries and ground truth as above; p50/p95 over {lat_n} single-query searches per nprobe. "
        "'all lists' scans every inverted list, so what it still misses is lost to the 8-bit scalar "
        "quantisation (SQ8), not to nprobe."
    )
    tables["st"].notes += [
        "semantic_search gets the same float32 vectors as torch tensors (CPU), top_k=10, one query per "
        f"call, {opts.search_threads} torch thread(s); dot_score equals cosine here because every vector "
        "has unit length, while the default cos_sim re-normalises the corpus on every call.",
        "Recall vs flat counts an item as agreeing when its score is within 1e-5 of the 10th flat score "
        "(tie-aware); both sides are exact searches, so any difference comes from float summation order.",
    ]
    tables["filter"].notes.append(
        "Allowed items chosen at random; recall against exact search over the allowed items only. "
        f"Sets of at most {EXACT_SCAN_LIMIT:,} allowed items (and flat with < 1/8 "
        "allowed) are scanned exactly; larger ones go through a FAISS ID selector."
    )
    tables["threads"].notes.append(
        "Same searches as the index table, timed once with each FAISS/OpenMP thread count. The figures "
        "elsewhere use the first column's setting."
    )

if __name__ == "__main__":
    sys.exit(main())

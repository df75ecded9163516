#!/usr/bin/env python3
"""all-MiniLM-L6-v2 on torch (sentence-transformers) against the exported ONNX file on ONNX Runtime.

Run from the repository root (``make setup`` exports the ONNX file)::

    .venv/bin/python -m benchmarks.encoders                  # about two minutes
    .venv/bin/python -m benchmarks.encoders --markdown out.md

What is measured:

* one short shopper message at a time (the query of a turn): p50/p95 over ``--repeats`` calls,
  after a warm-up, cycling over messages written as shoppers type them; each runtime on one
  thread, and ONNX Runtime with the thread count a serving process gives it
  (``SHOPKEEPER_ENCODER_THREADS``), on a quiet machine and again with every core kept busy;
* agreement: the cosine between the two runtimes' vectors of every message (the serving
  contract: ≥ 0.999);
* the demo catalog's embedding texts in batches of 64, with both cores (what an index build
  does), to say which runtime builds the index.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from benchmarks.reporting import Report, Table, code_version, cpu_model, log, percentile, timed
from retrieval.catalog import Catalog
from retrieval.encoder import OnnxEncoder, SentenceTransformerEncoder
from retrieval.loaders import load_catalog
from retrieval.settings import PROJECT_ROOT, RetrievalSettings

#: Typed as shoppers type: short, misspelt, with prices and emoji.
MESSAGES = (
    "i need a grey corner sofa under 600", "sofaa", "something for a two-year-old under $20",
    "a present for my 8 year old nephew who loves dinosaurs", "none of these", "cheaper pls", "not leather",
    "the 2nd one 👎", "actually, a lamp instead", "desk for my home office", "wooden chiar", "show me more",
)


def _cycling(encode: Callable[[Sequence[str]], np.ndarray]) -> Callable[[], object]:
    """A call that embeds the next message of :data:`MESSAGES` each time."""
    turn = iter(range(10**9))
    return lambda: encode([MESSAGES[next(turn) % len(MESSAGES)]])


@contextmanager
def busy_cores(count: int) -> Iterator[None]:
    """``count`` processes spinning on the CPU for the duration (what a loaded server shares the cores with)."""
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        time.sleep(0.5)
        yield
    finally:
        for hog in hogs:
            hog.kill()
            hog.wait()


def single_message(encoders: Mapping[str, Callable[[Sequence[str]], np.ndarray]], repeats: int) -> Table:
    """One message per call, cycling over :data:`MESSAGES`."""
    table = Table("One shopper message at a time", ["runtime", "calls", "p50 ms", "p95 ms"])
    for name, encode in encoders.items():
        times = timed(_cycling(encode), repeats, warmup=5)
        table.add(name, len(times), f"{percentile(times, 50):.2f}", f"{percentile(times, 95):.2f}")
    return table


def batch(texts: Sequence[str], encoders: dict[str, Callable[[Sequence[str]], np.ndarray]]) -> Table:
    """The catalog's texts once through each runtime."""
    table = Table(f"The demo catalog's {len(texts)} embedding texts in batches of 64 (two threads)",
                  ["runtime", "seconds", "texts/s"])
    for name, encode in encoders.items():
        encode(list(texts[:64]))  # warm-up
        started = time.perf_counter()
        encode(list(texts))
        seconds = time.perf_counter() - started
        table.add(name, f"{seconds:.1f}", f"{len(texts) / seconds:.0f}")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """Print the three tables (and write them as markdown with ``--markdown``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=300, help="timed single-message calls per runtime")
    parser.add_argument("--batch-texts", type=int, default=1000, help="catalog texts embedded in the batch test")
    parser.add_argument("--markdown", type=Path, help="also write the tables as markdown here")
    args = parser.parse_args(argv)
    import torch

    settings = RetrievalSettings.from_env()
    report = Report()
    report.line("Command: `.venv/bin/python -m benchmarks.encoders`")
    report.line(f"Machine: {cpu_model()}; torch {torch.__version__}; Code: {code_version()}")
    torch_encoder = SentenceTransformerEncoder(batch_size=64)
    torch.set_num_threads(1)
    onnx_one = OnnxEncoder(settings.onnx_path, threads=1)
    onnx_serving = OnnxEncoder(settings.onnx_path, threads=settings.encoder_threads)
    runtimes = {"sentence-transformers on torch (one thread)": torch_encoder.encode,
                "ONNX Runtime (build/minilm-onnx), one thread": onnx_one.encode,
                f"ONNX Runtime, {settings.encoder_threads} threads (SHOPKEEPER_ENCODER_THREADS)": onnx_serving.encode}
    log("one message at a time")
    report.table(single_message(runtimes, args.repeats))
    log("one message at a time, both cores busy")
    with busy_cores(os.cpu_count() or 2):
        loaded = single_message({k: v for k, v in runtimes.items() if "ONNX" in k}, args.repeats)
    loaded.title = f"The same with {os.cpu_count() or 2} other processes keeping every core busy"
    report.table(loaded)
    agreement = Table("Agreement on the shopper messages", ["messages", "min cosine", "mean cosine"])
    cosines = (torch_encoder.encode(list(MESSAGES)) * onnx_one.encode(list(MESSAGES))).sum(axis=1)
    agreement.add(len(MESSAGES), f"{cosines.min():.6f}", f"{cosines.mean():.6f}")
    report.table(agreement)
    catalog: Catalog = load_catalog(PROJECT_ROOT / "data" / "catalog" / "products.jsonl").catalog
    texts = [p.embedding_text() for p in catalog][: args.batch_texts]
    torch.set_num_threads(2)
    log(f"{len(texts)} catalog texts in batches")
    report.table(batch(texts, {"sentence-transformers on torch": torch_encoder.encode,
                               "ONNX Runtime (build/minilm-onnx)": OnnxEncoder(settings.onnx_path, threads=2,
                                                                                batch_size=64).encode}))
    report.write(args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

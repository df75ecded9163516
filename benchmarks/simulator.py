#!/usr/bin/env python3
"""Simulated customers against the running assistant, beside two baselines without dialogue.

Run from the repository root (the demo index and model must exist: ``make index model``; the
Flipkart sample's are built by ``make catalog``/``shopkeeper catalog use``, see README)::

    .venv/bin/python -m benchmarks.simulator                          # both catalogs, 40 customers each
    .venv/bin/python -m benchmarks.simulator --catalogs demo --customers 10
    .venv/bin/python -m benchmarks.simulator --markdown /tmp/sim.md --transcripts /tmp/sim.jsonl

Tables go to stdout, progress to stderr. The protocol (``evaluation/simulation.py`` has the
customer's rules):

1. Targets: ``--customers`` in-stock products drawn with ``--seed`` from the categories holding at
   least ``--min-category`` items (a one-item "category" — a product name in a bare Flipkart
   category tree — cannot be asked for vaguely).
2. **Ours**: the Rasa server and the action server run on the catalog (``evaluation.stack.running_stack``)
   and each customer converses over Rasa's REST channel: a vague opening, answers to the needs
   questions (which one is asked is read from the ``pending`` question of the tracker's
   ``shop_state`` slot over Rasa's HTTP API, or else from the reply's buttons and words), then
   critiques, until a card is close enough to the target or ``--max-turns`` messages were sent.
   Turn N is the customer's N-th message and the reply to it.
3. **Popularity**: the catalog ranked by rating × log2(2 + number of ratings) within the category
   the opening names (as our vocabulary reads it; the whole catalog when it names none), shown three
   per turn. **Semantic one-shot**: the opening message embedded and searched once (same model and
   index as ours, no filters but stock), shown three per turn. Both get the same targets and openings.
4. Protocols (``--protocol``): **lenient**, a card close enough to the target is a hit; **exact**, only
   the target itself, the customer opening from its category and title words (EAR, CRM, UNICORN).
5. Measures: SR@5/10/15 (a hit shown within that many turns), how often the target
   itself was shown, average turns (failures count as the maximum), rank of the first hit among all
   cards shown, questions asked, intra-list diversity (mean pairwise 1 − cos of each shown list's
   embeddings), catalog coverage (share of the catalog ever shown), novelty (mean −log2 p(i) of shown
   items, p from rating counts).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import evaluation.stack
from actions import texts
from benchmarks.reporting import Report, Table, code_version, cpu_model, load_average, log, mem_total_gb
from evaluation.simulation import (
    CARDS_PER_TURN,
    Conversation,
    RunMeasures,
    SimulatedCustomer,
    baseline_conversation,
    popularity_ranking,
    tracker_question,
)
from evaluation.stack import MODEL, Stack, running_stack, say
from retrieval.catalog import Catalog, Product
from retrieval.loaders import load_catalog
from retrieval.paths import PROJECT_ROOT as REPO
from retrieval.search import Retriever
from retrieval.settings import RetrievalSettings
from retrieval.vocabulary import CatalogVocabulary

CUTOFFS = (5, 10, 15)
#: The protocols a run may use (``--protocol``).
PROTOCOLS = {"lenient": ("lenient",), "exact": ("exact",), "both": ("lenient", "exact")}
QUESTION_TEXTS = {
    "category": texts.ASK_CATEGORY,
    "budget": texts.ASK_BUDGET.split("{", 1)[0],
    **texts.ASK_ATTRIBUTE,
}


@dataclass(frozen=True)
class CatalogRun:
    """One catalog to run on: its files, as ``shopkeeper catalog use`` leaves them."""

    name: str
    catalog: Path
    index_dir: Path
    model: Path


def catalog_runs(args: argparse.Namespace) -> list[CatalogRun]:
    """The catalogs named by ``--catalogs``."""
    runs = []
    for name in args.catalogs.split(","):
        if name == "demo":
            runs.append(CatalogRun("demo", REPO / "data/catalog/products.jsonl", REPO / "build/index", MODEL))
        else:
            home = REPO / "build" / "catalogs" / ("flipkart-sample" if name == "flipkart" else name)
            runs.append(CatalogRun(name, home / "products.jsonl", home / "index", home / "models/shopkeeper.tar.gz"))
    for run in runs:
        missing = [p for p in (run.catalog, run.index_dir, run.model) if not p.exists()]
        if missing:
            sys.exit(f"{run.name}: missing {', '.join(map(str, missing))} — build it first (see the module docstring)")
    return runs


def draw_targets(catalog: Catalog, count: int, seed: int, min_category: int) -> list[Product]:
    """``count`` in-stock products from categories with at least ``min_category`` items."""
    sizes = Counter(p.category for p in catalog)
    pool = [p for p in catalog if p.in_stock and sizes[p.category] >= min_category]
    return random.Random(seed).sample(pool, min(count, len(pool)))


def pending_question(stack: Stack, sender: str) -> str | None:
    """The needs question the assistant is asking, from the tracker (``slots.shop_state.pending``).

    ``None`` when no needs question is pending (nothing, ``"relax:budget"``, ``"consent"``…) or
    the tracker cannot be read; the customer then works the question out from the reply.
    """
    path = f"/conversations/{sender}/tracker"
    url = stack.api(path) if hasattr(stack, "api") else f"{stack.rasa_url}{path}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            tracker = json.loads(response.read())
    except (OSError, ValueError):
        return None
    return tracker_question(tracker)


def converse(stack: Stack, customer: SimulatedCustomer, sender: str) -> Conversation:
    """Run one simulated customer against the assistant."""
    text: str | None = customer.first_message()
    while text is not None:
        reply = say(stack.rasa_url, sender, text)
        has_cards = any("custom" in m for m in reply)
        text = customer.next_message(reply, None if has_cards else pending_question(stack, sender))
    return customer.conversation


def run_catalog(run: CatalogRun, args: argparse.Namespace, report: Report, transcripts: list[dict[str, Any]]) -> None:
    """Simulate on one catalog and print its table."""
    catalog = load_catalog(run.catalog, strict=False).catalog
    settings = RetrievalSettings.from_env({})
    encoder = settings.make_encoder()
    retriever = Retriever.load(catalog, encoder, run.index_dir)
    vocabulary = CatalogVocabulary(catalog)
    targets = draw_targets(catalog, args.customers, args.seed, args.min_category)
    log(f"{run.name}: {len(targets)} targets from {len(catalog)} products")

    def vector_of(ids: Sequence[str]) -> Any:
        return retriever.index.reconstruct([catalog.position(i) for i in ids])

    started = time.perf_counter()
    env = {"SHOPKEEPER_CATALOG": str(run.catalog), "SHOPKEEPER_CATALOG_MAPPING": "",
           "SHOPKEEPER_INDEX_DIR": str(run.index_dir)}
    results: dict[str, dict[str, list[Conversation]]] = {}
    with tempfile.TemporaryDirectory(prefix=f"sim-{run.name}-") as work, \
            running_stack(Path(work), extra_env=env, model=run.model) as stack:
        log(f"{run.name}: servers up after {time.perf_counter() - started:.0f}s")
        for protocol in PROTOCOLS[args.protocol]:
            results[protocol] = simulate_protocol(stack, run, args, protocol, targets, catalog, vocabulary, retriever,
                                                  transcripts)
    minutes = (time.perf_counter() - started) / 60
    report.table(results_table(run, args, len(targets), catalog, results, vector_of, minutes))


def simulate_protocol(stack: Stack, run: CatalogRun, args: argparse.Namespace, protocol: str,
                      targets: Sequence[Product], catalog: Catalog, vocabulary: CatalogVocabulary, retriever: Retriever,
                      transcripts: list[dict[str, Any]]) -> dict[str, list[Conversation]]:
    """One protocol (lenient or exact): every simulated customer with us and with the two baselines.

    Returns:
        The conversations of each system, by the system's name in the table; ours are also added to
        ``transcripts``.
    """
    pages = args.max_turns * CARDS_PER_TURN
    exact = protocol == "exact"
    customers = [SimulatedCustomer(t, catalog, seed=args.seed * 100_000 + i, max_turns=args.max_turns,
                                   question_texts=QUESTION_TEXTS, exact=exact)
                 for i, t in enumerate(targets)]
    popular = [baseline_conversation(
        c.target, c.conversation.opening,
        popularity_ranking(catalog, vocabulary.match("category", c.conversation.opening)),
        catalog, max_turns=args.max_turns, exact=exact) for c in customers]
    semantic = [baseline_conversation(
        c.target, c.conversation.opening,
        [m.product.id for m in retriever.search(c.conversation.opening, k=pages)],
        catalog, max_turns=args.max_turns, exact=exact) for c in customers]
    ours: list[Conversation] = []
    for number, customer in enumerate(customers, start=1):
        conversation = converse(stack, customer, f"sim-{run.name}-{protocol}-{args.seed}-{number}")
        ours.append(conversation)
        outcome = f"hit at turn {conversation.success_turn}" if conversation.success_turn else "no hit"
        log(f"{run.name} {protocol} {number}/{len(customers)}: {conversation.turns} turns, {outcome}")
        transcripts.append({"catalog": run.name, "protocol": protocol, "target": conversation.target.id,
                            "target_title": conversation.target.title,
                            "success_turn": conversation.success_turn,
                            "transcript": conversation.transcript})
    return {"Shopkeeper (ours, over REST)": ours, "popularity in stated category": popular,
            "semantic search (hybrid), one shot": semantic}


def results_table(run: CatalogRun, args: argparse.Namespace, customers: int, catalog: Catalog,
                  results: dict[str, dict[str, list[Conversation]]], vector_of: Any, minutes: float) -> Table:
    """One catalog's table: each system's measures under each protocol."""
    table = Table(
        f"{run.name}: {customers} simulated customers, at most {args.max_turns} turns, seed {args.seed}",
        ["protocol", "system", *(f"SR@{c}" for c in CUTOFFS), "target itself", "avg turns",
         "first hit rank (mean / median)", "questions", "ILD", "coverage", "novelty (bits)"],
    )
    for protocol, systems in results.items():
        for name, conversations in systems.items():
            m = RunMeasures.of(conversations, catalog, cutoffs=CUTOFFS, max_turns=args.max_turns,
                               vector_of=vector_of)
            table.add(protocol, name, *(f"{m.success_at[c]:.2f}" for c in CUTOFFS), f"{m.exact_at_max:.2f}",
                      f"{m.average_turns:.1f}", f"{m.mean_first_rank:.1f} / {m.median_first_rank:.0f}",
                      f"{m.questions:.1f}", f"{m.diversity:.3f}", f"{m.coverage:.3f}", f"{m.novelty:.2f}")
    table.notes.append("lenient: a card close enough to the target (same category, colour and material, price "
                       "within ×1.3) is a hit; exact: only the target itself (EAR/CRM/UNICORN protocol).")
    table.notes.append(f"Catalog {run.catalog.relative_to(REPO)} ({len(catalog)} products); our conversations took "
                       f"{minutes:.1f} min over REST.")
    return table


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--catalogs", default="demo,flipkart",
                        help="comma-separated: demo, flipkart (build/catalogs/flipkart-sample) or a build name")
    parser.add_argument("--customers", type=int, default=40, help="simulated customers per catalog (default 40)")
    parser.add_argument("--max-turns", type=int, default=15, help="customer messages before giving up (default 15)")
    parser.add_argument("--seed", type=int, default=7, help="target draw and customer wording (default 7)")
    parser.add_argument("--min-category", type=int, default=5, help="targets only from categories this big")
    parser.add_argument("--protocol", choices=sorted(PROTOCOLS), default="both",
                        help="lenient (a close-enough card), exact (the target itself) or both (default)")
    parser.add_argument("--startup-seconds", type=int, default=900, help="wait this long for each server")
    parser.add_argument("--markdown", type=Path, help="also write the tables as markdown here")
    parser.add_argument("--transcripts", type=Path, help="write every conversation as JSON lines here")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # Loading the Rasa model takes minutes when the machine is busy; waiting longer costs nothing.
    evaluation.stack.STARTUP_SECONDS = max(evaluation.stack.STARTUP_SECONDS, args.startup_seconds)
    runs = catalog_runs(args)
    report = Report()
    options = " ".join(sys.argv[1:] if argv is None else argv)
    report.line(f"Command: `{' '.join(['.venv/bin/python -m benchmarks.simulator', options]).strip()}`")
    report.line(f"Machine: {cpu_model()}, {os.cpu_count()} cores, {mem_total_gb():.0f} GB RAM; {code_version()}")
    report.line(f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {load_average()} at start")
    transcripts: list[dict[str, Any]] = []
    for run in runs:
        run_catalog(run, args, report, transcripts)
    if args.transcripts:
        args.transcripts.write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in transcripts))
    report.write(args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())

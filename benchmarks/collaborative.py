#!/usr/bin/env python3
"""Collaborative benchmark: which item-to-item model predicts a real shop's next purchase best?

Run from the repository root (``../shared`` beside the repository)::

    .venv/bin/python -m benchmarks.collaborative                   # make bench-collaborative
    .venv/bin/python -m benchmarks.collaborative --markdown out.md

On ``../shared/interactions/online-retail`` (a UK gift shop's orders, 2,950 customers, 3,144 items; its
README gives the protocol): per customer, the last item by time that they had not bought before is the
target; what the shop knew before it is the history, in two protocols — the rest of the target's order
included ("in the basket"), or only the orders before it ("next visit"). Each model ranks every item the
customer does not have; HitRate@10 and NDCG@10 are averaged over customers. A fixed fifth of the customers
(every fifth by id) is held out for the final figure; the regularisation is chosen on the other four
fifths. Customers with a history of two items are reported apart: the cold end of the shop.

Models, all trained on every customer's history (never a target): popularity (customers per item),
item-item co-occurrence (cosine), EASE at the chosen regularisation, content only (MiniLM on the titles,
the project's encoder), and — where installed — implicit's alternating least squares.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import functools
import itertools
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from benchmarks.reporting import Report, Table, code_version, cpu_model, load_average, log
from retrieval.collaborative import DEFAULT_L2, cooccurrence, ease, matrix_of, popularity, scores
from retrieval.paths import PROJECT_ROOT as REPO

DATA = REPO.parent / "shared" / "interactions" / "online-retail"
K = 10
PROTOCOLS = ("in the basket", "next visit")
#: EASE's regularisations tried on the dev customers.
L2_GRID = (10.0, 25.0, 50.0, 100.0, 200.0, 400.0, 800.0)
#: The blend's weights of content and popularity beside EASE, tried on the dev customers.
CONTENT_GRID = (0.0, 0.1, 0.2, 0.4)
POPULARITY_GRID = (0.0, 0.1, 0.2)
#: Every this-many-th customer (by id) is held out for the final figure.
HOLD_OUT_EVERY = 5


@dataclass(frozen=True)
class Row:
    """One item of one order."""

    customer: str
    item: str
    order: str
    time: str


@dataclass(frozen=True)
class Case:
    """One customer's target and what the shop knew before it."""

    customer: str
    target: int
    history: tuple[int, ...]
    held_out: bool


def read_rows(path: Path) -> list[Row]:
    """The purchase log, in time order (then order, then file order)."""
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [Row(r["customer_id"], r["item_id"], r["order_id"], r["timestamp"]) for r in csv.DictReader(handle)]
    return sorted(rows, key=lambda r: (r.time, r.order))


def cases_of(rows: Sequence[Row], items: Mapping[str, int], protocol: str) -> list[Case]:
    """Each customer's last new item by time, and their history under the protocol."""
    by_customer: dict[str, list[Row]] = {}
    for row in rows:
        by_customer.setdefault(row.customer, []).append(row)
    ordered = sorted(by_customer, key=lambda c: (len(c), c))
    held = {c for n, c in enumerate(ordered) if n % HOLD_OUT_EVERY == 0}
    cases = []
    for customer, own in by_customer.items():
        first_seen: dict[str, int] = {}
        for n, row in enumerate(own):
            first_seen.setdefault(row.item, n)
        target_at = max(first_seen.values())  # the last row that brought a new item
        target = own[target_at]
        if protocol == "in the basket":
            known = [r.item for n, r in enumerate(own)
                     if n != target_at and (r.time, r.order) <= (target.time, target.order)]
        else:
            known = [r.item for r in own if (r.time, r.order) < (target.time, target.order)]
        history = tuple(dict.fromkeys(items[i] for i in known if i != target.item))
        if history:
            cases.append(Case(customer, items[target.item], history, customer in held))
    return cases


def hit_and_ndcg(ranked: np.ndarray, target: int) -> tuple[float, float]:
    """HitRate and NDCG of one top-K list for one target."""
    where = np.flatnonzero(ranked[:K] == target)
    if not len(where):
        return 0.0, 0.0
    return 1.0, 1.0 / float(np.log2(where[0] + 2))


def evaluate(score: Callable[[Case], np.ndarray], cases: Sequence[Case]) -> tuple[float, float]:
    """Mean HitRate@K and NDCG@K of a scorer over cases, the customer's own items left out."""
    hits, gains = [], []
    for case in cases:
        values = score(case).astype(np.float64, copy=True)
        values[list(case.history)] = -np.inf
        top = np.argpartition(-values, K)[:K]
        ranked = top[np.argsort(-values[top], kind="stable")]
        hit, gain = hit_and_ndcg(ranked, case.target)
        hits.append(hit)
        gains.append(gain)
    return (float(np.mean(hits)), float(np.mean(gains))) if cases else (0.0, 0.0)


def content_weights(titles: Sequence[str]) -> np.ndarray:
    """Item-item cosine of the titles embedded with the project's encoder (content only: no customer data)."""
    from retrieval.settings import RetrievalSettings

    settings = RetrievalSettings.from_env({})
    settings.limit_serving_threads()
    vectors = np.asarray(settings.make_query_encoder().encode([t.lower() for t in titles]), dtype=np.float32)
    weights = vectors @ vectors.T
    np.fill_diagonal(weights, 0.0)
    return weights


def als_scorer(matrix: sparse.csr_matrix, rows: Mapping[str, int]) -> Callable[[Case], np.ndarray] | None:
    """implicit's alternating least squares on the same matrix, or ``None`` where implicit is not installed."""
    try:
        from implicit.cpu.als import AlternatingLeastSquares
    except ImportError:
        return None
    model = AlternatingLeastSquares(factors=64, regularization=0.05, iterations=15, random_state=7)
    model.fit(matrix, show_progress=False)
    users, items = np.asarray(model.user_factors), np.asarray(model.item_factors)
    return lambda case: items @ users[rows[case.customer]]


def training_matrix(cases: Sequence[Case], items: int) -> tuple[sparse.csr_matrix, dict[str, int]]:
    """Every customer's history (never a target) as the customers × items 0/1 matrix, and each one's row."""
    rows = {c.customer: n for n, c in enumerate(cases)}
    pairs = [(n, i) for n, c in enumerate(cases) for i in c.history]
    return matrix_of(pairs, customers=len(cases), items=items), rows


def _standard(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - float(values.mean())) / spread if spread > 0 else values * 0.0


def blend(weights: np.ndarray, content: np.ndarray, counts: np.ndarray, dev: Sequence[Case]
          ) -> tuple[Callable[[Case], np.ndarray], str]:
    """EASE with the content and popularity signals beside it, each standardised per customer; weights on ``dev``."""
    popular = _standard(np.log1p(counts))

    def scorer(a: float, b: float) -> Callable[[Case], np.ndarray]:
        return lambda c: (_standard(scores(weights, c.history)) + a * _standard(scores(content, c.history))
                          + b * popular)

    tried = {(a, b): evaluate(scorer(a, b), dev)[1] for a in CONTENT_GRID for b in POPULARITY_GRID}
    a, b = max(tried, key=lambda k: tried[k])
    log(f"blend: content {a:g}, popularity {b:g} (dev NDCG@{K} {tried[(a, b)]:.3f})")
    return scorer(a, b), f"blend: EASE + content {a:g} + popularity {b:g}"


def _history_scores(weights: np.ndarray, case: Case) -> np.ndarray:
    return scores(weights, case.history)


def choose_l2(matrix: sparse.csr_matrix, dev: Sequence[Case]) -> tuple[float, list[tuple[float, float, float]]]:
    """EASE's regularisation with the best NDCG@K on the dev customers, and every one tried."""
    tried = []
    for l2 in L2_GRID:
        hit, ndcg = evaluate(functools.partial(_history_scores, ease(matrix, l2)), dev)
        tried.append((l2, hit, ndcg))
        log(f"EASE l2={l2:g}: dev HR@{K} {hit:.3f} NDCG@{K} {ndcg:.3f}")
    return max(tried, key=lambda t: t[2])[0], tried


def models(matrix: sparse.csr_matrix, rows: Mapping[str, int], dev: Sequence[Case], content: np.ndarray
           ) -> dict[str, Callable[[Case], np.ndarray]]:
    """The scorers compared, trained on one protocol's histories; regularisation and blend chosen on ``dev``."""
    counts = popularity(matrix)
    together = cooccurrence(matrix)
    l2, _ = choose_l2(matrix, dev)
    weights = ease(matrix, l2)
    def popular(_: Case) -> np.ndarray:
        return counts

    scorers: dict[str, Callable[[Case], np.ndarray]] = {
        "popularity": popular,
        "co-occurrence (cosine)": lambda c: scores(together, c.history),
        f"EASE (l2 {l2:g})": lambda c: scores(weights, c.history),
        "content only (MiniLM titles)": lambda c: scores(content, c.history),
    }
    als = als_scorer(matrix, rows)
    if als is not None:
        scorers["implicit ALS (64 factors)"] = als
    mixed, name = blend(weights, content, counts, dev)
    scorers[name] = mixed
    return scorers


def _ordered_with(rows: Sequence[Row]) -> Callable[[str, str], set[tuple[str, str]]]:
    """The orders, as ``(customer, order)``, holding both of two items: counted from the order lines themselves."""
    orders: dict[str, set[tuple[str, str]]] = {}
    for row in rows:
        orders.setdefault(row.item, set()).add((row.customer, row.order))
    return lambda a, b: orders.get(a, set()) & orders.get(b, set())


def complements_table(data: Path, rows: Sequence[Row], items: Mapping[str, int]) -> Table:
    """"What goes with it?" as the conversation answers it, for every customer's target order.

    The model is built as ``shopkeeper interactions build`` builds it, from every customer's history in the
    basket (never a target); the reference is another item of the target's order; the answer is the
    conversation's three complement cards (``CatalogShop.bought_with``: at least five customers behind each,
    other kinds first). Reported for the dev and the held-out customers: how often there is an answer, how
    often it holds an item another customer bought in one order with the reference (from the order lines, not
    the model), how often another item this customer bought in that order, and how often the target.
    """
    from actions.catalog_shop import CatalogShop
    from actions.conversation import Need
    from retrieval.collaborative import CollaborativeModel
    from retrieval.encoder import HashingEncoder
    from retrieval.loaders import load_catalog
    from retrieval.mapping import load_mapping
    from retrieval.recommender import Recommender
    from retrieval.search import Retriever
    from retrieval.vocabulary import CatalogVocabulary

    catalog = load_catalog(data / "catalog.csv", load_mapping(REPO / "data/catalog/mappings/online-retail.toml"),
                           strict=False).catalog
    cases = cases_of(rows, items, "in the basket")
    ids = list(items)
    model = CollaborativeModel.build(catalog, [(c.customer, ids[i]) for c in cases for i in c.history])
    shop = CatalogShop(Recommender(Retriever.build(catalog, HashingEncoder(64))), CatalogVocabulary(catalog),
                       collaborative=model)
    orders: dict[str, dict[str, set[str]]] = {}
    for row in rows:
        orders.setdefault(row.customer, {}).setdefault(row.order, set()).add(row.item)
    table = Table("\"what goes with it?\" in the conversation (reference: another item of the target's order)",
                  ["customers", "answers asked", "with cards (≥ 5 customers behind each)",
                   "holding an item another customer bought in one order with it", "holding an item of the "
                   "reference's order", "holding the target"])
    ordered_with = _ordered_with(rows)
    for name, part in (("dev", [c for c in cases if not c.held_out]), ("held out", [c for c in cases if c.held_out])):
        asked = answered = co_bought = mates_hit = hits = 0
        for case in part:
            target = ids[case.target]
            order = next(its for its in orders[case.customer].values() if target in its)
            mates = sorted(i for i in order if i != target and items[i] in case.history)
            if not mates:
                continue
            asked += 1
            cards = {s.product.id for s in shop.bought_with(mates[0], Need(), [mates[0]], k=3)}
            answered += bool(cards)
            theirs = {(case.customer, o) for o in orders[case.customer]}
            co_bought += any(ordered_with(mates[0], card) - theirs for card in cards)
            mates_hit += bool(cards & (order - {mates[0]}))
            hits += target in cards
        table.add(name, f"{asked:,}", *(f"{n:,} ({n / max(asked, 1):.2f})"
                                        for n in (answered, co_bought, mates_hit, hits)))
    return table


def _model_scores(model: Any, ids: Sequence[str], case: Case) -> np.ndarray:
    return np.asarray(model.scores(ids[i] for i in case.history))


#: Neighbours kept per item (``retrieval.collaborative.NEIGHBOURS``) tried on the dev customers.
KEEP_GRID = (25, 50, 100, 200)


def kept_neighbours(data: Path, cases: Sequence[Case], items: Mapping[str, int], dev: Sequence[Case],
                    protocol: str, table: Table) -> None:
    """The saved model's own scores (its ``keep`` strongest neighbours per item) on the dev customers, per ``keep``."""
    ids = list(items)
    for keep in KEEP_GRID:
        model = served_model(data, cases, items, keep=keep)
        size = sum(a.nbytes for a in (model.neighbours, model.weights, model.together)) / 1e6
        hit, ndcg = evaluate(functools.partial(_model_scores, model, ids), dev)
        table.add(protocol, str(keep), f"{hit:.3f} / {ndcg:.3f}", f"{size:.1f}")
        log(f"{protocol}: {keep} neighbours kept: dev HR@{K} {hit:.3f} NDCG@{K} {ndcg:.3f}, {size:.1f} MB")


#: RankingWeights.together_alone and .popularity tried on the dev customers for the project's own ranker.
TOGETHER_GRID = (2.0, 10.0, 50.0)
POPULARITY_GRID = (0.0, 0.1, 0.5)


def own_ranker(data: Path, model: Any, items: Mapping[str, int], weights: tuple[float, float]
               ) -> Callable[[Case], np.ndarray]:
    """The conversation's own ranking (``CatalogShop.recommend``) for a customer whose history is their likes.

    No need stated: the customer's items are the liked items of the conversation, so the list is the
    search's content ranking with the profile of those items and what other customers took with them
    (``weights``: ``RankingWeights.together_alone``, since nothing is asked but the likes, and
    ``RankingWeights.popularity``). ``model`` is the collaborative model (:func:`served_model`); its counts
    are the popularity the services give the recommender; the index embeds the titles with the project's
    encoder.
    """
    from actions.catalog_shop import CatalogShop
    from actions.conversation import Need
    from retrieval.recommender import RankingWeights, Recommender
    from retrieval.vocabulary import CatalogVocabulary

    catalog, retriever = _served(data)
    ids = list(items)
    together, popularity = weights
    recommender = Recommender(retriever, dataclasses.replace(RankingWeights(), together_alone=together,
                                                             popularity=popularity), popularity=model.popular())
    shop = CatalogShop(recommender, CatalogVocabulary(catalog), collaborative=model)

    def ranked(case: Case) -> np.ndarray:
        owned = [ids[i] for i in case.history]
        cards = shop.recommend(Need(), owned, k=K, liked=owned)
        values = np.zeros(len(ids), dtype=np.float32)
        for card in cards:
            values[items[card.product.id]] = float(K + 1 - card.rank)
        return values

    return ranked


@functools.cache
def _served(data: Path) -> tuple[Any, Any]:
    """The shared shop's catalog through its mapping, embedded in memory with the project's encoder."""
    from retrieval.loaders import load_catalog
    from retrieval.mapping import load_mapping
    from retrieval.search import Retriever
    from retrieval.settings import RetrievalSettings

    catalog = load_catalog(data / "catalog.csv", load_mapping(REPO / "data/catalog/mappings/online-retail.toml"),
                           strict=False).catalog
    settings = RetrievalSettings.from_env({})
    settings.limit_serving_threads()
    return catalog, Retriever.build(catalog, settings.make_query_encoder())


def served_model(data: Path, cases: Sequence[Case], items: Mapping[str, int], *, keep: int | None = None) -> Any:
    """The collaborative model learned from these cases' histories, as ``shopkeeper interactions build`` would."""
    from retrieval.collaborative import NEIGHBOURS, CollaborativeModel

    catalog, _ = _served(data)
    ids = list(items)
    return CollaborativeModel.build(catalog, [(c.customer, ids[i]) for c in cases for i in c.history],
                                    keep=NEIGHBOURS if keep is None else keep)


def own_rows(data: Path, cases: Sequence[Case], items: Mapping[str, int], dev: Sequence[Case]
             ) -> tuple[Callable[[Case], np.ndarray], str]:
    """The own ranker at the ``together_alone`` and ``popularity`` weights with the best NDCG@K on the dev customers."""
    model = served_model(data, cases, items)
    tried = {}
    for weights in itertools.product(TOGETHER_GRID, POPULARITY_GRID):
        tried[weights] = evaluate(own_ranker(data, model, items, weights), dev)[1]
        log(f"own ranker, together alone {weights[0]:g}, popularity {weights[1]:g}: dev NDCG@{K} {tried[weights]:.3f}")
    best = max(tried, key=lambda w: tried[w])
    return own_ranker(data, model, items, best), \
        f"own ranker (CatalogShop.recommend, together alone {best[0]:g}, popularity {best[1]:g})"


def write_top10(rows: Sequence[Row], items: Mapping[str, int], histories: Path, out: Path) -> int:
    """Each customer of ``histories`` (the log's format) ranked by EASE learned from the whole shared log.

    Writes ``customer_id,rank,item_id`` (their own items left out), so the ranker can be scored on customers
    it never saw; returns how many customers were ranked.
    """
    ids = list(items)
    people: dict[str, int] = {}
    matrix = matrix_of([(people.setdefault(r.customer, len(people)), items[r.item]) for r in rows],
                       customers=len(people), items=len(items))
    weights = ease(matrix, DEFAULT_L2)
    theirs: dict[str, list[int]] = {}
    for row in read_rows(histories):
        if row.item in items:
            theirs.setdefault(row.customer, []).append(items[row.item])
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["customer_id", "rank", "item_id"])
        for customer, owned in theirs.items():
            values = scores(weights, set(owned)).astype(np.float64)
            values[list(set(owned))] = -np.inf
            ranked = [p for p in np.argsort(-values, kind="stable")[:K] if np.isfinite(values[p])]
            for rank, position in enumerate(ranked, 1):
                writer.writerow([customer, rank, ids[position]])
    return len(theirs)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="a folder with catalog.csv and interactions.csv")
    parser.add_argument("--markdown", type=Path, default=None, help="also write the report as markdown here")
    parser.add_argument("--histories", type=Path, help="other customers' histories (the log's format) to rank")
    parser.add_argument("--top10", type=Path, help="with --histories: write customer_id,rank,item_id here")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if bool(args.histories) != bool(args.top10):
        sys.exit("--histories and --top10 go together")
    if not (args.data / "interactions.csv").exists():
        sys.exit(f"{args.data} holds no interactions.csv (clone with ../shared beside the repository)")
    with (args.data / "catalog.csv").open(encoding="utf-8", newline="") as handle:
        catalog = [(r["id"], r["title"]) for r in csv.DictReader(handle)]
    items = {item: n for n, (item, _) in enumerate(catalog)}
    rows = [r for r in read_rows(args.data / "interactions.csv") if r.item in items]
    if args.histories:
        ranked = write_top10(rows, items, args.histories, args.top10)
        print(f"ranked {ranked:,} customers of {args.histories} → {args.top10}")
        return 0
    report = Report()
    report.line(f"Command: `{' '.join(['.venv/bin/python -m benchmarks.collaborative', *(argv or sys.argv[1:])])}`")
    report.line(f"Machine: {cpu_model()}, {os.cpu_count()} cores; {code_version()}")
    report.line(f"Run: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average {load_average()} at start; "
                f"{len(rows):,} order lines, {len(items):,} items")
    log("embedding the titles")
    content = content_weights([t for _, t in catalog])
    table = Table(f"next purchase: HitRate@{K} / NDCG@{K} per customer (held out: every {HOLD_OUT_EVERY}th customer)",
                  ["protocol", "model", "dev customers", "held-out customers", "all with a history of 1–2 items"])
    kept = Table(f"the saved model's neighbours per item: dev HitRate@{K} / NDCG@{K} of its own scores",
                 ["protocol", "neighbours kept", "dev customers", "arrays, MB"])
    for protocol in PROTOCOLS:
        cases = cases_of(rows, items, protocol)
        matrix, customer_rows = training_matrix(cases, len(items))
        dev = [c for c in cases if not c.held_out]
        held = [c for c in cases if c.held_out]
        short = [c for c in cases if len(c.history) <= 2]
        log(f"{protocol}: {len(dev)} dev, {len(held)} held-out customers; {len(short)} with a history of 1-2")
        table.notes.append(f"{protocol}: {len(dev):,} dev and {len(held):,} held-out customers; "
                           f"{len(short):,} with a history of one or two items")
        scorers = models(matrix, customer_rows, dev, content)
        kept_neighbours(args.data, cases, items, dev, protocol, kept)
        own, name = own_rows(args.data, cases, items, dev)
        scorers[name] = own
        for name, scorer in scorers.items():
            cells = [f"{h:.3f} / {g:.3f}" for h, g in (evaluate(scorer, part) for part in (dev, held, short))]
            table.add(protocol, name, *cells)
            log(f"{protocol}: {name} {cells}")
    report.table(table)
    report.table(kept)
    log("what goes with it?")
    report.table(complements_table(args.data, rows, items))
    report.write(args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())

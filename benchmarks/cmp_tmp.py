import sys
from pathlib import Path
from benchmarks.conversations import available_runs
from benchmarks.replay import ReplayShop, cached_parses
from benchmarks.queries import load_queries, QUERIES, scores, WAIVE, MAX_TURNS
from retrieval.loaders import load_catalog
from retrieval.search import Retriever
from retrieval.settings import RetrievalSettings
name = sys.argv[1]
run = available_runs()[name]
catalog = load_catalog(run.catalog, strict=False).catalog
retriever = Retriever.load(catalog, RetrievalSettings.from_env({}).make_encoder(), Path(run.env["SHOPKEEPER_INDEX_DIR"]))
_, queries = load_queries(QUERIES / f"{name}.yml")
parses = cached_parses(run.model, [q.text for q in queries] + [WAIVE])
rs = ReplayShop(retriever)
cat = {p.id: p.category for p in catalog}
worse = 0
for q in queries:
    hyb = [m.product.category for m in retriever.search(q.text, k=3, mode="hybrid")]
    op = rs.opening(parses, q.text, WAIVE, MAX_TURNS)
    dia = [cat[i] for i in op.cards]
    hh, hp = scores(hyb, q.accept); dh, dp = scores(dia, q.accept)
    if dp < hp:
        worse += 1
        print(f"{q.text!r} [{q.style}] acc={sorted(q.accept)[:3]} P {dp:.2f}<{hp:.2f} intent={parses[q.text]['intent']['name']}\n   dia={dia} soft={op.state.need.scope_soft} scope={op.state.need.scope}\n   hyb={hyb}")
print("worse", worse)

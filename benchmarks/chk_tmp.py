from pathlib import Path
from benchmarks.conversations import available_runs
from retrieval.loaders import load_catalog
from retrieval.search import Retriever
from retrieval.settings import RetrievalSettings
run = available_runs()["flipkart-sample"]
catalog = load_catalog(run.catalog, strict=False).catalog
r = Retriever.load(catalog, RetrievalSettings.from_env({}).make_encoder(), Path(run.env["SHOPKEEPER_INDEX_DIR"]))
for q in ["black leather strap watch", "woollen sweater for a boy", "brown genuine leather belt", "golden party heels"]:
    print("==", q)
    for m in r.search(q, k=5, mode="hybrid"):
        p = m.product; print("  ", p.title[:60], "| colour", p.colour, "| material", p.material)

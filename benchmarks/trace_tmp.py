import sys, json
from pathlib import Path
from benchmarks.conversations import available_runs
from benchmarks.replay import ReplayShop, cached_parses
from retrieval.loaders import load_catalog
from retrieval.search import Retriever
from retrieval.settings import RetrievalSettings
from actions.conversation import State
name = sys.argv[1]; texts = sys.argv[2:]
run = available_runs()[name]
catalog = load_catalog(run.catalog, strict=False).catalog
retriever = Retriever.load(catalog, RetrievalSettings.from_env({}).make_encoder(), Path(run.env["SHOPKEEPER_INDEX_DIR"]))
parses = cached_parses(run.model, texts + ["I don't mind"])
rs = ReplayShop(retriever)
for t in texts:
    p = parses[t]
    print("==", t, "| intent", p["intent"]["name"], round(p["intent"]["confidence"],2), [ (e["entity"], e["value"]) for e in p["entities"]])
    hyb = retriever.search(t, k=3, mode="hybrid")
    print("   hybrid:", [(m.product.category, m.product.title[:30]) for m in hyb])
    state = State(); text = t
    for turn in range(3):
        from actions.moves import move_from
        from actions.conversation import apply
        move = move_from(parses[text], state, rs.vocabulary, rs.catalog)
        state, reply = apply(state, move, rs.shop)
        print("   ", turn, move.kind, move.scope, move.text[:40], "->", reply.kind, reply.lines[:1], reply.intro, [(c.product.category, round(c.semantic,2)) for c in reply.cards], state.need.scope, state.need.scope_soft)
        if reply.cards: break
        text = "I don't mind"
print(rs.vocabulary.covers("material", "leather"))
print(rs.vocabulary.covers("material", "Woollen"), rs.vocabulary.covers("colour", "black"))

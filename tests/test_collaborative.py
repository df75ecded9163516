"""Item-to-item models from purchases, and the protocol of the collaborative benchmark."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.collaborative import Case, Row, cases_of, evaluate, hit_and_ndcg, write_top10
from retrieval.catalog import Catalog, Product
from retrieval.collaborative import CollaborativeModel, cooccurrence, ease, matrix_of, popularity, scores
from retrieval.errors import IndexMismatchError

#: Five customers: items 0 and 1 go together, 2 and 3 go together, 4 is bought alone.
BASKETS = [(0, 1), (0, 1), (0, 1, 4), (2, 3), (2, 3, 4)]
MATRIX = matrix_of([(c, i) for c, basket in enumerate(BASKETS) for i in basket], customers=5, items=5)


def test_the_matrix_counts_a_customer_once_per_item() -> None:
    repeated = matrix_of([(0, 1), (0, 1), (1, 0)], customers=2, items=2)
    assert repeated.toarray().tolist() == [[0.0, 1.0], [1.0, 0.0]]
    assert popularity(MATRIX).tolist() == [3.0, 3.0, 2.0, 2.0, 2.0]


@pytest.mark.parametrize("model", [cooccurrence, lambda m: ease(m, 0.5)])
def test_items_bought_together_score_highest(model: object) -> None:
    weights = model(MATRIX)  # type: ignore[operator]
    assert weights.shape == (5, 5) and np.allclose(weights.diagonal(), 0.0)
    assert int(np.argmax(scores(weights, [0]))) == 1
    assert int(np.argmax(scores(weights, [2]))) == 3
    assert scores(weights, []).tolist() == [0.0] * 5


def test_ease_regularisation_shrinks_the_weights() -> None:
    assert np.abs(ease(MATRIX, 100.0)).sum() < np.abs(ease(MATRIX, 0.5)).sum()


ITEMS = {name: n for n, name in enumerate("abcde")}
LOG = [Row("c1", "a", "o1", "2010-12-01 10:00"), Row("c1", "b", "o1", "2010-12-01 10:00"),
       Row("c1", "c", "o2", "2010-12-05 09:00"), Row("c1", "d", "o2", "2010-12-05 09:00"),
       Row("c1", "a", "o3", "2010-12-09 12:00")]  # a repeat: never the target


def test_the_target_is_the_last_new_item_and_the_protocols_differ_in_its_order() -> None:
    basket = cases_of(LOG, ITEMS, "in the basket")
    visit = cases_of(LOG, ITEMS, "next visit")
    assert [c.target for c in basket] == [ITEMS["d"]] == [c.target for c in visit]
    assert set(basket[0].history) == {ITEMS["a"], ITEMS["b"], ITEMS["c"]}  # the rest of the target's order too
    assert set(visit[0].history) == {ITEMS["a"], ITEMS["b"]}  # only the orders before it


def test_hit_rate_and_ndcg_count_the_targets_rank() -> None:
    assert hit_and_ndcg(np.array([4, 2, 7]), 4) == (1.0, 1.0)
    hit, gain = hit_and_ndcg(np.array([4, 2, 7]), 2)
    assert hit == 1.0 and gain == pytest.approx(1 / np.log2(3))
    assert hit_and_ndcg(np.array([4, 2, 7]), 9) == (0.0, 0.0)


def test_a_customers_own_items_are_never_recommended() -> None:
    case = Case("c", target=1, history=(0,), held_out=False)
    owned_first = np.array([10.0, 1.0] + [0.0] * 12)  # item 0 scores highest but is the customer's own
    assert evaluate(lambda _: owned_first, [case]) == (1.0, 1.0)


def _shop(count: int = 6) -> Catalog:
    return Catalog([Product(f"p{n}", f"Item {n}", 10.0 + n, "USD", "Things") for n in range(count)])


#: Eight customers took p0 and p1 together, six took p2 and p3, three took p4 and p5.
TAKEN = ([(f"a{n}", i) for n in range(8) for i in ("p0", "p1")] + [(f"b{n}", i) for n in range(6) for i in ("p2", "p3")]
         + [(f"c{n}", i) for n in range(3) for i in ("p4", "p5")] + [("a0", "unknown-item")])


def test_the_model_knows_what_was_taken_together_and_by_how_many() -> None:
    model = CollaborativeModel.build(_shop(), TAKEN)
    assert model.manifest.customers == 17 and model.manifest.items_with_data == 6
    assert model.bought_with("p0") == [("p1", 8)]
    assert model.bought_with("p4") == []  # three customers are too few to tell a shopper
    assert model.bought_with("p4", least=3) == [("p5", 3)]
    scores_of = model.scores(["p2"])
    assert int(np.argmax(scores_of)) == 3 and scores_of[0] == 0.0
    assert model.customers.tolist() == [8, 8, 6, 6, 3, 3]


def test_a_saved_model_loads_for_its_catalog_and_is_refused_for_another(tmp_path: Path) -> None:
    shop = _shop()
    CollaborativeModel.build(shop, TAKEN).save(tmp_path)
    loaded = CollaborativeModel.load(tmp_path, expected_fingerprint=shop.fingerprint())
    assert loaded.bought_with("p0") == [("p1", 8)]
    with pytest.raises(IndexMismatchError):
        CollaborativeModel.load(tmp_path, expected_fingerprint=_shop(7).fingerprint())


def test_a_shop_without_interactions_builds_an_empty_model() -> None:
    model = CollaborativeModel.build(_shop(), [])
    assert model.bought_with("p0") == [] and not model.scores(["p0"]).any()


def test_other_customers_histories_are_ranked_without_their_own_items(tmp_path: Path) -> None:
    rows = [Row(f"k{n}", item, f"o{n}", "2011-01-01 10:00") for n in range(6) for item in ("a", "b")]
    histories = tmp_path / "histories.csv"
    histories.write_text("customer_id,item_id,order_id,timestamp,quantity\nnew,a,o9,2011-02-01 10:00,1\n",
                         encoding="utf-8")
    out = tmp_path / "top10.csv"
    assert write_top10(rows, {"a": 0, "b": 1, "c": 2}, histories, out) == 1
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "customer_id,rank,item_id" and lines[1] == "new,1,b"
    assert all(not line.endswith(",a") for line in lines[1:])  # never what they already have

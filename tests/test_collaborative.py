"""Item-to-item models from purchases, and the protocol of the collaborative benchmark."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.collaborative import Case, Row, cases_of, evaluate, hit_and_ndcg
from retrieval.collaborative import cooccurrence, ease, matrix_of, popularity, scores

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

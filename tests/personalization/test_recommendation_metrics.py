"""Offline evaluation: metrics on hand-computed lists, splits, and EASE against popularity."""

import math

import numpy as np
import pytest
from scipy import sparse

from personalization.recommendations.algorithms.base import Catalogue
from personalization.recommendations.algorithms.ease import ease_weights
from personalization.recommendations.algorithms.evaluation import (
    EvaluationError,
    evaluate,
    holdout,
    measure,
)
from personalization.recommendations.algorithms.interactions import from_triples


def test_precision_recall_ndcg_map_and_hit_rate_match_a_hand_computed_list():
    ranked = np.array([[0, 1, 2]])  # the relevant items are 1 (ranked 2nd) and 3 (missed)
    test = sparse.csr_matrix(np.array([[0, 1, 0, 1]], np.float32))

    values = measure(ranked, test, k=3, popularity=np.ones(4), visitors=1)

    ideal = 1 + 1 / math.log2(3)
    assert values["precision"] == pytest.approx(1 / 3)
    assert values["recall"] == pytest.approx(1 / 2)
    assert values["ndcg"] == pytest.approx((1 / math.log2(3)) / ideal)
    assert values["map"] == pytest.approx((1 / 2) / 2)
    assert values["hit_rate"] == 1.0


def test_coverage_counts_distinct_items_and_novelty_rewards_rare_ones():
    ranked = np.array([[0, 1], [0, -1]])  # the second visitor got one item only
    test = sparse.csr_matrix(np.array([[0, 0, 1, 0], [0, 0, 0, 1]], np.float32))
    popularity = np.array([8.0, 1.0, 0.0, 0.0])  # of 8 training visitors

    values = measure(ranked, test, k=2, popularity=popularity, visitors=8)

    assert values["coverage"] == pytest.approx(2 / 4)
    assert values["novelty"] == pytest.approx((0 + 3 + 0) / 3)  # -log2(8/8), -log2(1/8), …
    assert values["hit_rate"] == 0.0


def test_ease_weights_are_the_closed_form_with_a_zero_diagonal():
    matrix = sparse.random(40, 12, density=0.3, random_state=1, dtype=np.float32).tocsr()
    gram = (matrix.T @ matrix).toarray().astype(np.float64) + 5.0 * np.eye(12)
    inverse = np.linalg.inv(gram)
    expected = inverse / -np.diag(inverse)
    np.fill_diagonal(expected, 0)

    assert np.allclose(ease_weights(matrix, 5.0), expected, atol=1e-4)


def _structured(visitors: int = 400, groups: int = 8, per_group: int = 10, seed: int = 3):
    """Visitors who each like one group of items, plus a few items popular with everyone."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for visitor in range(visitors):
        group = visitor % groups
        liked = rng.choice(per_group, size=5, replace=False) + group * per_group
        popular = rng.choice(3, size=1) + groups * per_group
        for item in (*liked, *popular):
            rows.append(visitor)
            cols.append(item)
    count = len(rows)
    return from_triples(
        np.asarray(rows), np.asarray(cols), np.ones(count), np.arange(count, dtype=float),
        now=float(count), half_life_days=1e6,
    )  # fmt: skip


def test_ease_beats_popularity_on_data_with_structure():
    data = _structured()

    report = evaluate(
        data, Catalogue(data.item_ids), k=5, seed=7, algorithms=["popularity", "ease"]
    )

    assert report.metrics["ease"]["ndcg"] > report.metrics["popularity"]["ndcg"] + 0.2
    assert report.metrics["hybrid"]["ndcg"] >= report.metrics["ease"]["ndcg"] - 1e-9


def test_a_temporal_split_holds_out_each_visitors_latest_items():
    data = _structured(visitors=20)

    split = holdout(data, method="temporal", seed=0)

    for row in range(20):
        held = split.test[row].indices
        kept = split.train.last[row].data
        assert len(held) == 1  # 6 items each: 20 % rounds down to 1
        assert data.last[row, held[0]] > kept.max()


def test_evaluation_refuses_too_few_visitors_to_test_on():
    data = _structured(visitors=10)

    with pytest.raises(EvaluationError, match="only 10 visitors"):
        evaluate(data, Catalogue(data.item_ids), min_visitors=50)

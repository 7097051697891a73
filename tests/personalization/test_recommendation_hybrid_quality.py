"""The hybrid on held-out data: at least as good as its best component, EASE pruned cheaply."""

import pytest

from personalization.recommendations.algorithms.base import Catalogue
from personalization.recommendations.algorithms.evaluation import evaluate
from personalization.recommendations.algorithms.synthetic import synthetic_interactions


@pytest.fixture(scope="module")
def report():
    data = synthetic_interactions(visitors=3_000, items=400, seed=5)
    return evaluate(data, Catalogue(data.item_ids), k=10, seed=42)


def test_the_hybrid_is_at_least_as_good_as_its_best_component_on_the_test_split(report):
    components = [name for name in report.metrics if name != "hybrid"]
    best = max(report.metrics[name]["ndcg"] for name in components)

    assert report.metrics["hybrid"]["ndcg"] >= best


def test_pruning_eases_neighbours_costs_under_one_percent_of_validation_ndcg(report):
    assert report.parameters["ease"]["neighbours"] < 400  # pruned: fewer than every item
    assert report.validation["ease"] >= 0.99 * report.validation["ease_unpruned"]


def test_a_component_that_does_not_help_gets_blend_weight_zero(report):
    # Content has no item texts here: nothing to learn from, so it never joins the blend.
    assert report.weights["content"] == 0.0
    assert report.metrics["hybrid"]["ndcg"] > report.metrics["popularity"]["ndcg"]

"""The score run page: the model's metrics beside the baselines, calibration, importance."""

import base64
import re

import pytest
from django.utils import timezone

from personalization.scores.services import scores_compute_all
from personalization.scores.synthetic import synthetic_generate
from tests.factories.scores import population_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def run_page(admin_client):
    population_store(synthetic_generate(visitors=500, seed=13), now=timezone.now())
    run = scores_compute_all(chunk_size=250)["run"]
    return admin_client.get(f"/admin/personalization/scorerun/{run}/change/")


def test_the_run_page_puts_the_models_metrics_beside_both_baselines_per_target(run_page):
    html = run_page.content.decode()

    assert run_page.status_code == 200
    table = html[html.index('class="tailor-score-metrics"') :]
    for label in ("ROC AUC", "PR AUC", "Brier score", "lift in the top decile"):
        assert label in table
    for scorer in ("gradient boosting, calibrated", "baseline: logistic regression",
                   "baseline: lifecycle stage rule"):  # fmt: skip
        assert table.count(scorer) == 2  # churn and purchase


def test_the_calibration_chart_is_an_svg_image_that_the_content_security_policy_allows(run_page):
    html = run_page.content.decode()

    [encoded] = re.findall(r'<img src="data:image/svg\+xml;base64,([^"]+)" alt="Calibration', html)
    svg = base64.b64decode(encoded).decode()
    assert svg.startswith("<svg") and "predicted probability" in svg
    assert "<svg" not in html.split("tailor-score-metrics")[1].split("<img")[0]


def test_the_features_that_matter_most_are_listed_per_target(run_page):
    html = run_page.content.decode()

    importance = html[html.index('class="tailor-score-importance"') :]
    assert "recency_days" in importance
    assert "<th>churn</th>" in importance and "<th>purchase</th>" in importance

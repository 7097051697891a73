"""A score run trains on consenting visitors, scores them, and is served unless it is worse."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from personalization.scores.models import ScoreRun, VisitorScore
from personalization.scores.services import ScoreError, scores_compute_all
from personalization.scores.synthetic import synthetic_generate
from tests.factories.personalization import EventFactory, VisitorFactory
from tests.factories.scores import population_store, scores_current

pytestmark = pytest.mark.django_db


@pytest.fixture
def population():
    """600 synthetic visitors with 180 days of history; the last quarter refuse personalization."""
    return population_store(
        synthetic_generate(visitors=600, seed=11), now=timezone.now(), consent=0.75
    )[0]


def test_a_run_scores_every_consenting_visitor_for_every_target_and_nobody_else(population):
    summary = scores_compute_all(chunk_size=100)

    run = ScoreRun.objects.get(pk=summary["run"])
    assert run.status == ScoreRun.Status.FINISHED and run.is_current
    allowed, refused = population[:450], population[450:]
    scored = set(VisitorScore.objects.values_list("visitor_id", "target"))
    assert scored == {(v.pk, t) for v in allowed for t in ("churn", "purchase")}
    assert not {v.pk for v in refused} & {pk for pk, _ in scored}
    assert run.training_rows <= 450  # the refusing visitors' events trained nothing
    assert all(0 <= p <= 1 for p in VisitorScore.objects.values_list("probability", flat=True))
    assert set(run.metrics["churn"]) == {"model", "logistic", "lifecycle"}
    assert {"roc_auc", "pr_auc", "brier", "lift_top_decile"} <= set(run.metrics["churn"]["model"])
    assert run.calibration["churn"] and run.importance["purchase"]


def test_a_run_that_scores_worse_than_the_current_one_is_not_served_unless_forced(population):
    better = scores_current({population[0]: {"churn": 0.5}})
    ScoreRun.objects.filter(pk=better.pk).update(score=0.999)

    worse = ScoreRun.objects.get(pk=scores_compute_all(chunk_size=200)["run"])
    forced = ScoreRun.objects.get(pk=scores_compute_all(chunk_size=200, force=True)["run"])

    assert worse.status == ScoreRun.Status.FINISHED and not worse.is_current
    assert forced.is_current and forced.forced
    assert set(VisitorScore.objects.values_list("run_id", flat=True)) == {forced.pk}


def test_without_enough_history_the_run_fails_with_a_reason_and_nothing_changes():
    visitor = VisitorFactory()
    EventFactory(visitor=visitor)
    current = scores_current({visitor: {"churn": 0.25}})

    with pytest.raises(ScoreError, match="not enough history"):
        scores_compute_all()

    failed = ScoreRun.objects.exclude(pk=current.pk).get()
    assert failed.status == ScoreRun.Status.FAILED and "not enough history" in failed.error
    assert VisitorScore.objects.get().probability == 0.25


def test_compute_scores_reports_the_run_and_each_targets_auc_beside_the_baselines(population):
    out = StringIO()

    call_command("compute_scores", "--chunk-size", "200", stdout=out, stderr=StringIO())

    lines = out.getvalue().splitlines()
    run = ScoreRun.objects.get(is_current=True)
    assert lines[0].startswith(f"score run {run.pk}: 900 scores for 450 visitors")
    assert lines[0].endswith("; current")
    assert lines[1].startswith("  churn: ROC AUC on the held-out window: model 0.")
    assert "logistic" in lines[1] and "lifecycle" in lines[1]

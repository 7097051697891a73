"""compute_scores on a real Celery worker: train, a chord of chunks, then finish."""

import pytest
from django.utils import timezone

from consent.models import Purpose
from personalization.scores.models import ScoreRun, VisitorScore
from personalization.scores.synthetic import synthetic_generate
from personalization.scores.tasks import compute_scores
from tests.factories.scores import population_store
from tests.personalization.test_recommendations_worker import wait_for


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_compute_scores_on_a_real_worker_stores_scores_and_makes_the_run_current(
    tasks_on_worker,
):
    for key in ("analytics", "personalization"):  # an earlier transactional test may flush them
        Purpose.objects.get_or_create(key=key, defaults={"name": key, "description": key})
    visitors, _ = population_store(synthetic_generate(visitors=300, seed=5), now=timezone.now())

    dispatched = compute_scores.delay(chunk_size=100).get(timeout=120)

    assert (dispatched["chunks"], dispatched["visitors"]) == (3, 300)
    assert wait_for(lambda: ScoreRun.objects.filter(is_current=True).exists())
    run = ScoreRun.objects.get(is_current=True)
    assert (run.chunks_done, run.visitors_done, run.progress) == (3, 300, 1.0)
    scored = set(VisitorScore.objects.filter(run=run).values_list("visitor_id", "target"))
    assert scored == {(v.pk, t) for v in visitors for t in ("churn", "purchase")}

"""compute_recommendations on a real Celery worker: train, a chord of chunks, then finish."""

import time

import pytest

from consent.models import Purpose
from personalization.recommendations.models import ModelRun, Recommendation
from personalization.recommendations.tasks import compute_recommendations
from tests.personalization.test_recommendations_compute import shop


def wait_for(check, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.2)
    return check()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_compute_recommendations_on_a_real_worker_stores_lists_and_makes_the_run_current(
    tasks_on_worker,
):
    for key in ("analytics", "personalization"):  # an earlier transactional test may flush them
        Purpose.objects.get_or_create(key=key, defaults={"name": key, "description": key})
    _, people = shop(visitors=6)

    dispatched = compute_recommendations.delay(chunk_size=4).get(timeout=120)

    assert (dispatched["chunks"], dispatched["visitors"]) == (2, 6)
    assert wait_for(lambda: ModelRun.objects.filter(is_current=True).exists())
    run = ModelRun.objects.get(is_current=True)
    assert (run.chunks_done, run.visitors_done, run.progress) == (2, 6, 1.0)
    listed = set(Recommendation.objects.filter(run=run).values_list("visitor_id", flat=True))
    assert listed == {v.pk for v in people}

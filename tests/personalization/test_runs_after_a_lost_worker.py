"""A worker killed in the middle of a run: the run ends failed and is started again, unattended."""

import signal
import uuid

import psycopg
import pytest

from config.celery import app as celery_app
from config.tasks import reap_stale_runs
from consent.models import Purpose
from personalization.recommendations.models import ModelRun
from personalization.recommendations.tasks import compute_recommendations
from personalization.visitors.models import Event
from tests.conftest import _database_url
from tests.personalization.test_recommendations_compute import shop
from tests.worker_processes import wait_for, worker_start, worker_stop

STALE_SECONDS = "2"


@pytest.fixture
def own_queue():
    """Tasks of this test go to a queue of its own, consumed by the workers it starts."""
    queue = f"tailor-lost-{uuid.uuid4().hex[:8]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    celery_app.conf.task_always_eager = False
    yield queue
    celery_app.conf.task_default_queue = previous
    celery_app.conf.task_always_eager = True


def reaped(run: ModelRun, queue: str) -> bool:
    reap_stale_runs.apply_async(queue=queue).get(timeout=30)
    run.refresh_from_db()
    return run.status == ModelRun.Status.FAILED


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_recommendation_run_whose_worker_is_killed_ends_failed_and_a_new_worker_finishes_it(
    own_queue, tmp_path
):
    for key in ("analytics", "personalization"):  # an earlier transactional test may flush them
        Purpose.objects.get_or_create(key=key, defaults={"name": key, "description": key})
    _, people = shop(visitors=6)
    database_url = _database_url()
    log = tmp_path / "workers.log"
    lease = {"TAILOR_RUN_STALE_SECONDS": STALE_SECONDS}
    # Training waits for this lock on the events: the worker is surely mid-run when killed.
    blocker = psycopg.connect(database_url.replace("postgres://", "postgresql://"))
    blocker.execute(f"LOCK TABLE {Event._meta.db_table} IN ACCESS EXCLUSIVE MODE")
    first = worker_start(queue=own_queue, database_url=database_url, log=log, **lease)
    try:
        compute_recommendations.apply_async(kwargs={"chunk_size": 4})
        assert wait_for(lambda: ModelRun.objects.filter(status="training").exists())
        lost = ModelRun.objects.get(status="training")
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        blocker.rollback()
        blocker.close()
        worker_stop(first)
    second = worker_start(queue=own_queue, database_url=database_url, log=log, **lease)
    try:
        assert wait_for(lambda: reaped(lost, own_queue), every=1), log.read_text()
        assert wait_for(lambda: ModelRun.objects.filter(retry_of=lost, status="finished").exists())
    finally:
        worker_stop(second)

    retried = ModelRun.objects.get(retry_of=lost)
    assert "its worker was lost" in lost.error
    assert (retried.attempt, retried.is_current, retried.chunks_done) == (2, True, 2)
    assert retried.recommendations.values("visitor_id").distinct().count() == len(people)

"""Runs hold a lease: the reaper fails and restarts runs without a heartbeat, chunks count once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from config.runs import runs_reap
from personalization.clustering.models import ClusterRun
from personalization.clustering.tasks import compute_clusters
from personalization.features.models import FeatureRun
from personalization.features.runs import feature_run_chunk
from personalization.features.services import population_stats
from personalization.features.tasks import compute_features
from personalization.recommendations.models import ModelRun
from personalization.recommendations.tasks import compute_recommendations
from personalization.segments.models import SegmentRun
from personalization.segments.tasks import compute_segments
from tests.factories import VisitorFactory

pytestmark = pytest.mark.django_db

LONG_AGO = timedelta(hours=1)
KINDS = {
    "features": (FeatureRun, "running", compute_features),
    "segments": (SegmentRun, "running", compute_segments),
    "clusters": (ClusterRun, "assigning", compute_clusters),
    "recommendations": (ModelRun, "scoring", compute_recommendations),
}


def stale_run(model, status: str, **fields):
    options = {"chunk_size": 500, "queue": "batch", "delivery": "lost-task#0"}
    if model is ClusterRun:
        fields.setdefault("algorithm", "kmeans")
    run = model.objects.create(status=status, task_options=options, chunks_total=2, **fields)
    model.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - LONG_AGO)
    return run


@pytest.fixture
def queued(monkeypatch):
    """What the reaper queues, per task name, instead of sending it."""
    sent: dict[str, list[dict]] = {}
    for _, _, task in KINDS.values():
        monkeypatch.setattr(
            task, "apply_async", lambda task=task, **o: sent.setdefault(task.name, []).append(o)
        )
    return sent


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_run_without_a_heartbeat_is_failed_and_queued_again_with_its_options(
    kind, queued, django_capture_on_commit_callbacks
):
    model, status, task = KINDS[kind]
    run = stale_run(model, status)

    with django_capture_on_commit_callbacks(execute=True):
        reaped = runs_reap()

    run.refresh_from_db()
    assert reaped == {kind: [run.pk]}
    assert run.status == "failed" and "its worker was lost" in run.error
    assert queued[task.name] == [
        {"kwargs": {"chunk_size": 500, "retry_of": run.pk}, "queue": "batch"}
    ]


def test_a_run_with_a_fresh_heartbeat_is_left_alone(queued):
    run = FeatureRun.objects.create(chunks_total=2)

    assert runs_reap() == {}
    run.refresh_from_db()
    assert run.status == "running"


def test_a_run_out_of_attempts_is_failed_and_not_started_again(
    queued, settings, django_capture_on_commit_callbacks
):
    settings.TAILOR_RUN_MAX_ATTEMPTS = 2
    run = stale_run(FeatureRun, "running", attempt=2)

    with django_capture_on_commit_callbacks(execute=True):
        runs_reap()

    run.refresh_from_db()
    assert run.status == "failed" and "out of attempts" in run.error
    assert queued == {}


def test_reaping_twice_fails_and_queues_a_run_once(queued, django_capture_on_commit_callbacks):
    stale_run(SegmentRun, "running")

    with django_capture_on_commit_callbacks(execute=True):
        runs_reap()
        runs_reap()

    assert len(queued["tailor.compute_segments"]) == 1


def test_a_chunk_run_twice_counts_once_and_the_run_finishes_once_every_chunk_counted():
    visitors = [VisitorFactory().pk for _ in range(2)]
    run = FeatureRun.objects.create(chunks_total=2)
    stats = population_stats()

    feature_run_chunk(run_id=run.pk, visitor_ids=visitors[:1], stats=stats, chunk=0)
    feature_run_chunk(run_id=run.pk, visitor_ids=visitors[:1], stats=stats, chunk=0)
    run.refresh_from_db()
    halfway = (run.chunks_done, run.status)
    feature_run_chunk(run_id=run.pk, visitor_ids=visitors[1:], stats=stats, chunk=1)

    run.refresh_from_db()
    assert halfway == (1, "running")
    assert (run.chunks_done, run.status) == (2, "finished")


def test_a_chunk_of_a_run_that_was_reaped_does_nothing():
    run = stale_run(FeatureRun, "failed")

    summary = feature_run_chunk(
        run_id=run.pk, visitor_ids=[VisitorFactory().pk], stats=population_stats(), chunk=0
    )

    run.refresh_from_db()
    assert summary == {"skipped": "failed"}
    assert run.chunks_done == 0


def test_a_dispatcher_delivered_again_after_its_run_started_does_nothing():
    run = stale_run(FeatureRun, "failed")

    result = compute_features.apply(task_id="lost-task").get()

    assert result == {"run": run.pk, "skipped": "this message was delivered before"}
    assert FeatureRun.objects.count() == 1


def test_a_celery_retry_of_a_dispatcher_is_not_taken_for_a_message_delivered_again():
    stale_run(FeatureRun, "failed")

    result = compute_features.apply(task_id="lost-task", retries=1).get()

    assert "skipped" not in result

"""compute_clusters on a real Celery worker: fit, a chord of chunks, then the run is current."""

import time

import pytest

from consent.models import Purpose
from personalization.clustering.models import ClusterMembership, ClusterRun
from personalization.clustering.selectors import clusters_cache_clear
from personalization.clustering.services import cluster_run_create, cluster_run_fit
from personalization.clustering.tasks import assign_in_chunks, compute_clusters
from personalization.decisions.attributes import visitor_attributes
from tests.factories.clusters import population_create


def wait_for(check, seconds: float = 90) -> bool:
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.2)
    return check()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_compute_clusters_on_a_real_worker_assigns_every_chunk_and_makes_the_run_current(
    tasks_on_worker,
):
    clusters_cache_clear()
    for key in ("analytics", "personalization"):  # an earlier transactional test may flush them
        Purpose.objects.get_or_create(key=key, defaults={"name": key, "description": key})
    population = population_create(150, seed=21)
    refusing = population_create(10, seed=22, consent=False, prefix="refusing")

    dispatched = compute_clusters.delay(chunk_size=40, k_range=[2, 6]).get(timeout=120)

    assert (dispatched["chunks"], dispatched["visitors"]) == (4, 160)
    run = ClusterRun.objects.get(pk=dispatched["run"])
    assert wait_for(lambda: ClusterRun.objects.filter(pk=run.pk, is_current=True).exists())
    run.refresh_from_db()
    assert (run.status, run.k, run.chunks_done, run.visitors, run.left_out) == (
        "done", 4, 4, 150, 10,
    )  # fmt: skip
    assert ClusterMembership.objects.filter(run=run).count() == 150
    assert not ClusterMembership.objects.filter(
        visitor_id__in=[v.pk for v in refusing.visitors]
    ).exists()
    clusters_cache_clear()
    assert visitor_attributes(population.visitors[0])["clusters"][0].startswith("cluster-")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_chunk_failing_on_the_worker_marks_the_run_failed_instead_of_leaving_it_stuck(
    tasks_on_worker,
):
    clusters_cache_clear()
    for key in ("analytics", "personalization"):
        Purpose.objects.get_or_create(key=key, defaults={"name": key, "description": key})
    population = population_create(60, seed=23)
    ids = [visitor.pk for visitor in population.visitors]
    run = cluster_run_create(k_range=(2, 4), chunk_size=30)
    cluster_run_fit(run=run, visitor_ids=ids)
    ClusterRun.objects.filter(pk=run.pk).update(model=None)  # every chunk now fails for good

    assign_in_chunks(run_id=run.pk, visitor_ids=ids, chunk_size=30, queue=tasks_on_worker)

    assert wait_for(lambda: ClusterRun.objects.get(pk=run.pk).status == "failed")
    run.refresh_from_db()
    assert not run.is_current and "chunk of visitors failed" in run.error
    assert not ClusterRun.objects.filter(is_current=True).exists()

"""Thin Celery tasks for clustering; the work lives in this package's `services`.

Import this module from `personalization/tasks.py` (Celery discovers only `tasks.py`).
"""

from typing import Any

from celery import chord, group, shared_task

from config.runs import delivered_before, delivery, retry_options
from config.tasking import RETRIES, child_options, results_kept
from personalization.clustering import services as clusters
from personalization.clustering.models import ClusterRun
from personalization.features.services import visitor_id_chunks


@shared_task(bind=True, name="tailor.compute_clusters", **RETRIES)
def compute_clusters(
    self,
    *,
    chunk_size: int = 2000,
    algorithm: str = "auto",
    k: int | None = None,
    k_range: list[int] | None = None,
    sample_size: int = clusters.SAMPLE_SIZE,
    seed: int = 0,
    retry_of: int | None = None,
) -> dict[str, Any]:
    """Fit clusters on a sample here, then assign every visitor in chunks across workers.

    On a worker, the fit runs in this task (bounded by `sample_size`, see
    `personalization.clustering.runs`), then a chord of `assign_clusters_chunk` tasks on this
    task's own queue assigns the chunks (the run's progress counts them) and `finish_clusters`
    makes the run current (without a result backend: a group, each chunk finishing the run when
    it is the last). Eagerly, it all runs inline. Cost of dispatching: every visitor id in memory
    once (about 30 MB per million visitors) and visitors / chunk_size messages of chunk_size ids
    each. `retry_of` names the run this one starts again (`config.runs`).
    """
    started = delivered_before(ClusterRun, self.request)
    if started is not None:
        return {"run": started, "skipped": "this message was delivered before"}
    options = {
        "chunk_size": chunk_size, "algorithm": algorithm, "k": k,
        "k_range": tuple(k_range or clusters.DEFAULT_K_RANGE), "sample_size": sample_size,
        "seed": seed,
    }  # fmt: skip
    queue = child_options(self.request).get("queue")
    asked = {**options, "k_range": list(options["k_range"]), "delivery": delivery(self.request)}
    lease = {"options": asked | ({"queue": queue} if queue else {}), "retry_of": retry_of}
    if self.request.is_eager:
        return clusters.clusters_compute_all(**options, **lease)
    run = clusters.cluster_run_create(**options, **lease)
    ids = [pk for chunk in visitor_id_chunks(chunk_size=chunk_size) for pk in chunk]
    clusters.cluster_run_fit(run=run, visitor_ids=ids)
    result = assign_in_chunks(run_id=run.pk, visitor_ids=ids, chunk_size=chunk_size, queue=queue)
    return {"run": run.pk, "chunks": run.chunks_total, "visitors": len(ids), "group_id": result.id}


def assign_in_chunks(
    *, run_id: int, visitor_ids: list[int], chunk_size: int, queue: str | None = None
) -> Any:
    """Queue the chunks of a fitted run as a chord whose body finishes the run.

    A chunk that fails for good marks the run failed (the body's error callback). Without a
    result backend there is no chord: a group whose chunks each finish the run when they are
    the last one counted.
    """
    routing = {"queue": queue} if queue else {}
    header = [
        assign_clusters_chunk.s(
            run_id=run_id, visitor_ids=visitor_ids[start : start + chunk_size],
            chunk=start // chunk_size,
        ).set(**routing)
        for start in range(0, len(visitor_ids), chunk_size)
    ]  # fmt: skip
    finish = finish_clusters.si(run_id=run_id).set(**routing)
    finish.on_error(fail_clusters.si(run_id=run_id).set(**routing))
    if not results_kept(assign_clusters_chunk.app):
        return group(
            [s.set(link=finish_clusters_if_last.si(run_id=run_id)) for s in header]
        ).apply_async()
    return chord(header)(finish)


@shared_task(name="tailor.assign_clusters_chunk", **RETRIES)
def assign_clusters_chunk(
    *, run_id: int, visitor_ids: list[int], chunk: int | None = None
) -> dict[str, Any]:
    """Assign one chunk of visitors to the run's clusters (idempotent)."""
    return clusters.cluster_memberships_assign(run_id=run_id, visitor_ids=visitor_ids, chunk=chunk)


@shared_task(name="tailor.finish_clusters", **RETRIES)
def finish_clusters(*, run_id: int) -> dict[str, Any]:
    """Count sizes, make the run current and refresh cluster segments."""
    return clusters.cluster_run_finish(run_id=run_id)


@shared_task(name="tailor.finish_clusters_if_last", **RETRIES)
def finish_clusters_if_last(*, run_id: int) -> dict[str, Any] | None:
    """Without a result backend: finish the run once every chunk is counted."""
    return clusters.cluster_run_finish_if_complete(run_id=run_id)


@shared_task(name="tailor.fail_clusters")
def fail_clusters(*, run_id: int) -> None:
    """A chunk failed for good: mark the run failed so that it does not look stuck."""
    clusters.cluster_run_fail_by_id(run_id=run_id, error="a chunk of visitors failed; see logs")


def clusters_retry(run: ClusterRun) -> None:
    """Start a run whose worker was lost again, with the options it was started with."""
    compute_clusters.apply_async(**retry_options(run))

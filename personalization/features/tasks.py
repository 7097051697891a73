"""Thin Celery tasks for profile features; the work lives in services."""

from typing import Any

from celery import group, shared_task

from config.runs import delivered_before, delivery, retry_options
from config.tasking import RETRIES, child_options
from personalization.features import runs
from personalization.features import services as features
from personalization.features.models import FeatureRun


@shared_task(bind=True, name="tailor.compute_features", **RETRIES)
def compute_features(
    self, *, chunk_size: int = 2000, retry_of: int | None = None
) -> dict[str, Any]:
    """Compute population statistics once, then every visitor's features in chunks.

    On a worker the chunks go out as a group of `compute_features_chunk` tasks on this task's
    own queue, so that every worker consuming it shares them, under a `FeatureRun` that the
    chunk completing it finishes (a run whose worker is lost is started again, `config.runs`);
    run eagerly, they run inline and the summary counts visitors computed and skipped. Cost of
    dispatching: the statistics (see `features`), every visitor id in memory once (about 30 MB
    per million visitors) and visitors / chunk_size messages of chunk_size ids each.
    """
    started = delivered_before(FeatureRun, self.request)
    if started is not None:
        return {"run": started, "skipped": "this message was delivered before"}
    stats = features.population_stats()
    if self.request.is_eager:
        return features.features_compute_all(chunk_size=chunk_size, stats=stats)
    chunks = list(features.visitor_id_chunks(chunk_size=chunk_size))
    if not chunks:
        return {"chunks": 0, "visitors": 0}
    options = child_options(self.request)
    run = runs.feature_run_start(
        chunks=len(chunks), visitors=sum(map(len, chunks)), retry_of=retry_of,
        options={"chunk_size": chunk_size, "delivery": delivery(self.request), **options},
    )  # fmt: skip
    payload = stats.as_json()
    job = group(
        compute_features_chunk.s(visitor_ids=ids, stats=payload, run_id=run.pk, chunk=index)
        for index, ids in enumerate(chunks)
    )
    result = job.apply_async(**options)
    return {"run": run.pk, "chunks": len(chunks), "visitors": run.visitors, "group_id": result.id}


@shared_task(name="tailor.compute_features_chunk", **RETRIES)
def compute_features_chunk(
    *,
    visitor_ids: list[int],
    stats: dict[str, Any],
    run_id: int | None = None,
    chunk: int | None = None,
) -> dict[str, Any]:
    """Compute the features of one chunk of visitors against the run's statistics (idempotent)."""
    population = features.PopulationStats.from_json(stats)
    if run_id is None:
        return features.features_chunk_compute(visitor_ids=visitor_ids, stats=population)
    return runs.feature_run_chunk(
        run_id=run_id, visitor_ids=visitor_ids, stats=population, chunk=chunk
    )


def features_retry(run: FeatureRun) -> None:
    """Start a run whose worker was lost again, with the options it was started with."""
    compute_features.apply_async(**retry_options(run))

"""Thin Celery tasks for profile features; the work lives in services."""

from typing import Any

from celery import group, shared_task

from config.tasking import RETRIES, child_options
from personalization.features import services as features


@shared_task(bind=True, name="tailor.compute_features", **RETRIES)
def compute_features(self, *, chunk_size: int = 2000) -> dict[str, Any]:
    """Compute population statistics once, then every visitor's features in chunks.

    On a worker the chunks go out as a group of `compute_features_chunk` tasks on this task's
    own queue, so that every worker consuming it shares them; run eagerly, they run inline and
    the summary counts visitors computed and skipped. Cost of dispatching: the statistics (see
    `features`), every visitor id in memory once (about 30 MB per million visitors) and
    visitors / chunk_size messages of chunk_size ids each.
    """
    stats = features.population_stats()
    if self.request.is_eager:
        return features.features_compute_all(chunk_size=chunk_size, stats=stats)
    chunks = list(features.visitor_id_chunks(chunk_size=chunk_size))
    if not chunks:
        return {"chunks": 0, "visitors": 0}
    payload = stats.as_json()
    job = group(compute_features_chunk.s(visitor_ids=ids, stats=payload) for ids in chunks)
    result = job.apply_async(**child_options(self.request))
    return {"chunks": len(chunks), "visitors": sum(map(len, chunks)), "group_id": result.id}


@shared_task(name="tailor.compute_features_chunk", **RETRIES)
def compute_features_chunk(*, visitor_ids: list[int], stats: dict[str, Any]) -> dict[str, int]:
    """Compute the features of one chunk of visitors against the run's statistics (idempotent)."""
    return features.features_chunk_compute(
        visitor_ids=visitor_ids, stats=features.PopulationStats.from_json(stats)
    )

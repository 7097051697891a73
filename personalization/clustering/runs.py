"""Clustering runs: fit on a sample, assign every visitor chunk by chunk, then make it current.

A run goes pending → fitting → assigning → done (or failed):

1. `cluster_run_fit` draws a random sample of at most `sample_size` visitor ids, loads their
   features and traits (visitors without personalization consent or without computed features
   are left out), fits the encoder and one model per k of the range, stores the best with its
   metrics per k, its clusters (readable centroid, generated description) and a 2-D projection
   of the sample. Cost: the sample's rows (`sample_size` x ~1 KB while loading, x ~100 bytes as
   a matrix) and the fits described in `personalization.clustering.model`.
2. `cluster_memberships_assign` (one task per chunk, on any worker) predicts the cluster of a
   chunk of visitors and writes their memberships: 3 reads and 2 writes per chunk of C
   visitors, memory for C rows; time O(C x k x d).
3. `cluster_run_finish` counts sizes (one GROUP BY), makes the run current, hands names and
   segments over from the previous current run (see `segments`), refreshes cluster segments
   and deletes other runs' memberships in batches: O(visitors) rows written, memory
   O(largest segment's ids).

Only the current run's memberships are kept (and those of a run being computed), so storage is
one row per clustered visitor whatever the number of runs. Runs and clusters stay as history.
"""

import logging
import math
import pickle
import random
import time
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TextIO

import numpy as np
from django.db import transaction
from django.db.models import Count
from django.utils import timezone
from tqdm import tqdm

from config import metrics
from config.runs import Heartbeat, attempt_of, chunk_finish
from consent.purposes import PERSONALIZATION
from consent.selectors import consent_states
from personalization.clustering.describe import clusters_describe, projection_2d
from personalization.clustering.features import NUMERIC, FeatureFrame
from personalization.clustering.model import (
    ALGORITHMS,
    DEFAULT_K_RANGE,
    ClusteringError,
    FittedClusters,
    clusters_fit,
)
from personalization.clustering.models import Cluster, ClusterMembership, ClusterRun
from personalization.clustering.segments import (
    ClusterError,
    carry_over,
    cluster_segments_sync,
)
from personalization.clustering.selectors import clusters_cache_bump
from personalization.features.models import VisitorFeatures
from personalization.features.services import visitor_id_chunks
from personalization.segments.services import BATCH

logger = logging.getLogger(__name__)

SAMPLE_SIZE = 50_000
MINIBATCH_ABOVE = 20_000  # "auto" picks mini-batch k-means for samples larger than this
FITTED_FIELDS = [
    "algorithm", "k", "metrics", "sample_size", "feature_names", "projection", "model", "status",
    "chunks_total", "parameters",
]  # fmt: skip


def cluster_run_create(
    *,
    algorithm: str = "auto",
    k: int | None = None,
    k_range: tuple[int, int] = DEFAULT_K_RANGE,
    chunk_size: int = 2000,
    sample_size: int = SAMPLE_SIZE,
    seed: int = 0,
    options: dict[str, Any] | None = None,
    retry_of: int | None = None,
) -> ClusterRun:
    """A pending run with validated parameters.

    `options` are what the dispatching task was asked (kept to start the run again if its
    worker is lost, `config.runs`), `retry_of` the run this one starts again.
    """
    if algorithm not in (*ALGORITHMS, "auto"):
        raise ClusterError(
            f"algorithm {algorithm!r}: one of auto, {', '.join(ALGORITHMS)}",
            {"algorithm": [f"one of auto, {', '.join(ALGORITHMS)}"]},
        )
    if k is not None:
        if not 2 <= k <= 50:
            raise ClusterError(f"k={k}: between 2 and 50", {"k": ["between 2 and 50"]})
        k_range = (k, k)
    if sample_size < 10:
        raise ClusterError("sample size: at least 10", {"sample_size": ["at least 10"]})
    attempt, retry_of = attempt_of(ClusterRun, retry_of)
    return ClusterRun.objects.create(
        attempt=attempt, retry_of_id=retry_of, task_options=options or {},
        algorithm=algorithm if algorithm != "auto" else "kmeans",
        parameters={
            "algorithm": algorithm, "k_range": list(k_range), "chunk_size": chunk_size,
            "sample_size": sample_size, "seed": seed,
        },
    )  # fmt: skip


def cluster_frame_load(visitor_ids: Iterable[int]) -> tuple[FeatureFrame, int]:
    """Features and traits of these visitors who allow personalization; and how many did not."""
    ids = sorted(set(visitor_ids))
    rows = list(
        VisitorFeatures.objects.filter(visitor_id__in=ids, visitor__merged_into__isnull=True)
        .order_by("visitor_id")
        .values_list("visitor_id", *NUMERIC, "lifecycle", "tag_affinities", "visitor__traits")
    )
    states = consent_states([row[0] for row in rows]) if rows else {}
    allowed = [row for row in rows if states[row[0]].get(PERSONALIZATION, False)]
    width = len(NUMERIC)
    frame = FeatureFrame(
        ids=np.array([row[0] for row in allowed], dtype=np.int64),
        numeric=np.array(
            [[np.nan if v is None else float(v) for v in row[1 : 1 + width]] for row in allowed],
            dtype=np.float64,
        ).reshape(len(allowed), width),
        lifecycle=[row[1 + width] or "new" for row in allowed],
        affinities=[row[2 + width] if isinstance(row[2 + width], dict) else {} for row in allowed],
        traits=[row[3 + width] if isinstance(row[3 + width], dict) else {} for row in allowed],
    )
    return frame, len(rows) - len(allowed)


def _chunks(values: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def cluster_run_fit(*, run: ClusterRun, visitor_ids: list[int]) -> ClusterRun:
    """Fit the run's model on a sample of these visitors and store it with its clusters."""
    try:
        with Heartbeat(ClusterRun, run.pk):
            return _fit(run=run, visitor_ids=visitor_ids)
    except ClusterError:
        raise  # the run was marked failed with the reason
    except BaseException as exc:  # the run must not look as if it were still fitting; re-raised
        cluster_run_fail(run=run, error=f"{type(exc).__name__}: {exc}")
        raise


def _fit(*, run: ClusterRun, visitor_ids: list[int]) -> ClusterRun:
    parameters = run.parameters
    run.status, run.started_at = ClusterRun.Status.FITTING, timezone.now()
    run.save(update_fields=["status", "started_at"])
    started = time.perf_counter()
    rng = random.Random(parameters.get("seed", 0))  # noqa: S311 - sampling, not secrets
    sample_ids = sorted(rng.sample(visitor_ids, min(len(visitor_ids), parameters["sample_size"])))
    frame = FeatureFrame.concat(
        cluster_frame_load(chunk)[0] for chunk in _chunks(sample_ids, parameters["chunk_size"])
    )
    algorithm = parameters["algorithm"]
    if algorithm == "auto":
        algorithm = "minibatch" if len(frame) > MINIBATCH_ABOVE else "kmeans"
    try:
        model, matrix = clusters_fit(
            frame, algorithm=algorithm, k_range=tuple(parameters["k_range"]),
            seed=parameters.get("seed", 0),
        )  # fmt: skip
    except ClusteringError as exc:
        cluster_run_fail(run=run, error=str(exc))
        raise ClusterError(str(exc)) from exc
    labels = model.predict_matrix(matrix)
    described = clusters_describe(frame, matrix, labels, model.encoder, model.k)
    with transaction.atomic():
        run.algorithm = algorithm
        run.k = model.k
        run.metrics = [score.as_dict() for score in model.scores]
        run.sample_size = len(frame)
        run.feature_names = model.encoder.feature_names
        run.projection = projection_2d(matrix, labels, seed=parameters.get("seed", 0))
        run.model = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        run.status = ClusterRun.Status.ASSIGNING
        run.chunks_total = math.ceil(len(visitor_ids) / parameters["chunk_size"])
        run.parameters = {**parameters, "fit_seconds": round(time.perf_counter() - started, 3)}
        run.save(update_fields=FITTED_FIELDS)
        Cluster.objects.bulk_create(
            Cluster(
                run=run,
                number=number,
                centroid=about["centroid"],
                description=about["description"][:300],
            )
            for number, about in enumerate(described)
        )
    return run


def cluster_run_fail(*, run: ClusterRun, error: str) -> None:
    """Mark the run failed with the reason (idempotent)."""
    cluster_run_fail_by_id(run_id=run.pk, error=error)
    run.refresh_from_db()


def cluster_run_fail_by_id(*, run_id: int, error: str) -> None:
    """Mark the run failed with the reason, unless it finished (idempotent)."""
    failed = (
        ClusterRun.objects.filter(pk=run_id)
        .exclude(status__in=[ClusterRun.Status.DONE, ClusterRun.Status.FAILED])
        .update(status=ClusterRun.Status.FAILED, error=error[:2000], finished_at=timezone.now())
    )
    if failed:
        metrics.run_ended("clusters", "failed")


@transaction.atomic
def cluster_run_finish_if_complete(*, run_id: int) -> dict[str, Any] | None:
    """Finish the run when every chunk has been assigned and nobody finished it yet."""
    run = ClusterRun.objects.select_for_update().get(pk=run_id)
    if run.status != ClusterRun.Status.ASSIGNING or run.chunks_done < run.chunks_total:
        return None
    return cluster_run_finish(run_id=run_id)


_models: dict[int, FittedClusters] = {}


def cluster_model(run_id: int) -> FittedClusters:
    """The run's fitted model, unpickled once per process (the last few runs are kept)."""
    if run_id not in _models:
        raw = ClusterRun.objects.filter(pk=run_id).values_list("model", flat=True).first()
        if raw is None:
            raise ClusterError(f"clustering run {run_id} has no fitted model")
        while len(_models) >= 2:
            _models.pop(next(iter(_models)))
        # Written only by Tailor's own workers in cluster_run_fit: not untrusted input.
        _models[run_id] = pickle.loads(bytes(raw))  # noqa: S301
    return _models[run_id]


def cluster_memberships_assign(
    *, run_id: int, visitor_ids: Iterable[int], chunk: int | None = None
) -> dict[str, Any]:
    """Assign a chunk of visitors to the run's clusters (idempotent); returns counts.

    A chunk counts once in the run's progress however often it runs (`chunk` is its index);
    a chunk of a run that failed meanwhile (its worker was lost) does nothing.
    """
    status = ClusterRun.objects.filter(pk=run_id).values_list("status", flat=True).first()
    if status != ClusterRun.Status.ASSIGNING:
        return {"assigned": 0, "left_out": 0, "skipped": status}
    with Heartbeat(ClusterRun, run_id):
        return _assign(run_id, sorted(set(visitor_ids)), chunk)


def _assign(run_id: int, ids: list[int], chunk: int | None) -> dict[str, Any]:
    model = cluster_model(run_id)
    frame, _ = cluster_frame_load(ids)
    left_out = len(ids) - len(frame)  # no personalization consent, no features yet, or merged
    labels = model.predict(frame)
    clusters = dict(Cluster.objects.filter(run_id=run_id).values_list("number", "pk"))
    now = timezone.now()
    with transaction.atomic():
        ClusterMembership.objects.filter(run_id=run_id, visitor_id__in=ids).delete()
        ClusterMembership.objects.bulk_create(
            ClusterMembership(
                run_id=run_id, cluster_id=clusters[int(label)], visitor_id=int(pk), assigned_at=now
            )
            for pk, label in zip(frame.ids.tolist(), labels.tolist(), strict=True)
        )
        chunk_finish(ClusterRun, run_id, chunk, visitors=len(frame), left_out=left_out)
    return {"assigned": len(frame), "left_out": left_out}


def cluster_run_finish(*, run_id: int, now: datetime | None = None) -> dict[str, Any]:
    """Count sizes, make the run current, carry names and segments over, refresh segments."""
    now = now or timezone.now()
    with transaction.atomic():
        run = ClusterRun.objects.select_for_update().get(pk=run_id)
        if run.status == ClusterRun.Status.DONE:  # a redelivered finish: nothing left to do
            return {"run": run.pk, "k": run.k, "visitors": run.visitors, "already_done": True}
        if run.status == ClusterRun.Status.FAILED:  # its worker was lost; it started again
            return {"run": run.pk, "k": run.k, "visitors": run.visitors, "failed": True}
        if run.status != ClusterRun.Status.ASSIGNING:
            raise ClusterError(f"clustering run {run_id} is {run.get_status_display().lower()}")
        sizes = dict(
            ClusterMembership.objects.filter(run_id=run_id)
            .values("cluster_id")
            .annotate(size=Count("pk"))
            .values_list("cluster_id", "size")
        )
        clusters = list(Cluster.objects.filter(run_id=run_id))
        for cluster in clusters:
            cluster.size = sizes.get(cluster.pk, 0)
        Cluster.objects.bulk_update(clusters, ["size"])
        previous = ClusterRun.objects.filter(is_current=True).exclude(pk=run_id).first()
        if previous is not None:
            previous.is_current = False
            previous.save(update_fields=["is_current"])
            carry_over(previous=previous, clusters=clusters)
        run.visitors = sum(sizes.values())
        run.status = ClusterRun.Status.DONE
        run.is_current = True
        run.finished_at = now
        run.duration_seconds = (now - run.started_at).total_seconds() if run.started_at else None
        run.save()
        segments = cluster_segments_sync(run=run, now=now)
        clusters_cache_bump()
    metrics.run_ended("clusters", "finished", run.duration_seconds)
    deleted = _older_memberships_delete(keep=run_id)
    return {
        "run": run.pk, "k": run.k, "algorithm": run.algorithm, "visitors": run.visitors,
        "left_out": run.left_out, "sizes": {c.number: c.size for c in clusters},
        "descriptions": {c.number: c.description for c in clusters}, "segments": segments,
        "memberships_deleted": deleted,
    }  # fmt: skip


def _older_memberships_delete(*, keep: int) -> int:
    """Delete memberships of every run but `keep` in batches (runs still computing stay)."""
    deleted = 0
    older = ClusterMembership.objects.exclude(run_id=keep).exclude(
        run__status__in=[ClusterRun.Status.FITTING, ClusterRun.Status.ASSIGNING]
    )
    while True:
        batch = list(older.values_list("pk", flat=True)[:BATCH])
        if not batch:
            return deleted
        deleted += ClusterMembership.objects.filter(pk__in=batch).delete()[0]


def clusters_compute_all(
    *,
    chunk_size: int = 2000,
    algorithm: str = "auto",
    k: int | None = None,
    k_range: tuple[int, int] = DEFAULT_K_RANGE,
    sample_size: int = SAMPLE_SIZE,
    seed: int = 0,
    progress: TextIO | None = None,
    options: dict[str, Any] | None = None,
    retry_of: int | None = None,
) -> dict[str, Any]:
    """Fit, assign every visitor chunk by chunk and finish, all in this process."""
    started = time.perf_counter()
    run = cluster_run_create(
        algorithm=algorithm, k=k, k_range=k_range, chunk_size=chunk_size,
        sample_size=sample_size, seed=seed, options=options, retry_of=retry_of,
    )  # fmt: skip
    try:
        ids = [pk for chunk in visitor_id_chunks(chunk_size=chunk_size) for pk in chunk]
        cluster_run_fit(run=run, visitor_ids=ids)
        bar = tqdm(
            total=run.chunks_total, file=progress, disable=None if progress else True,
            unit="chunk", desc="clusters", dynamic_ncols=True,
        )  # fmt: skip
        with bar:
            for index, chunk in enumerate(_chunks(ids, chunk_size)):
                cluster_memberships_assign(run_id=run.pk, visitor_ids=chunk, chunk=index)
                bar.update(1)
        summary = cluster_run_finish(run_id=run.pk)
    except ClusterError:
        raise  # the run was marked failed with the reason
    except BaseException as exc:  # the run must not stay "assigning" forever; re-raised
        cluster_run_fail(run=run, error=f"{type(exc).__name__}: {exc}")
        raise
    return {
        **summary,
        "chunks": run.chunks_total,
        "seconds": round(time.perf_counter() - started, 3),
    }

"""Model runs of the recommenders: train once, score visitors in chunks, then finish.

1. `recommendation_run_train`: load the interaction matrix of (a seeded sample of at most
   `TAILOR_RECOMMENDATION_TRAINING_VISITORS`) visitors, evaluate (tuning on a validation
   split, measuring on a test split), fit the hybrid on every loaded interaction with the
   tuned parameters, store it on the run (compressed arrays), the cold-start lists (global and
   per segment popularity) and each published item's similar items. Cost: the ids of every
   visitor with history (8 bytes each), the sample's matrix (see `algorithms.interactions`),
   the tuning grid (each point one fit), one final fit: memory is bounded by the sample, not
   by the number of visitors. Every visitor with history is scored, sampled or not.
2. `recommendations_chunk_score` (module `scoring`) for each chunk of visitors (any worker):
   their rows of the matrix, the hybrid's scores, post-filters (seen, unpublished, locale, MMR
   diversity), the top `TAILOR_RECOMMENDATIONS_STORED` rows written. Cost: 4 queries plus
   consent, chunk x items floats of memory, whatever the number of visitors overall.
3. `recommendation_run_finish`: the run becomes current when its test nDCG is not worse than
   the current run's (or when forced), older runs' lists are deleted, and so are the lists
   of visitors who withdrew personalization consent since (serving checks consent anyway).

Only visitors that allow personalization are trained on and get lists; merged profiles
neither. Visitors without history get nothing stored: serving falls back to their tag
affinities or their segments' popular items.

Runs hold a lease (`config.runs`): training and each chunk keep the run's heartbeat fresh, a
chunk counts once however often it runs, and a run whose worker was lost is failed by the
reaper and started again (`recommendations_retry` in `tasks`).
"""

import logging
import math
import time
from datetime import datetime
from typing import Any, TextIO

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from config import metrics
from config.runs import Heartbeat, attempt_of, scored_run_finish
from content.selectors import items_published
from personalization.recommendations.algorithms.base import Catalogue
from personalization.recommendations.algorithms.content_based import item_texts
from personalization.recommendations.algorithms.evaluation import EvaluationError, Report, evaluate
from personalization.recommendations.algorithms.hybrid import (
    DEFAULT_PARAMETERS,
    DEFAULT_WEIGHTS,
    HYBRID,
    Hybrid,
    collaborative,
    hybrid_dump,
)
from personalization.recommendations.algorithms.interactions import (
    Interactions,
    consenting,
    interaction_visitor_ids,
    interactions_load,
)
from personalization.recommendations.algorithms.popularity import segment_popularity
from personalization.recommendations.models import ModelRun, Recommendation, SimilarItem
from personalization.recommendations.scoring import recommendations_chunk_score
from personalization.recommendations.selectors import RECOMMENDATIONS_VERSION
from personalization.segments.models import SegmentMembership
from personalization.visitors.snapshots import snapshots_invalidate_all

logger = logging.getLogger(__name__)

SIMILAR_STORED = 20
COLD_START_STORED = 20
MIN_TEST_VISITORS = 50
TRAINED_FIELDS = [
    "parameters", "metrics", "score", "algorithms", "artifact", "popular", "similar_count",
    "visitors_count", "items_count", "interactions_count", "status",
]  # fmt: skip


def _catalogue(data: Interactions) -> Catalogue:
    return Catalogue(item_ids=data.item_ids, texts=item_texts(data.item_ids))


def recommendations_evaluate(
    *,
    split: str = "random",
    k: int = 10,
    seed: int = 42,
    force: bool = False,
    progress: TextIO | None = None,
) -> tuple[ModelRun, Report]:
    """Evaluate every algorithm side by side and store the figures on an evaluation run."""
    started, started_at = time.perf_counter(), timezone.now()
    data = interactions_load()
    report = evaluate(
        data, _catalogue(data), split=split, k=k, seed=seed,
        min_visitors=1 if force else MIN_TEST_VISITORS, progress=progress,
    )  # fmt: skip
    run = ModelRun.objects.create(
        kind=ModelRun.Kind.EVALUATION, algorithm=HYBRID, algorithms=sorted(report.metrics),
        parameters=_parameters(report), metrics=report.metrics,
        score=report.metrics.get(HYBRID, {}).get("ndcg"), status=ModelRun.Status.FINISHED,
        started_at=started_at, finished_at=timezone.now(),
        duration_seconds=round(time.perf_counter() - started, 3), visitors_count=report.visitors,
        items_count=report.items, interactions_count=report.interactions,
    )  # fmt: skip
    return run, report


def _parameters(report: Report) -> dict[str, Any]:
    return {
        "split": report.split, "k": report.k, "seed": report.seed,
        "test_visitors": report.test_visitors, "algorithms": report.parameters,
        "weights": report.weights, "validation_ndcg": report.validation,
    }  # fmt: skip


def recommendation_run_train(
    *,
    now: datetime | None = None,
    seed: int = 42,
    k: int = 10,
    progress: TextIO | None = None,
    options: dict[str, Any] | None = None,
    retry_of: int | None = None,
) -> tuple[ModelRun, list[int]]:
    """Create a run, evaluate and fit the hybrid; returns it and the visitor ids to score.

    `options` are what the dispatching task was asked (kept to start the run again if its
    worker is lost), `retry_of` the run this one starts again. The run's heartbeat is kept
    fresh while it trains (`config.runs`).
    """
    now = now or timezone.now()
    attempt, retry_of = attempt_of(ModelRun, retry_of)
    run = ModelRun.objects.create(
        kind=ModelRun.Kind.COMPUTE, status=ModelRun.Status.TRAINING, attempt=attempt,
        retry_of_id=retry_of, task_options=options or {},
    )  # fmt: skip
    try:
        with Heartbeat(ModelRun, run.pk):
            scored = _train(run, now=now, seed=seed, k=k, progress=progress)
    except Exception as error:  # recorded on the run for the admin, then raised as it was
        recommendation_run_fail(run_id=run.pk, error=repr(error))
        raise
    return run, [int(pk) for pk in scored]


def recommendation_training_sample(
    visitor_ids: np.ndarray, *, limit: int, seed: int
) -> np.ndarray | None:
    """A seeded sample of at most `limit` of `visitor_ids` (sorted), None when all fit."""
    if len(visitor_ids) <= limit:
        return None
    picked = np.random.default_rng(seed).choice(len(visitor_ids), size=limit, replace=False)
    return np.sort(np.asarray(visitor_ids)[picked])


def hybrid_train(
    data: Interactions, catalogue: Catalogue, *, seed: int, k: int, progress: TextIO | None
) -> tuple[Hybrid, Report | None, dict[str, Any]]:
    """Tune and evaluate on `data`, then fit the hybrid on all of it with what was tuned.

    Returns the hybrid, the evaluation (None when there was too little data: defaults are
    used) and the parameters to keep on the run.
    """
    weights, parameters = dict(DEFAULT_WEIGHTS), dict(DEFAULT_PARAMETERS)
    if collaborative(len(data.item_ids)) != "ease":
        weights["als"] = weights.pop("ease")
    try:
        report = evaluate(
            data, catalogue, k=k, seed=seed, min_visitors=MIN_TEST_VISITORS, progress=progress
        )
    except EvaluationError as error:
        # Small sites still get recommendations, with default parameters and no score.
        hybrid = Hybrid(weights=weights, parameters=parameters).fit(data, catalogue)
        return hybrid, None, {"evaluation": f"skipped: {error}", "weights": weights}
    weights, parameters = report.weights or weights, {**parameters, **report.parameters}
    hybrid = Hybrid(weights=weights, parameters=parameters).fit(data, catalogue)
    return hybrid, report, _parameters(report)


def _train(
    run: ModelRun, *, now: datetime, seed: int, k: int, progress: TextIO | None
) -> list[int]:
    visitors = interaction_visitor_ids()
    limit = int(settings.TAILOR_RECOMMENDATION_TRAINING_VISITORS)
    sample = recommendation_training_sample(visitors, limit=limit, seed=seed)
    data = interactions_load(now=now, visitor_ids=None if sample is None else sample.tolist())
    catalogue = _catalogue(data)
    hybrid, report, run.parameters = hybrid_train(
        data, catalogue, seed=seed, k=k, progress=progress
    )
    run.parameters["training_visitors"] = int(data.matrix.shape[0])
    if report is not None:
        run.metrics = report.metrics
        run.score = report.metrics.get(HYBRID, {}).get("ndcg")
        run.algorithms = sorted(report.metrics)
    run.artifact = hybrid_dump(hybrid, data.item_ids)
    run.popular = _popular(data)
    run.similar_count = _similar_store(run, hybrid, data.item_ids, now)
    if sample is None:
        scored = data.visitor_ids[np.diff(data.matrix.indptr) > 0].tolist()
    else:
        scored = visitors.tolist()
    run.visitors_count, run.items_count = len(scored), len(data.item_ids)
    run.interactions_count = data.matrix.nnz
    run.status = ModelRun.Status.SCORING
    run.save(update_fields=TRAINED_FIELDS)
    return scored


def visitor_chunks(ids: list[int], chunk_size: int) -> list[list[int]]:
    """The run's visitor ids in chunks of `chunk_size`."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    return [ids[start : start + chunk_size] for start in range(0, len(ids), chunk_size)]


def _popular(data: Interactions) -> dict[str, Any]:
    counts = np.asarray((data.matrix > 0).sum(axis=0)).ravel()
    best = np.argsort(-counts, kind="stable")[:COLD_START_STORED]
    memberships: dict[str, list[int]] = {}
    # Every active segment's members, streamed: `segment_popularity` skips visitors outside
    # the matrix (no consent, no history), which an IN list of a million ids would not spare.
    rows = SegmentMembership.objects.filter(segment__is_active=True).values_list(
        "segment__key", "visitor_id"
    )
    for key, visitor_id in rows.iterator(chunk_size=10_000):
        memberships.setdefault(key, []).append(visitor_id)
    segments = segment_popularity(
        data, {key: np.asarray(ids) for key, ids in memberships.items()}, k=COLD_START_STORED
    )
    return {
        "global": [int(data.item_ids[i]) for i in best if counts[i] > 0],
        "segments": segments,
    }


@transaction.atomic
def _similar_store(run: ModelRun, hybrid: Hybrid, item_ids: np.ndarray, now: datetime) -> int:
    similarity = hybrid.similarity()
    if similarity is None or not len(item_ids):
        return 0
    similarity = similarity.tocsr()
    published = set(items_published(now=now).values_list("pk", flat=True))
    rows = []
    for row, item_id in enumerate(item_ids.tolist()):
        start, stop = similarity.indptr[row], similarity.indptr[row + 1]
        columns, values = similarity.indices[start:stop], similarity.data[start:stop]
        order = np.lexsort((columns, -values))
        rank = 0
        for position in order:
            other = int(item_ids[columns[position]])
            if values[position] <= 0 or other == item_id or other not in published:
                continue
            rank += 1
            rows.append(
                SimilarItem(
                    run=run, item_id=item_id, similar_id=other, rank=rank,
                    score=round(float(values[position]), 6), algorithm=HYBRID,
                )
            )  # fmt: skip
            if rank >= SIMILAR_STORED:
                break
    SimilarItem.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


@transaction.atomic
def recommendation_run_finish(*, run_id: int, force: bool = False) -> ModelRun:
    """Mark the run finished; it becomes current unless it scores worse than the current one."""
    run = ModelRun.objects.select_for_update().get(pk=run_id)
    if run.status == ModelRun.Status.FAILED:
        return run  # failed (its worker was lost, it was started again): nothing to do
    scored_run_finish(run, kind="recommendations", force=force, make_current=model_run_make_current)
    recommendations_without_consent_delete()
    return run


def recommendation_run_fail(*, run_id: int, error: str) -> None:
    """Mark an unfinished run failed; a finished run keeps its state."""
    failed = (
        ModelRun.objects.filter(pk=run_id)
        .exclude(status__in=[ModelRun.Status.FINISHED, ModelRun.Status.FAILED])
        .update(status=ModelRun.Status.FAILED, error=error, finished_at=timezone.now())
    )
    if failed:
        metrics.run_ended("recommendations", "failed")


def recommendations_without_consent_delete() -> int:
    """Delete the lists, in every run kept, of visitors who no longer allow personalization.

    Runs at the end of each run, as features are removed at the next `compute_features`.
    Cost: one query for the listed visitors, their consent in batches, one delete.
    """
    listed = Recommendation.objects.values_list("visitor_id", flat=True).distinct()
    ids = list(listed)
    refused = set(ids) - consenting(ids)
    if not refused:
        return 0
    return Recommendation.objects.filter(visitor_id__in=list(refused)).delete()[0]


@transaction.atomic
def model_run_make_current(*, run: ModelRun, forced: bool = True) -> ModelRun:
    """Serve this run's lists from now on; older runs' lists are deleted to bound storage."""
    if run.kind != ModelRun.Kind.COMPUTE or run.status != ModelRun.Status.FINISHED:
        raise ValueError(f"{run} has no finished lists to serve")
    ModelRun.objects.filter(is_current=True).exclude(pk=run.pk).update(is_current=False)
    ModelRun.objects.filter(pk=run.pk).update(is_current=True, forced=forced)
    run.is_current, run.forced = True, forced
    snapshots_invalidate_all()  # snapshots hold each visitor's list
    RECOMMENDATIONS_VERSION.bump_on_write()  # similar items remembered by processes
    keep = [run.pk, *ModelRun.objects.filter(kind=ModelRun.Kind.COMPUTE).exclude(pk=run.pk)
            .order_by("-started_at").values_list("pk", flat=True)[:1]]  # fmt: skip
    Recommendation.objects.exclude(run_id__in=keep).delete()
    SimilarItem.objects.exclude(run_id__in=keep).delete()
    return run


def recommendations_compute_all(
    *,
    chunk_size: int = 2000,
    force: bool = False,
    now: datetime | None = None,
    progress: TextIO | None = None,
    options: dict[str, Any] | None = None,
    retry_of: int | None = None,
) -> dict[str, Any]:
    """Train, score every visitor with history chunk by chunk here, then finish; a summary."""
    started = time.perf_counter()
    run, ids = recommendation_run_train(
        now=now, progress=progress, options=options, retry_of=retry_of
    )
    chunks = visitor_chunks(ids, chunk_size)
    ModelRun.objects.filter(pk=run.pk).update(chunks_total=len(chunks))
    bar = tqdm(
        total=math.ceil(run.visitors_count / chunk_size), file=progress,
        disable=None if progress else True, unit="chunk", desc="recommendations",
        dynamic_ncols=True,
    )  # fmt: skip
    with bar:
        for index, ids in enumerate(chunks):
            recommendations_chunk_score(run_id=run.pk, visitor_ids=ids, now=now, chunk=index)
            bar.update(1)
    run = recommendation_run_finish(run_id=run.pk, force=force)
    return run_summary(run) | {"seconds": round(time.perf_counter() - started, 3)}


def run_summary(run: ModelRun) -> dict[str, Any]:
    run.refresh_from_db()
    return {
        "run": run.pk, "current": run.is_current, "score": run.score,
        "visitors": run.visitors_count, "recommendations": run.recommendations_count,
        "similar": run.similar_count, "chunks": run.chunks_done, "metrics": run.metrics,
    }  # fmt: skip

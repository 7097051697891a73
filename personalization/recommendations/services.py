"""Model runs of the recommenders: train once, score visitors in chunks, then finish.

1. `recommendation_run_train`: load the interaction matrix, evaluate (tuning on a validation
   split, measuring on a test split), fit the hybrid on every interaction with the tuned
   parameters, store it on the run (compressed arrays), the cold-start lists (global and per
   segment popularity) and each published item's similar items. Cost: the matrix (see
   `algorithms.interactions`), the tuning grid (each point one fit), one final fit.
2. `recommendations_chunk_score` for each chunk of visitors (any worker): their rows of the
   matrix, the hybrid's scores, post-filters (seen, unpublished, locale, MMR diversity), the
   top `TAILOR_RECOMMENDATIONS_STORED` rows written. Cost: 4 queries plus consent, chunk x items
   floats of memory, whatever the number of visitors overall.
3. `recommendation_run_finish`: the run becomes current when its test nDCG is not worse than
   the current run's (or when forced), older runs' lists are deleted, and so are the lists
   of visitors who withdrew personalization consent since (serving checks consent anyway).

Only visitors that allow personalization are trained on and get lists; merged profiles
neither. Visitors without history get nothing stored: serving falls back to their tag
affinities or their segments' popular items.
"""

import logging
import math
import time
from datetime import datetime
from functools import lru_cache
from typing import Any, TextIO

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from tqdm import tqdm

from content.models import ContentItem
from content.selectors import items_published
from personalization.recommendations.algorithms.base import Catalogue
from personalization.recommendations.algorithms.content_based import item_texts
from personalization.recommendations.algorithms.evaluation import EvaluationError, Report, evaluate
from personalization.recommendations.algorithms.filters import (
    exclude_items,
    exclude_seen,
    locale_allowed,
    mmr,
    top_k,
)
from personalization.recommendations.algorithms.hybrid import (
    DEFAULT_PARAMETERS,
    DEFAULT_WEIGHTS,
    HYBRID,
    Hybrid,
    collaborative,
    hybrid_dump,
    hybrid_load,
)
from personalization.recommendations.algorithms.interactions import (
    Interactions,
    consenting,
    interactions_load,
)
from personalization.recommendations.algorithms.popularity import segment_popularity
from personalization.recommendations.models import ModelRun, Recommendation, SimilarItem
from personalization.segments.models import SegmentMembership
from personalization.visitors.models import Visitor

logger = logging.getLogger(__name__)

SIMILAR_STORED = 20
COLD_START_STORED = 20
MMR_TRADE_OFF = 0.9  # 1 keeps the model's ranking; lower spreads lists over more subjects
MIN_TEST_VISITORS = 50


def _stored() -> int:
    return settings.TAILOR_RECOMMENDATIONS_STORED


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
    started = time.perf_counter()
    data = interactions_load()
    report = evaluate(
        data, _catalogue(data), split=split, k=k, seed=seed,
        min_visitors=1 if force else MIN_TEST_VISITORS, progress=progress,
    )  # fmt: skip
    run = ModelRun.objects.create(
        kind=ModelRun.Kind.EVALUATION, algorithm=HYBRID, algorithms=sorted(report.metrics),
        parameters=_parameters(report), metrics=report.metrics,
        score=report.metrics.get(HYBRID, {}).get("ndcg"), status=ModelRun.Status.FINISHED,
        finished_at=timezone.now(), duration_seconds=round(time.perf_counter() - started, 3),
        visitors_count=report.visitors, items_count=report.items,
        interactions_count=report.interactions,
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
) -> tuple[ModelRun, list[int]]:
    """Create a run, evaluate and fit the hybrid; returns it and the visitor ids to score."""
    now = now or timezone.now()
    run = ModelRun.objects.create(kind=ModelRun.Kind.COMPUTE, status=ModelRun.Status.TRAINING)
    try:
        data = interactions_load(now=now)
        catalogue = _catalogue(data)
        weights, parameters = dict(DEFAULT_WEIGHTS), dict(DEFAULT_PARAMETERS)
        lead = collaborative(len(data.item_ids))
        if lead != "ease":
            weights["als"] = weights.pop("ease")
        try:
            report = evaluate(
                data, catalogue, k=k, seed=seed, min_visitors=MIN_TEST_VISITORS,
                progress=progress,
            )  # fmt: skip
        except EvaluationError as error:
            # Small sites still get recommendations, with default parameters and no score.
            run.parameters = {"evaluation": f"skipped: {error}", "weights": weights}
        else:
            weights, parameters = report.weights or weights, {**parameters, **report.parameters}
            run.parameters = _parameters(report)
            run.metrics = report.metrics
            run.score = report.metrics.get(HYBRID, {}).get("ndcg")
            run.algorithms = sorted(report.metrics)
        hybrid = Hybrid(weights=weights, parameters=parameters).fit(data, catalogue)
        run.artifact = hybrid_dump(hybrid, data.item_ids)
        run.popular = _popular(data)
        run.similar_count = _similar_store(run, hybrid, data.item_ids, now)
        scored = data.visitor_ids[np.diff(data.matrix.indptr) > 0].tolist()
        run.visitors_count, run.items_count = len(scored), len(data.item_ids)
        run.interactions_count = data.matrix.nnz
        run.status = ModelRun.Status.SCORING
        run.save()
    except Exception as error:  # recorded on the run for the admin, then raised as it was
        recommendation_run_fail(run_id=run.pk, error=repr(error))
        raise
    return run, [int(pk) for pk in scored]


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


@lru_cache(maxsize=2)
def _model(run_id: int) -> tuple[Hybrid, np.ndarray, np.ndarray, Any]:
    """The run's hybrid, item ids, item locales and item similarity (for MMR), once per
    process: a run's model never changes."""
    blob = ModelRun.objects.values_list("artifact", flat=True).get(pk=run_id)
    hybrid, item_ids = hybrid_load(bytes(blob))
    locales = dict(ContentItem.objects.filter(pk__in=item_ids.tolist()).values_list("pk", "locale"))
    similarity = hybrid.similarity() if MMR_TRADE_OFF < 1 else None
    return (
        hybrid, item_ids, np.asarray([locales.get(int(pk), "") for pk in item_ids], object),
        similarity,
    )  # fmt: skip


def recommendations_chunk_score(
    *, run_id: int, visitor_ids: list[int], now: datetime | None = None
) -> dict[str, int]:
    """Score one chunk of visitors with the run's hybrid and store their top lists (idempotent)."""
    now = now or timezone.now()
    hybrid, item_ids, locales, similarity = _model(run_id)
    data = interactions_load(visitor_ids=visitor_ids, item_ids=item_ids, now=now)
    published = set(items_published(now=now).values_list("pk", flat=True))
    allowed = np.array([int(pk) in published for pk in item_ids], bool)
    languages = dict(
        Visitor.objects.filter(pk__in=data.visitor_ids.tolist()).values_list(
            "pk", "traits__language"
        )
    )
    stored, wanted = _stored(), 3 * _stored()
    rows: list[Recommendation] = []
    for start in range(0, data.matrix.shape[0], 500):
        block = data.matrix[start : start + 500]
        scores = exclude_items(exclude_seen(hybrid.score(block), block), allowed)
        candidates, values = top_k(scores, wanted)
        for offset in range(block.shape[0]):
            visitor_id = int(data.visitor_ids[start + offset])
            language = languages.get(visitor_id)
            fits = locale_allowed(locales, language if isinstance(language, str) else "")
            keep = [(c, v) for c, v in zip(candidates[offset], values[offset], strict=True)
                    if c >= 0 and fits[c]]  # fmt: skip
            if not keep:
                continue
            columns = np.asarray([c for c, _ in keep])
            relevance = np.asarray([v for _, v in keep], np.float64)
            order = mmr(columns, relevance, similarity, k=stored, trade_off=MMR_TRADE_OFF)
            rows += [
                Recommendation(
                    run_id=run_id, visitor_id=visitor_id, item_id=int(item_ids[columns[p]]),
                    rank=rank, score=round(float(relevance[p]), 6), algorithm=HYBRID,
                )
                for rank, p in enumerate(order, start=1)
            ]  # fmt: skip
    with transaction.atomic():
        Recommendation.objects.filter(run_id=run_id, visitor_id__in=visitor_ids).delete()
        Recommendation.objects.bulk_create(rows, batch_size=2000)
        ModelRun.objects.filter(pk=run_id).update(
            visitors_done=F("visitors_done") + len(visitor_ids),
            chunks_done=F("chunks_done") + 1,
            recommendations_count=F("recommendations_count") + len(rows),
        )
    done, total = ModelRun.objects.values_list("chunks_done", "chunks_total").get(pk=run_id)
    return {"visitors": len(visitor_ids), "recommendations": len(rows), "last": done >= total}


@transaction.atomic
def recommendation_run_finish(*, run_id: int, force: bool = False) -> ModelRun:
    """Mark the run finished; it becomes current unless it scores worse than the current one."""
    run = ModelRun.objects.select_for_update().get(pk=run_id)
    run.status = ModelRun.Status.FINISHED
    run.finished_at = timezone.now()
    run.duration_seconds = round((run.finished_at - run.started_at).total_seconds(), 3)
    current = ModelRun.objects.filter(is_current=True).exclude(pk=run.pk).first()
    better = current is None or (
        run.score is not None and (current.score is None or run.score >= current.score)
    )
    run.save()
    if force or better:
        model_run_make_current(run=run, forced=force and not better)
    else:
        logger.info("Model run %s scored %s, worse than current %s", run.pk, run.score, current)
    recommendations_without_consent_delete()
    return run


def recommendation_run_fail(*, run_id: int, error: str) -> None:
    """Mark an unfinished run failed; a finished run keeps its state."""
    ModelRun.objects.filter(pk=run_id).exclude(status=ModelRun.Status.FINISHED).update(
        status=ModelRun.Status.FAILED, error=error, finished_at=timezone.now()
    )


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
) -> dict[str, Any]:
    """Train, score every visitor with history chunk by chunk here, then finish; a summary."""
    started = time.perf_counter()
    run, ids = recommendation_run_train(now=now, progress=progress)
    chunks = visitor_chunks(ids, chunk_size)
    ModelRun.objects.filter(pk=run.pk).update(chunks_total=len(chunks))
    bar = tqdm(
        total=math.ceil(run.visitors_count / chunk_size), file=progress,
        disable=None if progress else True, unit="chunk", desc="recommendations",
        dynamic_ncols=True,
    )  # fmt: skip
    with bar:
        for ids in chunks:
            recommendations_chunk_score(run_id=run.pk, visitor_ids=ids, now=now)
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

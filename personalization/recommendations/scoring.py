"""Scoring a chunk of a recommendation run's visitors with its stored model (any worker).

Cost of a chunk: 4 queries plus consent, chunk x items floats of memory, whatever the number
of visitors overall; the run's model is loaded once per process.
"""

from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.runs import Heartbeat, chunk_finish
from content.models import ContentItem
from content.selectors import items_published
from personalization.recommendations.algorithms.filters import (
    exclude_items,
    exclude_seen,
    locale_allowed,
    mmr,
    top_k,
)
from personalization.recommendations.algorithms.hybrid import HYBRID, Hybrid, hybrid_load
from personalization.recommendations.algorithms.interactions import interactions_load
from personalization.recommendations.models import ModelRun, Recommendation
from personalization.visitors.models import Visitor

MMR_TRADE_OFF = 0.9  # 1 keeps the model's ranking; lower spreads lists over more subjects


def _stored() -> int:
    return settings.TAILOR_RECOMMENDATIONS_STORED


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
    *, run_id: int, visitor_ids: list[int], now: datetime | None = None, chunk: int | None = None
) -> dict[str, Any]:
    """Score one chunk of visitors with the run's hybrid and store their top lists (idempotent).

    A chunk counts once in the run's progress however often it runs (`chunk` is its index);
    a chunk of a run that failed meanwhile (its worker was lost and the run started again)
    does nothing.
    """
    status = ModelRun.objects.filter(pk=run_id).values_list("status", flat=True).first()
    if status != ModelRun.Status.SCORING:
        return {"visitors": 0, "recommendations": 0, "last": False, "skipped": status}
    with Heartbeat(ModelRun, run_id):
        return _chunk_score(run_id, visitor_ids, now or timezone.now(), chunk)


def _chunk_score(
    run_id: int, visitor_ids: list[int], now: datetime, chunk: int | None
) -> dict[str, Any]:
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
        first, last = chunk_finish(
            ModelRun, run_id, chunk, visitors_done=len(visitor_ids),
            recommendations_count=len(rows),
        )  # fmt: skip
    return {"visitors": len(visitor_ids), "recommendations": len(rows), "last": first and last}

"""The visitor x item interaction matrix that every recommender learns from.

Each event with an item counts `TAILOR_EVENT_WEIGHTS[type]` (types not listed count 0), halved
every `TAILOR_RECOMMENDATION_HALF_LIFE_DAYS` of age; a visitor-item cell holds log(1 + the
sum), so that a hundred views do not drown one purchase. Only non-merged visitors that allow
personalization count (the consent check runs per batch of visitor ids).

Cost: one streamed query over the events with an item (optionally of some visitors only);
memory holds four numbers per event read (about 32 bytes), then three per distinct
visitor-item pair: about 1 GB at peak for 30 million events. Time grows with the events read.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.conf import settings
from django.utils import timezone
from scipy import sparse

from consent.selectors import consent_states
from personalization.models import Event

STREAM = 20_000
CONSENT_BATCH = 5_000
SECONDS_PER_DAY = 86_400.0


@dataclass
class Interactions:
    """Rows are visitors, columns items; `last` holds each cell's latest event (epoch seconds)."""

    matrix: sparse.csr_matrix  # float32 confidences
    last: sparse.csr_matrix  # float64 epoch seconds, the same sparsity pattern as `matrix`
    visitor_ids: np.ndarray  # row → Visitor pk
    item_ids: np.ndarray  # column → ContentItem pk
    now: float  # epoch seconds the decay was computed at

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def rows(self, positions: np.ndarray) -> "Interactions":
        """The same items, some visitors only."""
        return Interactions(
            matrix=self.matrix[positions],
            last=self.last[positions],
            visitor_ids=self.visitor_ids[positions],
            item_ids=self.item_ids,
            now=self.now,
        )


def consenting(visitor_ids: Iterable[int]) -> set[int]:
    """The visitors among `visitor_ids` that allow personalization now."""
    ids = list(visitor_ids)
    allowed: set[int] = set()
    for start in range(0, len(ids), CONSENT_BATCH):
        states = consent_states(ids[start : start + CONSENT_BATCH])
        allowed.update(pk for pk, state in states.items() if state.get("personalization"))
    return allowed


def from_triples(
    visitors: np.ndarray,
    items: np.ndarray,
    weights: np.ndarray,
    moments: np.ndarray,
    *,
    now: float,
    half_life_days: float,
    item_ids: np.ndarray | None = None,
) -> Interactions:
    """Aggregate (visitor, item, weight, epoch seconds) per event into an `Interactions`.

    With `item_ids`, columns follow it and events of other items are dropped.
    """
    ages = np.maximum(now - moments, 0.0) / SECONDS_PER_DAY
    decayed = weights * np.power(0.5, ages / half_life_days)
    if item_ids is None:
        item_ids = np.unique(items)
    known = np.isin(items, item_ids) & (decayed > 0)
    visitors, items, decayed, moments = (
        visitors[known], items[known], decayed[known], moments[known]
    )  # fmt: skip
    visitor_ids, rows = np.unique(visitors, return_inverse=True)
    order = np.argsort(item_ids)
    cols = order[np.searchsorted(item_ids, items, sorter=order)]
    shape = (len(visitor_ids), len(item_ids))
    summed = sparse.coo_matrix((decayed, (rows, cols)), shape=shape).tocsr()
    summed.sum_duplicates()
    # The latest moment per cell: newest first, so each key's first occurrence is its latest.
    keys = rows.astype(np.int64) * shape[1] + cols
    by_moment = np.argsort(moments, kind="stable")
    unique_keys, last_index = np.unique(keys[by_moment][::-1], return_index=True)
    last_moments = moments[by_moment][::-1][last_index]
    last = sparse.csr_matrix(
        (last_moments, (unique_keys // shape[1], unique_keys % shape[1])), shape=shape
    )
    last.sort_indices()
    summed.sort_indices()
    matrix = summed.astype(np.float32)
    matrix.data = np.log1p(matrix.data)
    return Interactions(
        matrix=matrix, last=last, visitor_ids=visitor_ids, item_ids=np.asarray(item_ids), now=now
    )


def interactions_load(
    *,
    visitor_ids: Sequence[int] | None = None,
    item_ids: np.ndarray | None = None,
    now: datetime | None = None,
    weights: dict[str, float] | None = None,
    half_life_days: float | None = None,
) -> Interactions:
    """The interaction matrix of consenting, non-merged visitors (of `visitor_ids` if given)."""
    now_seconds = (now or timezone.now()).timestamp()
    weights = weights if weights is not None else settings.TAILOR_EVENT_WEIGHTS
    half_life = half_life_days or settings.TAILOR_RECOMMENDATION_HALF_LIFE_DAYS
    counted = [kind for kind, weight in weights.items() if weight > 0]
    events = Event.objects.filter(
        item__isnull=False, type__in=counted, visitor__merged_into__isnull=True
    )
    if visitor_ids is not None:
        events = events.filter(visitor_id__in=list(visitor_ids))
    parts: dict[str, list[np.ndarray]] = {"v": [], "i": [], "w": [], "t": []}
    batch: list[tuple[int, int, str, datetime]] = []

    def flush() -> None:
        if batch:
            v, i, kind, moment = zip(*batch, strict=True)
            parts["v"].append(np.fromiter(v, np.int64, len(batch)))
            parts["i"].append(np.fromiter(i, np.int64, len(batch)))
            parts["w"].append(np.fromiter((weights[k] for k in kind), np.float64, len(batch)))
            parts["t"].append(np.fromiter((m.timestamp() for m in moment), np.float64, len(batch)))
            batch.clear()

    rows = events.values_list("visitor_id", "item_id", "type", "occurred_at")
    for row in rows.iterator(chunk_size=STREAM):
        batch.append(row)
        if len(batch) >= STREAM:
            flush()
    flush()
    if not parts["v"]:
        empty = np.zeros(0, np.int64)
        return from_triples(
            empty, empty, np.zeros(0), np.zeros(0), now=now_seconds, half_life_days=half_life,
            item_ids=item_ids if item_ids is not None else empty,
        )  # fmt: skip
    visitors = np.concatenate(parts["v"])
    allowed = consenting(np.unique(visitors).tolist())
    keep = np.isin(visitors, np.fromiter(allowed, np.int64, len(allowed)))
    return from_triples(
        visitors[keep], np.concatenate(parts["i"])[keep], np.concatenate(parts["w"])[keep],
        np.concatenate(parts["t"])[keep], now=now_seconds, half_life_days=half_life,
        item_ids=item_ids,
    )  # fmt: skip

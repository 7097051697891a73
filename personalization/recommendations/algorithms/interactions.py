"""The visitor x item interaction matrix that every recommender learns from.

Each event with an item counts `TAILOR_EVENT_WEIGHTS[type]` (types not listed count 0), halved
every `TAILOR_RECOMMENDATION_HALF_LIFE_DAYS` of age; a visitor-item cell holds log(1 + the
sum), so that a hundred views do not drown one purchase. Only non-merged visitors that allow
personalization count (the consent check runs per batch of visitor ids).

Cost: one streamed query over the events with an item, ordered by visitor (optionally of some
visitors only), and the consent of each visitor once; each batch of events is reduced to its
visitor-item pairs at once, so memory grows with the distinct pairs (about 40 bytes each: some
400 MB at peak for 10 million pairs), not with the events. Time grows with the events read.
"""

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from scipy import sparse

from consent.purposes import PERSONALIZATION
from consent.selectors import consent_states
from personalization.visitors.models import Event

STREAM = 20_000
VISITOR_BATCH = 10_000  # visitor ids per query when loading some visitors only
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
        allowed.update(pk for pk, state in states.items() if state.get(PERSONALIZATION))
    return allowed


def _aggregate(
    visitors: np.ndarray, items: np.ndarray, values: np.ndarray, moments: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One entry per (visitor, item): the values summed, the latest moment."""
    if not len(visitors):
        return visitors, items, values, moments
    keys = (visitors.astype(np.int64) << 32) | items.astype(np.int64)
    order = np.lexsort((moments, keys))  # by key, then oldest first
    keys, values, moments = keys[order], values[order], moments[order]
    starts = np.r_[0, np.flatnonzero(np.diff(keys)) + 1]
    ends = np.r_[starts[1:], len(keys)] - 1
    unique = keys[starts]
    return unique >> 32, unique & 0xFFFFFFFF, np.add.reduceat(values, starts), moments[ends]


def decayed_pairs(
    visitors: np.ndarray,
    items: np.ndarray,
    weights: np.ndarray,
    moments: np.ndarray,
    *,
    now: float,
    half_life_days: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Events (visitor, item, weight, epoch seconds) as decayed sums per (visitor, item)."""
    ages = np.maximum(now - moments, 0.0) / SECONDS_PER_DAY
    decayed = weights * np.power(0.5, ages / half_life_days)
    keep = decayed > 0
    return _aggregate(visitors[keep], items[keep], decayed[keep], moments[keep])


def from_pairs(
    visitors: np.ndarray,
    items: np.ndarray,
    values: np.ndarray,
    moments: np.ndarray,
    *,
    now: float,
    item_ids: np.ndarray | None = None,
) -> Interactions:
    """Build the matrices from (visitor, item) sums; with `item_ids`, columns follow it and
    other items are dropped. Pairs may repeat (they are summed again)."""
    visitors, items, values, moments = _aggregate(visitors, items, values, moments)
    item_ids = np.unique(items) if item_ids is None else np.asarray(item_ids, np.int64)
    order = np.argsort(item_ids)
    position = np.searchsorted(item_ids, items, sorter=order)
    known = position < len(item_ids)
    known[known] = item_ids[order[position[known]]] == items[known]
    visitors, values, moments = visitors[known], values[known], moments[known]
    cols = order[position[known]]
    visitor_ids, rows = np.unique(visitors, return_inverse=True)
    shape = (len(visitor_ids), len(item_ids))
    # Both matrices share one sparsity pattern in one order: evaluation pairs their data.
    by_cell = np.lexsort((cols, rows))
    rows, cols, values, moments = rows[by_cell], cols[by_cell], values[by_cell], moments[by_cell]
    indptr = np.r_[0, np.cumsum(np.bincount(rows, minlength=shape[0]))]
    matrix = sparse.csr_matrix((np.log1p(values).astype(np.float32), cols, indptr), shape=shape)
    last = sparse.csr_matrix((moments.astype(np.float64), cols, indptr), shape=shape)
    return Interactions(
        matrix=matrix, last=last, visitor_ids=visitor_ids, item_ids=item_ids, now=now
    )


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
    """Aggregate (visitor, item, weight, epoch seconds) per event into an `Interactions`."""
    pairs = decayed_pairs(visitors, items, weights, moments, now=now, half_life_days=half_life_days)
    return from_pairs(*pairs, now=now, item_ids=item_ids)


def _counted_events(weights: dict[str, float]) -> QuerySet[Event]:
    counted = [kind for kind, weight in weights.items() if weight > 0]
    return Event.objects.filter(
        item__isnull=False, type__in=counted, visitor__merged_into__isnull=True
    )


def _event_rows(
    events: QuerySet[Event], visitor_ids: Sequence[int] | None
) -> Iterator[tuple[int, int, str, datetime]]:
    """(visitor, item, type, moment) ordered by visitor; some visitors' in batches of ids."""
    columns = ("visitor_id", "item_id", "type", "occurred_at")
    if visitor_ids is None:
        yield from events.order_by("visitor_id").values_list(*columns).iterator(chunk_size=STREAM)
        return
    ids = sorted(set(visitor_ids))
    for start in range(0, len(ids), VISITOR_BATCH):
        batch = events.filter(visitor_id__in=ids[start : start + VISITOR_BATCH])
        yield from batch.order_by("visitor_id").values_list(*columns).iterator(chunk_size=STREAM)


def interaction_visitor_ids(*, weights: dict[str, float] | None = None) -> np.ndarray:
    """Sorted ids of the non-merged, consenting visitors with a counted event on an item.

    Cost: one streamed DISTINCT query and the consent of each visitor: memory is the ids
    (8 bytes each), not their events.
    """
    events = _counted_events(weights if weights is not None else settings.TAILOR_EVENT_WEIGHTS)
    ids = events.order_by("visitor_id").values_list("visitor_id", flat=True).distinct()
    found = list(ids.iterator(chunk_size=STREAM))
    return np.asarray(sorted(consenting(found)), np.int64)


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
    events = _counted_events(weights)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    allowed: dict[int, bool] = {}
    batch: list[tuple[int, int, str, datetime]] = []

    def flush() -> None:
        if not batch:
            return
        v, i, kind, moment = zip(*batch, strict=True)
        visitors = np.fromiter(v, np.int64, len(batch))
        fresh = [pk for pk in set(v) if pk not in allowed]
        if fresh:
            granted = consenting(fresh)
            allowed.update((pk, pk in granted) for pk in fresh)
        keep = np.fromiter((allowed[pk] for pk in v), bool, len(batch))
        pairs = decayed_pairs(
            visitors[keep],
            np.fromiter(i, np.int64, len(batch))[keep],
            np.fromiter((weights[k] for k in kind), np.float64, len(batch))[keep],
            np.fromiter((m.timestamp() for m in moment), np.float64, len(batch))[keep],
            now=now_seconds, half_life_days=half_life,
        )  # fmt: skip
        parts.append(pairs)
        batch.clear()

    # By visitor: each streamed batch then aggregates to nearly its final pairs, so memory
    # holds visitor-item pairs rather than events.
    for row in _event_rows(events, visitor_ids):
        batch.append(row)
        if len(batch) >= STREAM:
            flush()
    flush()
    if not parts:
        empty = np.zeros(0, np.int64)
        return from_pairs(
            empty, empty, np.zeros(0), np.zeros(0), now=now_seconds,
            item_ids=item_ids if item_ids is not None else empty,
        )  # fmt: skip
    columns = [np.concatenate([part[n] for part in parts]) for n in range(4)]
    return from_pairs(*columns, now=now_seconds, item_ids=item_ids)

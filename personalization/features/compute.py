"""Computing and storing features, a chunk of visitors at a time, against a run's statistics."""

import math
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple, TextIO

from django.db import transaction
from tqdm import tqdm

from consent.purposes import PERSONALIZATION
from consent.selectors import consent_states
from content.models import ContentItem
from personalization.features.models import VisitorFeatures
from personalization.features.population import (
    PURCHASE,
    STREAM_ROWS,
    PopulationStats,
    population_stats,
)
from personalization.features.scores import (
    age_days,
    cents,
    engagement_score,
    event_weights,
    half_life_days,
    lifecycle_stage,
    quintile_score,
    session_gap,
    session_starts,
)
from personalization.visitors.models import Event, Visitor

TOP_TAGS = 50
TOP_KINDS = 3
UPDATE_FIELDS = [
    f.name for f in VisitorFeatures._meta.concrete_fields if f.name not in {"id", "visitor"}
]


class EventRow(NamedTuple):
    type: str
    item_id: int | None
    value: Decimal | None
    occurred_at: datetime


def _item_profiles(visitor_ids: Sequence[int]) -> dict[int, tuple[str, frozenset[str]]]:
    """Item id → (kind key, slugs of its tags and their ancestors) for the visitors' items."""
    touched = Event.objects.filter(visitor_id__in=visitor_ids, item__isnull=False).values("item_id")
    rows = (
        ContentItem.objects.filter(pk__in=touched)
        .order_by()
        .values_list("pk", "kind__key", "tags__path")
    )
    kinds: dict[int, str] = {}
    slugs: defaultdict[int, set[str]] = defaultdict(set)
    for pk, kind, path in rows:
        kinds[pk] = kind
        if path:  # a path lists the slugs of the tag's ancestors, then its own
            slugs[pk].update(path.split("/"))
    return {pk: (kind, frozenset(slugs[pk])) for pk, kind in kinds.items()}


class _Chunk(NamedTuple):
    """What every visitor of a chunk is computed with, read once per chunk."""

    stats: PopulationStats
    items: dict[int, tuple[str, frozenset[str]]]
    weights: dict[str, float]
    half_life: float
    gap: timedelta


def _interests(events: Sequence[EventRow], chunk: _Chunk) -> tuple[dict[str, float], list[str]]:
    """Tag affinities (top TOP_TAGS, the largest = 1) and favourite kinds from decayed weights."""
    tags: defaultdict[str, float] = defaultdict(float)
    kinds: defaultdict[str, float] = defaultdict(float)
    for event in events:
        profile = chunk.items.get(event.item_id)  # type: ignore[arg-type]
        if profile is None:
            continue
        weight = chunk.weights.get(event.type, chunk.weights["custom"])
        weight *= 0.5 ** (age_days(chunk.stats.now, event.occurred_at) / chunk.half_life)
        kind, slugs = profile
        for slug in slugs:  # a set: a tag and its parent both on one item count the parent once
            tags[slug] += weight
        kinds[kind] += weight
    positive = ((slug, w) for slug, w in tags.items() if w > 0)
    ranked = sorted(positive, key=lambda pair: (-pair[1], pair[0]))[:TOP_TAGS]
    affinities = {slug: round(w / ranked[0][1], 4) for slug, w in ranked}
    favourite = sorted((k for k, w in kinds.items() if w > 0), key=lambda k: (-kinds[k], k))
    return affinities, favourite[:TOP_KINDS]


def _monetary(events: Sequence[EventRow], since: datetime, clip: Decimal | None) -> Decimal:
    values = (
        e.value
        for e in events
        if e.type == PURCHASE and e.value is not None and e.occurred_at > since
    )
    return cents(sum((v if clip is None else min(v, clip) for v in values), Decimal(0)))


def _visitor_features(
    visitor_id: int, first_seen: datetime, events: Sequence[EventRow], chunk: _Chunk
) -> VisitorFeatures:
    """One visitor's features from their time-ordered events."""
    stats, now = chunk.stats, chunk.stats.now
    if not events:
        stage = lifecycle_stage(first_seen=first_seen, last_event=None, sessions_7d=0, now=now)
        return VisitorFeatures(visitor_id=visitor_id, computed_at=now, lifecycle=stage)
    cutoff = {days: now - timedelta(days=days) for days in (7, 30, 90)}
    starts = session_starts((e.occurred_at for e in events), chunk.gap)
    sessions = {days: sum(s > since for s in starts) for days, since in cutoff.items()}
    monetary = _monetary(events, cutoff[90], stats.purchase_clip)
    last = events[-1].occurred_at
    recency = age_days(now, last)
    affinities, favourite = _interests(events, chunk)
    return VisitorFeatures(
        visitor_id=visitor_id,
        computed_at=now,
        event_count=len(events),
        recency_days=recency,
        sessions_7d=sessions[7],
        sessions_30d=sessions[30],
        sessions_90d=sessions[90],
        monetary_90d=monetary,
        r_score=quintile_score(stats.recency_edges, recency, higher_is_better=False),
        f_score=quintile_score(stats.frequency_edges, sessions[90]),
        m_score=quintile_score(stats.monetary_edges, float(monetary)),
        lifecycle=lifecycle_stage(
            first_seen=min(first_seen, events[0].occurred_at),
            last_event=last,
            sessions_7d=sessions[7],
            now=now,
        ),
        engagement=engagement_score(
            sessions_30d=sessions[30],
            event_types_30d=len({e.type for e in events if e.occurred_at > cutoff[30]}),
            recency_days=recency,
        ),
        tag_affinities=affinities,
        favourite_kinds=favourite,
    )


def features_chunk_compute(*, visitor_ids: Iterable[int], stats: PopulationStats) -> dict[str, int]:
    """Upsert the features of a chunk of visitors; drop those of visitors who do not allow it.

    Returns counts: computed, skipped_consent (no personalization consent: row deleted) and
    skipped_merged (merged into another profile, or gone).
    """
    ids = sorted(set(visitor_ids))
    visitors = Visitor.objects.filter(pk__in=ids, merged_into__isnull=True)
    first_seen = dict(visitors.values_list("pk", "first_seen"))
    states = consent_states(first_seen) if first_seen else {}
    allowed = [pk for pk in first_seen if states[pk].get(PERSONALIZATION, False)]
    rows: list[VisitorFeatures] = []
    if allowed:
        chunk = _Chunk(
            stats, _item_profiles(allowed), event_weights(), half_life_days(), session_gap()
        )
        stream = (
            Event.objects.filter(visitor_id__in=allowed)
            .order_by("visitor_id", "occurred_at", "pk")
            .values_list("visitor_id", "type", "item_id", "value", "occurred_at")
            .iterator(chunk_size=STREAM_ROWS)
        )
        for pk, group in groupby(stream, key=itemgetter(0)):
            events = [EventRow(*row[1:]) for row in group]
            rows.append(_visitor_features(pk, first_seen[pk], events, chunk))
        with_events = {row.visitor_id for row in rows}
        without = (pk for pk in allowed if pk not in with_events)
        rows.extend(_visitor_features(pk, first_seen[pk], (), chunk) for pk in without)
    with transaction.atomic():
        VisitorFeatures.objects.filter(visitor_id__in=ids).exclude(visitor_id__in=allowed).delete()
        VisitorFeatures.objects.bulk_create(
            rows, update_conflicts=True, unique_fields=["visitor"], update_fields=UPDATE_FIELDS
        )
    return {
        "computed": len(rows),
        "skipped_consent": len(first_seen) - len(allowed),
        "skipped_merged": len(ids) - len(first_seen),
    }


def features_compute(
    *, visitor_ids: list[int], now: datetime | None = None, stats: PopulationStats | None = None
) -> int:
    """Compute and store the features of these visitors; returns how many were computed."""
    stats = stats or population_stats(now=now)
    return features_chunk_compute(visitor_ids=visitor_ids, stats=stats)["computed"]


def visitor_id_chunks(*, chunk_size: int) -> Iterator[list[int]]:
    """Ids of non-merged visitors in ascending chunks (keyset pagination: no OFFSET scans)."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    after = 0
    while True:
        ids = list(
            Visitor.objects.filter(pk__gt=after, merged_into__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)[:chunk_size]
        )
        if not ids:
            return
        yield ids
        after = ids[-1]


def features_compute_all(
    *,
    chunk_size: int = 2000,
    now: datetime | None = None,
    stats: PopulationStats | None = None,
    progress: TextIO | None = None,
) -> dict[str, Any]:
    """Compute every visitor's features, chunk after chunk in this process; returns a summary.

    Cost: the statistics once, then one chunk's queries per `chunk_size` visitors; time grows
    with events, memory with `chunk_size` (see the package docstring).
    """
    started = time.perf_counter()
    stats = stats or population_stats(now=now)
    totals: Counter[str] = Counter(computed=0, skipped_consent=0, skipped_merged=0)
    bar = tqdm(
        total=math.ceil(stats.visitors / chunk_size), file=progress,
        disable=None if progress else True, unit="chunk", desc="features", dynamic_ncols=True,
    )  # fmt: skip
    chunks = 0
    with bar:
        for ids in visitor_id_chunks(chunk_size=chunk_size):
            totals.update(features_chunk_compute(visitor_ids=ids, stats=stats))
            chunks += 1
            bar.update(1)
    return {**totals, "chunks": chunks, "seconds": round(time.perf_counter() - started, 3)}

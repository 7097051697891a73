"""Computing and storing features, a chunk of visitors at a time, against a run's statistics."""

import math
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TextIO

from django.db import connection, transaction
from tqdm import tqdm

from config.bulk import rows_upsert
from consent.purposes import PERSONALIZATION
from consent.selectors import consent_states
from personalization.features.aggregates import Aggregate, Weighing, aggregates_streamed
from personalization.features.in_database import (
    TOP_KINDS,
    TOP_TAGS,
    features_chunk_in_database,
)
from personalization.features.models import VisitorFeatures
from personalization.features.population import PopulationStats, population_stats
from personalization.features.scores import (
    age_days,
    cents,
    engagement_score,
    event_weights,
    half_life_days,
    lifecycle_stage,
    quintile_score,
    session_gap,
)
from personalization.visitors.models import Visitor
from personalization.visitors.snapshots import snapshots_invalidate

UPDATE_FIELDS = [
    f.name for f in VisitorFeatures._meta.concrete_fields if f.name not in {"id", "visitor"}
]


def _interests(aggregate: Aggregate) -> tuple[dict[str, float], list[str]]:
    """Tag affinities (top TOP_TAGS, the largest = 1) and favourite kinds from decayed weights."""
    positive = ((slug, w) for slug, w in aggregate.tags.items() if w > 0)
    ranked = sorted(positive, key=lambda pair: (-pair[1], pair[0]))[:TOP_TAGS]
    affinities = {slug: round(w / ranked[0][1], 4) for slug, w in ranked}
    kinds = aggregate.kinds
    favourite = sorted((k for k, w in kinds.items() if w > 0), key=lambda k: (-kinds[k], k))
    return affinities, favourite[:TOP_KINDS]


def _visitor_features(
    visitor_id: int, first_seen: datetime, aggregate: Aggregate | None, stats: PopulationStats
) -> VisitorFeatures:
    """One visitor's features from the aggregate of their events (None: no events)."""
    now = stats.now
    if aggregate is None:
        stage = lifecycle_stage(first_seen=first_seen, last_event=None, sessions_7d=0, now=now)
        return VisitorFeatures(visitor_id=visitor_id, computed_at=now, lifecycle=stage)
    sessions = aggregate.sessions
    monetary = cents(aggregate.monetary)
    recency = age_days(now, aggregate.last_at)
    affinities, favourite = _interests(aggregate)
    return VisitorFeatures(
        visitor_id=visitor_id,
        computed_at=now,
        event_count=aggregate.event_count,
        recency_days=recency,
        sessions_7d=sessions[7],
        sessions_30d=sessions[30],
        sessions_90d=sessions[90],
        monetary_90d=monetary,
        r_score=quintile_score(stats.recency_edges, recency, higher_is_better=False),
        f_score=quintile_score(stats.frequency_edges, sessions[90]),
        m_score=quintile_score(stats.monetary_edges, float(monetary)),
        lifecycle=lifecycle_stage(
            first_seen=min(first_seen, aggregate.first_at),
            last_event=aggregate.last_at,
            sessions_7d=sessions[7],
            now=now,
        ),
        engagement=engagement_score(
            sessions_30d=sessions[30],
            event_types_30d=aggregate.event_types_30d,
            recency_days=recency,
        ),
        tag_affinities=affinities,
        favourite_kinds=favourite,
    )


def features_chunk_compute(*, visitor_ids: Iterable[int], stats: PopulationStats) -> dict[str, int]:
    """Upsert the features of a chunk of visitors; drop those of visitors who do not allow it.

    Returns counts: computed, skipped_consent (no personalization consent: row deleted) and
    skipped_merged (merged into another profile, or gone). On PostgreSQL one statement does
    it all (`in_database`); elsewhere Python works the rows out from the streamed events.
    """
    ids = sorted(set(visitor_ids))
    weighing = Weighing(
        now=stats.now, purchase_clip=stats.purchase_clip, weights=event_weights(),
        half_life=half_life_days(), gap=session_gap(),
    )  # fmt: skip
    if connection.vendor == "postgresql":
        counts = features_chunk_in_database(ids, stats, weighing)
        snapshots_invalidate(ids)  # snapshots hold the visitors' features
        return counts
    first_seen, allowed = allowed_visitors(ids)
    rows = features_rows(allowed, first_seen, stats, weighing)
    with transaction.atomic():
        refused = set(ids).difference(allowed)  # no consent, merged or gone
        VisitorFeatures.objects.filter(visitor_id__in=refused).delete()
        rows_upsert(VisitorFeatures, rows, unique_fields=["visitor"], update_fields=UPDATE_FIELDS)
        snapshots_invalidate(ids)
    return {
        "computed": len(rows),
        "skipped_consent": len(first_seen) - len(allowed),
        "skipped_merged": len(ids) - len(first_seen),
    }


def allowed_visitors(ids: list[int]) -> tuple[dict[int, datetime], list[int]]:
    """First seen of the chunk's non-merged visitors, and those allowing personalization."""
    visitors = Visitor.objects.filter(pk__in=ids, merged_into__isnull=True)
    first_seen = dict(visitors.values_list("pk", "first_seen"))
    states = consent_states(first_seen) if first_seen else {}
    return first_seen, [pk for pk in first_seen if states[pk].get(PERSONALIZATION, False)]


def features_rows(
    visitor_ids: list[int],
    first_seen: dict[int, datetime],
    stats: PopulationStats,
    weighing: Weighing,
) -> list[VisitorFeatures]:
    """The features of these visitors worked out in Python from their streamed events."""
    summed = aggregates_streamed(visitor_ids, weighing) if visitor_ids else {}
    return [_visitor_features(pk, first_seen[pk], summed.get(pk), stats) for pk in visitor_ids]


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

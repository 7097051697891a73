"""Profile features of visitors, computed from their events a chunk of visitors at a time.

Each feature, and its value for a visitor without events:

- ``event_count``: the visitor's events (0).
- ``recency_days``: days since the last event; an event dated after `now` counts as 0 days
  (None).
- ``sessions_7d``, ``sessions_30d``, ``sessions_90d``: sessions that started in the last 7, 30 or
  90 days. A session is a run of events less than ``TAILOR_SESSION_GAP_MINUTES`` apart; a gap of
  exactly that long starts a new session, as ``visitor_touch`` counts visits (0).
- ``monetary_90d``: the sum of ``value`` of purchases in the last 90 days, each value clipped to
  Q3 + 1.5·IQR of every purchase value in the table, rounded to cents (0).
- ``r_score``, ``f_score``, ``m_score``: quintile 1 to 5 of recency (more recent is higher),
  ``sessions_90d`` and ``monetary_90d`` among visitors with events (1 each).
- ``lifecycle``: see ``lifecycle_stage`` (new when first seen under 7 days ago, else dormant).
- ``engagement``: see ``engagement_score``, in [0, 1] (0).
- ``tag_affinities``: tag slug → time-decayed interest in [0, 1], the top 50 tags ({}).
- ``favourite_kinds``: up to 3 content kind keys by time-decayed interest ([]).

"In the last N days" always means less than N days before `now`: an event exactly 30 days old is
not in the last 30 days. Windows compare timestamps, never rounded days.

Population statistics (``PopulationStats``) are computed once per run and passed to every chunk,
so that chunks on different workers score against the same scale:

- the purchase clip bound: Q1 and Q3 (numpy's linear percentiles) of every purchase value in the
  table, or of an every-k-th-id sample of at most 100,000 of them;
- quintile edges: the 20/40/60/80 % quantiles (numpy's linear interpolation) of recency_days,
  sessions_90d and monetary_90d over non-merged visitors with events, or over an every-k-th-id
  sample of at most 100,000 of them. The population includes visitors without personalization
  consent: their events are in the table under analytics consent, and only four edges per measure
  leave the computation. A value equal to an edge falls in the quintile below it, so equal values
  always share a score. A small population still gets edges by interpolation: two visitors score
  1 and 5; one visitor (or everyone equal) gets f = m = 1 and r = 5.

Cost of a run: the statistics run six queries (two over purchases, a GROUP BY over all events,
a streamed read of 90 days of events and a GROUP BY of their purchases, for the sampled visitors)
and hold at most 100,000 values per measure. A chunk of C visitors runs 5 queries (SQLite splits
the upsert by its parameter limit) plus at most 3 for consent, whatever C; it streams the chunk's
events ordered by visitor, so memory holds C feature rows, the tags of the items its visitors
touched and one visitor's events at a time. Time grows with the events read.
"""

import math
import time
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any, NamedTuple, TextIO

import numpy as np
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import DecimalField, F, Max, QuerySet, Sum, Value
from django.db.models.functions import Least, Mod
from django.db.models.lookups import Exact
from django.utils import timezone
from tqdm import tqdm

from consent.selectors import consent_states
from content.models import ContentItem
from personalization.models import Event, Visitor, VisitorFeatures

DEFAULT_EVENT_WEIGHTS: dict[str, float] = {
    "view": 1.0, "click": 2.0, "add_to_cart": 4.0, "purchase": 8.0,
    "rating": 3.0, "search": 0.5, "custom": 1.0,
}  # fmt: skip
PURPOSE = "personalization"
PURCHASE = Event.Type.PURCHASE.value
SAMPLE_SIZE = 100_000
QUINTILES = (0.2, 0.4, 0.6, 0.8)
TOP_TAGS = 50
TOP_KINDS = 3
STREAM_ROWS = 5_000
CENTS = Decimal("0.01")
VALUE_PLACES = Decimal("0.0001")
MONEY = DecimalField(max_digits=20, decimal_places=4)
UPDATE_FIELDS = [
    f.name for f in VisitorFeatures._meta.concrete_fields if f.name not in {"id", "visitor"}
]


class EventRow(NamedTuple):
    type: str
    item_id: int | None
    value: Decimal | None
    occurred_at: datetime


@dataclass(frozen=True)
class PopulationStats:
    """What scoring needs from the whole population, computed once per run for every chunk."""

    now: datetime
    visitors: int
    purchase_clip: Decimal | None
    recency_edges: tuple[float, ...]
    frequency_edges: tuple[float, ...]
    monetary_edges: tuple[float, ...]

    def as_json(self) -> dict[str, Any]:
        """A JSON-safe form for task messages (edges become lists, the clip a string)."""
        clip = None if self.purchase_clip is None else str(self.purchase_clip)
        return {**asdict(self), "now": self.now.isoformat(), "purchase_clip": clip}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PopulationStats":
        clip, edges = data["purchase_clip"], ("recency_edges", "frequency_edges", "monetary_edges")
        return cls(
            **{
                **data,
                **{key: tuple(data[key]) for key in edges},
                "now": datetime.fromisoformat(data["now"]),
                "purchase_clip": None if clip is None else Decimal(clip),
            }
        )


def event_weights() -> dict[str, float]:
    """Affinity weight per event type: TAILOR_EVENT_WEIGHTS over the defaults ("custom": others)."""
    configured = getattr(settings, "TAILOR_EVENT_WEIGHTS", DEFAULT_EVENT_WEIGHTS)
    weights = {**DEFAULT_EVENT_WEIGHTS, **configured}
    bad = sorted(k for k, w in weights.items() if not isinstance(w, int | float) or w < 0)
    if bad:
        raise ImproperlyConfigured(f"TAILOR_EVENT_WEIGHTS: {', '.join(bad)} must be numbers >= 0")
    return {key: float(weight) for key, weight in weights.items()}


def _half_life_days() -> float:
    half_life = float(settings.TAILOR_AFFINITY_HALF_LIFE_DAYS)
    if half_life <= 0:
        raise ImproperlyConfigured("TAILOR_AFFINITY_HALF_LIFE_DAYS must be greater than 0")
    return half_life


def _gap() -> timedelta:
    return timedelta(minutes=settings.TAILOR_SESSION_GAP_MINUTES)


def _age_days(now: datetime, moment: datetime) -> float:
    return max(0.0, (now - moment).total_seconds() / 86_400)


def _cents(amount: Decimal | None) -> Decimal:
    return (amount or Decimal(0)).quantize(CENTS, ROUND_HALF_UP)


def session_starts(times: Iterable[datetime], gap: timedelta) -> list[datetime]:
    """The first event of each session in time-ordered `times`; a gap of exactly `gap` splits."""
    starts: list[datetime] = []
    previous: datetime | None = None
    for moment in times:
        if previous is None or moment - previous >= gap:
            starts.append(moment)
        previous = moment
    return starts


def quintile_edges(values: Sequence[float]) -> tuple[float, ...]:
    """The 20/40/60/80 % quantiles (linear interpolation) of `values`; () for no values."""
    if not values:
        return ()
    return tuple(float(q) for q in np.quantile(np.asarray(values, dtype=float), QUINTILES))


def quintile_score(edges: Sequence[float], value: float, *, higher_is_better: bool = True) -> int:
    """1 to 5 by the quintile `value` falls in; a value equal to an edge falls in the lower one."""
    if not edges:
        return 1  # nothing to rank against: the documented default
    quintile = bisect_left(edges, value)
    return quintile + 1 if higher_is_better else 5 - quintile


def lifecycle_stage(
    *, first_seen: datetime, last_event: datetime | None, sessions_7d: int, now: datetime
) -> str:
    """The first stage that applies, tried in order: new, engaged, active, dormant, at risk.

    new: first seen under 7 days ago (exactly 7 days is not new); engaged: 3 or more sessions
    started in the last 7 days; active: an event under 30 days ago; dormant: no event under 90
    days ago (exactly 90 days is dormant), or no event at all; at risk: the last event 30 days
    ago or more but under 90 (exactly 30 days is at risk).
    """
    stage = VisitorFeatures.Lifecycle
    if first_seen > now - timedelta(days=7):
        return stage.NEW
    if sessions_7d >= 3:
        return stage.ENGAGED
    if last_event is not None and last_event > now - timedelta(days=30):
        return stage.ACTIVE
    if last_event is None or last_event <= now - timedelta(days=90):
        return stage.DORMANT
    return stage.AT_RISK


def engagement_score(
    *, sessions_30d: int, event_types_30d: int, recency_days: float | None
) -> float:
    """0.5·s/(s+3) + 0.25·min(types, 4)/4 + 0.25·0.5^(recency_days/7), rounded to 4 places.

    Sessions saturate (3 sessions in 30 days give half of their part), diversity counts distinct
    event types in 30 days up to 4, and recency halves every week; no events give 0.
    """
    sessions = sessions_30d / (sessions_30d + 3)
    diversity = min(event_types_30d, 4) / 4
    recency = 0.0 if recency_days is None else 0.5 ** (recency_days / 7)
    return round(0.5 * sessions + 0.25 * diversity + 0.25 * recency, 4)


def _sampled(queryset: QuerySet, field: str, step: int) -> QuerySet:
    """Every `step`-th row by an integer `field`: a deterministic sample that needs no sort."""
    return queryset if step <= 1 else queryset.filter(Exact(Mod(field, step), 0))


def _purchase_clip() -> Decimal | None:
    """Q3 + 1.5·IQR of purchase values (a sample of at most SAMPLE_SIZE); None without any."""
    purchases = Event.objects.filter(type=PURCHASE, value__isnull=False).order_by()
    count = purchases.count()
    if not count:
        return None
    sample = _sampled(purchases, "pk", math.ceil(count / SAMPLE_SIZE)).values_list("value")
    values = np.fromiter((float(v) for (v,) in sample.iterator(chunk_size=10_000)), dtype=float)
    if not values.size:
        return None
    q1, q3 = np.percentile(values, [25, 75])
    return Decimal(repr(float(q3 + 1.5 * (q3 - q1)))).quantize(VALUE_PLACES, ROUND_HALF_UP)


def population_stats(*, now: datetime | None = None) -> PopulationStats:
    """The purchase clip bound and RFM quintile edges for a run; six queries, once per run."""
    now = now or timezone.now()
    clip = _purchase_clip()
    visitors = Visitor.objects.filter(merged_into__isnull=True).count()
    step = math.ceil(visitors / SAMPLE_SIZE) if visitors else 1
    events = _sampled(
        Event.objects.filter(visitor__merged_into__isnull=True).order_by(), "visitor_id", step
    )
    by_visitor = events.values("visitor_id")
    last = dict(by_visitor.annotate(last=Max("occurred_at")).values_list("visitor_id", "last"))
    # One event before the window decides whether the window's first event starts a session.
    since = now - timedelta(days=90) - _gap()
    stream = (
        events.filter(occurred_at__gte=since)
        .order_by("visitor_id", "occurred_at")
        .values_list("visitor_id", "occurred_at")
        .iterator(chunk_size=STREAM_ROWS)
    )
    window = now - timedelta(days=90)
    sessions = {
        visitor_id: sum(s > window for s in session_starts((t for _, t in rows), _gap()))
        for visitor_id, rows in groupby(stream, key=itemgetter(0))
    }
    value = F("value") if clip is None else Least("value", Value(clip, output_field=MONEY))
    money = dict(
        events.filter(type=PURCHASE, value__isnull=False, occurred_at__gt=window)
        .values("visitor_id")
        .annotate(total=Sum(value, output_field=MONEY))
        .values_list("visitor_id", "total")
    )
    return PopulationStats(
        now=now,
        visitors=visitors,
        purchase_clip=clip,
        recency_edges=quintile_edges([_age_days(now, t) for t in last.values()]),
        frequency_edges=quintile_edges([sessions.get(v, 0) for v in last]),
        monetary_edges=quintile_edges([float(_cents(money.get(v))) for v in last]),
    )


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
        weight *= 0.5 ** (_age_days(chunk.stats.now, event.occurred_at) / chunk.half_life)
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
    return _cents(sum((v if clip is None else min(v, clip) for v in values), Decimal(0)))


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
    recency = _age_days(now, last)
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
    allowed = [pk for pk in first_seen if states[pk].get(PURPOSE, False)]
    rows: list[VisitorFeatures] = []
    if allowed:
        chunk = _Chunk(stats, _item_profiles(allowed), event_weights(), _half_life_days(), _gap())
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
    with events, memory with `chunk_size` (see the module docstring).
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

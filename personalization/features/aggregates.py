"""What features are made of, per visitor of a chunk: counts, sessions, money and interests.

Two ways to the same figures. On PostgreSQL two aggregate queries per chunk do the work where
the events are (`aggregates_in_database`): a window function finds session starts and filtered
aggregates count them per window, sum money and count event types; the other sums the decayed
interest weight per visitor and item. Python then adds the items' weights up per tag and kind.
Any other database (SQLite for `make run`) streams the chunk's events through Python
(`aggregates_streamed`). Both add the same floats in the same order (each item's events in
time order, then items by id), so they agree to the last bit and equal interests stay equal.

Cost on PostgreSQL: three queries whatever the chunk size (the items' tags, the totals, the
per-item weights), each reading the chunk's events once through the visitor index; what comes
back is a row per visitor and one per (visitor, item) touched, never the events. Streamed: the
items' tags and one query that streams the events, one visitor's events in memory at a time.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

from django.db import connection

from content.models import ContentItem
from personalization.features.population import PURCHASE, STREAM_ROWS
from personalization.features.scores import age_days, session_starts
from personalization.visitors.models import Event

WINDOWS = (7, 30, 90)


@dataclass(frozen=True)
class Weighing:
    """How a chunk's events are weighed and windowed: one per run, shared by every chunk."""

    now: datetime
    purchase_clip: Decimal | None
    weights: dict[str, float]  # event type → weight; "custom" for any other type
    half_life: float
    gap: timedelta

    def cutoff(self, days: int) -> datetime:
        return self.now - timedelta(days=days)

    def weight(self, type: str, occurred_at: datetime) -> float:
        """The event's interest weight, halved every `half_life` days of age."""
        weight = self.weights.get(type, self.weights["custom"])
        return weight * 0.5 ** (age_days(self.now, occurred_at) / self.half_life)


@dataclass
class Aggregate:
    """One visitor's events summed up: everything features are computed from."""

    event_count: int
    first_at: datetime
    last_at: datetime
    sessions: dict[int, int]  # window in days → sessions that started in it
    monetary: Decimal | None  # purchases of the last 90 days, each clipped; None without any
    event_types_30d: int
    tags: dict[str, float] = field(default_factory=dict)  # slug → summed decayed weight
    kinds: dict[str, float] = field(default_factory=dict)  # kind key → summed decayed weight


class _EventRow(NamedTuple):
    type: str
    item_id: int | None
    value: Decimal | None
    occurred_at: datetime


def aggregates(visitor_ids: Sequence[int], weighing: Weighing) -> dict[int, Aggregate]:
    """Visitor id → its aggregate, for the visitors of `visitor_ids` who have events."""
    if not visitor_ids:
        return {}
    if connection.vendor == "postgresql":
        return aggregates_in_database(visitor_ids, weighing)
    return aggregates_streamed(visitor_ids, weighing)


def _item_profiles(
    visitor_ids: Sequence[int], item_ids: Iterable[int] | None = None
) -> dict[int, tuple[str, frozenset[str]]]:
    """Item id → (kind key, slugs of its tags and their ancestors) for the visitors' items
    (those of `item_ids` when the caller knows them already)."""
    touched = (
        Event.objects.filter(visitor_id__in=visitor_ids, item__isnull=False).values("item_id")
        if item_ids is None
        else item_ids
    )
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


def _aggregate(
    events: Sequence[_EventRow],
    weighing: Weighing,
    items: dict[int, tuple[str, frozenset[str]]],
) -> Aggregate:
    """One visitor's aggregate from their events in (occurred_at, pk) order."""
    starts = session_starts((e.occurred_at for e in events), weighing.gap)
    cutoff = {days: weighing.cutoff(days) for days in WINDOWS}
    clip = weighing.purchase_clip
    values = [
        e.value if clip is None else min(e.value, clip)
        for e in events
        if e.type == PURCHASE and e.value is not None and e.occurred_at > cutoff[90]
    ]
    aggregate = Aggregate(
        event_count=len(events),
        first_at=events[0].occurred_at,
        last_at=events[-1].occurred_at,
        sessions={days: sum(s > since for s in starts) for days, since in cutoff.items()},
        monetary=sum(values, Decimal(0)) if values else None,
        event_types_30d=len({e.type for e in events if e.occurred_at > cutoff[30]}),
    )
    per_item: defaultdict[int, float] = defaultdict(float)
    for event in events:
        if event.item_id in items:
            per_item[event.item_id] += weighing.weight(event.type, event.occurred_at)
    aggregate.tags, aggregate.kinds = _interests(sorted(per_item.items()), items)
    return aggregate


def _interests(
    per_item: Iterable[tuple[int, float]], items: dict[int, tuple[str, frozenset[str]]]
) -> tuple[dict[str, float], dict[str, float]]:
    """Tag and kind sums of a visitor's per-item weights, added in ascending item order."""
    tags: defaultdict[str, float] = defaultdict(float)
    kinds: defaultdict[str, float] = defaultdict(float)
    for item_id, weight in per_item:
        kind, slugs = items[item_id]
        for slug in slugs:  # a set: a tag and its parent both on one item count the parent once
            tags[slug] += weight
        kinds[kind] += weight
    return dict(tags), dict(kinds)


def aggregates_streamed(visitor_ids: Sequence[int], weighing: Weighing) -> dict[int, Aggregate]:
    """The aggregates worked out in Python from the events, streamed visitor by visitor."""
    items = _item_profiles(visitor_ids)
    stream = (
        Event.objects.filter(visitor_id__in=visitor_ids)
        .order_by("visitor_id", "occurred_at", "pk")
        .values_list("visitor_id", "type", "item_id", "value", "occurred_at")
        .iterator(chunk_size=STREAM_ROWS)
    )
    return {
        pk: _aggregate([_EventRow(*row[1:]) for row in group], weighing, items)
        for pk, group in groupby(stream, key=itemgetter(0))
    }


_TOTALS = """
WITH events AS (
    SELECT e.visitor_id, e.type, e.value, e.occurred_at,
           e.occurred_at - LAG(e.occurred_at) OVER (
               PARTITION BY e.visitor_id ORDER BY e.occurred_at, e.id
           ) AS since_previous
    FROM {event} e WHERE e.visitor_id = ANY(%(ids)s)
),
starts AS (
    SELECT *, since_previous IS NULL OR since_previous >= %(gap)s AS starts_session FROM events
)
SELECT visitor_id, COUNT(*), MIN(occurred_at), MAX(occurred_at),
       COUNT(*) FILTER (WHERE starts_session AND occurred_at > %(since_7)s),
       COUNT(*) FILTER (WHERE starts_session AND occurred_at > %(since_30)s),
       COUNT(*) FILTER (WHERE starts_session AND occurred_at > %(since_90)s),
       SUM(LEAST(value, %(clip)s::numeric)) FILTER (
           WHERE type = %(purchase)s AND value IS NOT NULL AND occurred_at > %(since_90)s
       ),
       COUNT(DISTINCT type) FILTER (WHERE occurred_at > %(since_30)s)
FROM starts GROUP BY visitor_id
"""
# Each (visitor, item) sum adds its events' weights in time order, as the streamed path does,
# so that both give the same floats (and equal interests stay exactly equal).
_PER_ITEM = """
SELECT e.visitor_id, e.item_id, SUM(
    (CASE e.type {weights} ELSE %(custom)s::float8 END) * POWER(
        0.5::float8,
        GREATEST(0::float8, EXTRACT(EPOCH FROM %(now)s - e.occurred_at)::float8 / 86400)
            / %(half_life)s::float8
    ) ORDER BY e.occurred_at, e.id
)
FROM {event} e
WHERE e.visitor_id = ANY(%(ids)s) AND e.item_id IS NOT NULL
GROUP BY e.visitor_id, e.item_id ORDER BY e.visitor_id, e.item_id
"""


def aggregates_in_database(visitor_ids: Sequence[int], weighing: Weighing) -> dict[int, Aggregate]:
    """The aggregates from two aggregate queries on PostgreSQL: events stay in the database."""
    types = sorted(weighing.weights)
    weights = " ".join(f"WHEN %(type_{n})s THEN %(weight_{n})s::float8" for n in range(len(types)))
    params = {
        "ids": list(visitor_ids),
        "custom": weighing.weights["custom"],
        "now": weighing.now,
        "half_life": weighing.half_life,
        "gap": weighing.gap,
        "clip": weighing.purchase_clip,
        "purchase": PURCHASE,
        **{f"since_{days}": weighing.cutoff(days) for days in WINDOWS},
        **{f"type_{n}": key for n, key in enumerate(types)},
        **{f"weight_{n}": weighing.weights[key] for n, key in enumerate(types)},
    }
    table = Event._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(_TOTALS.format(event=table), params)
        found = dict(_totals(cursor.fetchall()))
        cursor.execute(_PER_ITEM.format(event=table, weights=weights), params)
        per_item = cursor.fetchall()
    items = _item_profiles(visitor_ids, {item_id for _, item_id, _ in per_item})
    # Rows of items deleted, or events stored, between the queries are left out.
    known = (row for row in per_item if row[1] in items and row[0] in found)
    for pk, rows in groupby(known, key=itemgetter(0)):
        found[pk].tags, found[pk].kinds = _interests((row[1:] for row in rows), items)
    return found


def _totals(rows: list[tuple]) -> Iterator[tuple[int, Aggregate]]:
    for pk, count, first, last, s7, s30, s90, money, types in rows:
        yield pk, Aggregate(
            event_count=count, first_at=first, last_at=last,
            sessions={7: s7, 30: s30, 90: s90}, monetary=money, event_types_30d=types,
        )  # fmt: skip

"""What features are made of, per visitor of a chunk: counts, sessions, money and interests.

Two ways to the same figures. On PostgreSQL one aggregate query per chunk does the work where
the events are (`aggregates_in_database`): a window function finds session starts, filtered
aggregates count them per window, and the decayed interest weights are summed per tag and kind
in the same order as Python would add them, so the floats come out bit for bit the same. Any
other database (SQLite for `make run`) streams the chunk's events through Python
(`aggregates_streamed`). Either way a chunk returns one `Aggregate` per visitor with events.

Cost on PostgreSQL: one query whatever the chunk size, reading the chunk's events once through
the (visitor, occurred_at) index; what comes back is a row per visitor with its tag and kind
sums, never the events. Streamed: one query for the items' tags and one that streams the events,
holding one visitor's events at a time.
"""

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

from django.db import connection

from content.models import ContentItem, ContentKind
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
    tags: defaultdict[str, float] = defaultdict(float)
    kinds: defaultdict[str, float] = defaultdict(float)
    for event in events:
        profile = items.get(event.item_id)  # type: ignore[arg-type]
        if profile is None:
            continue
        weight = weighing.weight(event.type, event.occurred_at)
        kind, slugs = profile
        for slug in slugs:  # a set: a tag and its parent both on one item count the parent once
            tags[slug] += weight
        kinds[kind] += weight
    aggregate.tags, aggregate.kinds = dict(tags), dict(kinds)
    return aggregate


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


def _tables() -> dict[str, str]:
    tags = ContentItem.tags.through._meta
    return {
        "event": Event._meta.db_table,
        "item": ContentItem._meta.db_table,
        "kind": ContentKind._meta.db_table,
        "item_tags": tags.db_table,
        "tag": ContentItem.tags.field.related_model._meta.db_table,
        "tag_item": tags.get_field("contentitem").column,
        "tag_tag": tags.get_field("tag").column,
    }


# Interest sums add each event's weight in (occurred_at, id) order, as Python's loop does, so
# that equal interests stay exactly equal (the ranking breaks their ties by slug).
_SQL = """
WITH events AS (
    SELECT e.id, e.visitor_id, e.type, e.item_id, e.value, e.occurred_at,
           e.occurred_at - LAG(e.occurred_at) OVER (
               PARTITION BY e.visitor_id ORDER BY e.occurred_at, e.id
           ) AS since_previous,
           COALESCE((%(weights)s::jsonb ->> e.type)::float8, %(custom)s::float8) * POWER(
               0.5::float8,
               GREATEST(0::float8, EXTRACT(EPOCH FROM %(now)s - e.occurred_at)::float8 / 86400)
                   / %(half_life)s::float8
           ) AS weight
    FROM {event} e
    WHERE e.visitor_id = ANY(%(ids)s)
),
starts AS (
    SELECT *, since_previous IS NULL OR since_previous >= %(gap)s AS starts_session FROM events
),
totals AS (
    SELECT visitor_id, COUNT(*) AS event_count,
           MIN(occurred_at) AS first_at, MAX(occurred_at) AS last_at,
           COUNT(*) FILTER (WHERE starts_session AND occurred_at > %(since_7)s) AS sessions_7,
           COUNT(*) FILTER (WHERE starts_session AND occurred_at > %(since_30)s) AS sessions_30,
           COUNT(*) FILTER (WHERE starts_session AND occurred_at > %(since_90)s) AS sessions_90,
           SUM(LEAST(value, COALESCE(%(clip)s::numeric, value))) FILTER (
               WHERE type = %(purchase)s AND value IS NOT NULL AND occurred_at > %(since_90)s
           ) AS monetary,
           COUNT(DISTINCT type) FILTER (WHERE occurred_at > %(since_30)s) AS types_30
    FROM starts GROUP BY visitor_id
),
item_slugs AS (
    SELECT DISTINCT it.{tag_item} AS item_id, part.slug
    FROM {item_tags} it JOIN {tag} t ON t.id = it.{tag_tag},
         unnest(string_to_array(t.path, '/')) AS part(slug)
    WHERE part.slug <> '' AND it.{tag_item} IN (SELECT item_id FROM events)
),
tag_sums AS (
    SELECT e.visitor_id, s.slug, SUM(e.weight ORDER BY e.occurred_at, e.id) AS weight
    FROM events e JOIN item_slugs s ON s.item_id = e.item_id
    GROUP BY e.visitor_id, s.slug
),
kind_sums AS (
    SELECT e.visitor_id, k.key AS kind, SUM(e.weight ORDER BY e.occurred_at, e.id) AS weight
    FROM events e JOIN {item} i ON i.id = e.item_id JOIN {kind} k ON k.id = i.kind_id
    GROUP BY e.visitor_id, k.key
)
SELECT t.visitor_id, t.event_count, t.first_at, t.last_at,
       t.sessions_7, t.sessions_30, t.sessions_90, t.monetary, t.types_30,
       (SELECT json_object_agg(slug, weight) FROM tag_sums s WHERE s.visitor_id = t.visitor_id),
       (SELECT json_object_agg(kind, weight) FROM kind_sums k WHERE k.visitor_id = t.visitor_id)
FROM totals t
"""


def aggregates_in_database(visitor_ids: Sequence[int], weighing: Weighing) -> dict[int, Aggregate]:
    """The aggregates from one query on PostgreSQL: events never leave the database."""
    params = {
        "ids": list(visitor_ids),
        "weights": json.dumps(weighing.weights),
        "custom": weighing.weights["custom"],
        "now": weighing.now,
        "half_life": weighing.half_life,
        "gap": weighing.gap,
        "clip": weighing.purchase_clip,
        "purchase": PURCHASE,
        **{f"since_{days}": weighing.cutoff(days) for days in WINDOWS},
    }
    with connection.cursor() as cursor:
        cursor.execute(_SQL.format(**_tables()), params)
        return dict(_rows(cursor.fetchall()))


def _rows(rows: list[tuple]) -> Iterator[tuple[int, Aggregate]]:
    for pk, count, first, last, s7, s30, s90, money, types, tags, kinds in rows:
        yield pk, Aggregate(
            event_count=count, first_at=first, last_at=last,
            sessions={7: s7, 30: s30, 90: s90}, monetary=money, event_types_30d=types,
            tags=_floats(tags), kinds=_floats(kinds),
        )  # fmt: skip


def _floats(sums: dict | str | None) -> dict[str, float]:
    """A JSON object of sums as loaded by the driver (None: no interest at all)."""
    if sums is None:
        return {}
    return json.loads(sums) if isinstance(sums, str) else sums

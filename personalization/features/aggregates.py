"""What features are made of, per visitor of a chunk, worked out in Python from the events.

This is the way of databases other than PostgreSQL (SQLite for `make run`), and the reference
the statement of `in_database` is held to. The chunk's events are streamed ordered by visitor
and time. Each event's decayed weight counts as a whole number of quanta (2⁻⁴⁰, `QUANTA` to
one), added up as integers per tag and kind: sums of integers are exact whatever the order of
their terms, so the statement, which adds them in whatever order its hash tables give, stores
the same bits without sorting anything. A weight under half a quantum (an event older than
about 40 half-lives, for a weight of 1) counts as nothing.

Cost: the items' tags and one query that streams the events, one visitor's events in memory
at a time.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

from content.models import ContentItem
from personalization.features.population import PURCHASE, STREAM_ROWS
from personalization.features.scores import age_days, session_starts
from personalization.visitors.models import Event

WINDOWS = (7, 30, 90)
QUANTA = 2**40  # quanta of interest weight in a weight of 1


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

    def quanta(self, type: str, occurred_at: datetime) -> int:
        """The event's weight in whole quanta, rounded half to even."""
        return round(self.weight(type, occurred_at) * QUANTA)


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
    weighed = (
        (items[e.item_id], weighing.quanta(e.type, e.occurred_at))
        for e in events
        if e.item_id in items
    )
    aggregate.tags, aggregate.kinds = _interests(weighed)
    return aggregate


def _interests(
    weighed: Iterable[tuple[tuple[str, frozenset[str]], int]],
) -> tuple[dict[str, float], dict[str, float]]:
    """Tag and kind sums of a visitor's weighed items: quanta added up, then one division."""
    tags: defaultdict[str, int] = defaultdict(int)
    kinds: defaultdict[str, int] = defaultdict(int)
    for (kind, slugs), quanta in weighed:
        for slug in slugs:  # a set: a tag and its parent both on one item count the parent once
            tags[slug] += quanta
        kinds[kind] += quanta
    return _weights(tags), _weights(kinds)


def _weights(sums: dict[str, int]) -> dict[str, float]:
    """Quanta back to weights: the float nearest to each exact quotient."""
    return {key: quanta / QUANTA for key, quanta in sums.items()}


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

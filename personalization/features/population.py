"""Statistics of the whole population, computed once per run: purchase clip and quintile edges."""

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby
from operator import itemgetter
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.db.models import DecimalField, F, Max, QuerySet, Sum, Value
from django.db.models.functions import Least, Mod
from django.db.models.lookups import Exact
from django.utils import timezone

from personalization.features.scores import age_days, cents, session_gap, session_starts
from personalization.visitors.models import Event, Visitor

PURCHASE = Event.Type.PURCHASE.value
SAMPLE_SIZE = 100_000
QUINTILES = (0.2, 0.4, 0.6, 0.8)
STREAM_ROWS = 5_000
VALUE_PLACES = Decimal("0.0001")
MONEY = DecimalField(max_digits=20, decimal_places=4)
WORK_MEM = "64MB"  # for sorts of a statement's transaction (the caller's, when one is open)


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


def quintile_edges(values: Sequence[float]) -> tuple[float, ...]:
    """The 20/40/60/80 % quantiles (linear interpolation) of `values`; () for no values."""
    if not values:
        return ()
    return tuple(float(q) for q in np.quantile(np.asarray(values, dtype=float), QUINTILES))


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
    """The purchase clip bound and RFM quintile edges for a run; a few queries, once per run."""
    now = now or timezone.now()
    clip = _purchase_clip()
    visitors = Visitor.objects.filter(merged_into__isnull=True).count()
    step = math.ceil(visitors / SAMPLE_SIZE) if visitors else 1
    measure = _measures_in_database if connection.vendor == "postgresql" else _measures_streamed
    measures = measure(now=now, clip=clip, step=step)
    return PopulationStats(
        now=now,
        visitors=visitors,
        purchase_clip=clip,
        recency_edges=quintile_edges([age_days(now, last) for last, _, _ in measures]),
        frequency_edges=quintile_edges([sessions for _, sessions, _ in measures]),
        monetary_edges=quintile_edges([float(cents(money)) for _, _, money in measures]),
    )


Measures = list[tuple[datetime, int, Decimal | None]]  # per visitor: last event, sessions, money


def _measures_streamed(*, now: datetime, clip: Decimal | None, step: int) -> Measures:
    """Last event, sessions_90d and clipped 90-day purchases per sampled visitor with events."""
    events = _sampled(
        Event.objects.filter(visitor__merged_into__isnull=True).order_by(), "visitor_id", step
    )
    by_visitor = events.values("visitor_id")
    last = dict(by_visitor.annotate(last=Max("occurred_at")).values_list("visitor_id", "last"))
    gap = session_gap()
    # One event before the window decides whether the window's first event starts a session.
    since = now - timedelta(days=90) - gap
    stream = (
        events.filter(occurred_at__gte=since)
        .order_by("visitor_id", "occurred_at")
        .values_list("visitor_id", "occurred_at")
        .iterator(chunk_size=STREAM_ROWS)
    )
    window = now - timedelta(days=90)
    sessions = {
        visitor_id: sum(s > window for s in session_starts((t for _, t in rows), gap))
        for visitor_id, rows in groupby(stream, key=itemgetter(0))
    }
    value = F("value") if clip is None else Least("value", Value(clip, output_field=MONEY))
    money = dict(
        events.filter(type=PURCHASE, value__isnull=False, occurred_at__gt=window)
        .values("visitor_id")
        .annotate(total=Sum(value, output_field=MONEY))
        .values_list("visitor_id", "total")
    )
    return [(at, sessions.get(v, 0), money.get(v)) for v, at in last.items()]


_MEASURES = """
WITH events AS (
    SELECT e.visitor_id, e.type, e.value, e.occurred_at,
           e.occurred_at - LAG(e.occurred_at) OVER (
               PARTITION BY e.visitor_id ORDER BY e.occurred_at
           ) AS since_previous
    FROM {event} e
    WHERE e.visitor_id NOT IN (SELECT id FROM {visitor} WHERE merged_into_id IS NOT NULL){sample}
)
SELECT MAX(occurred_at),
       COUNT(*) FILTER (
           WHERE (since_previous IS NULL OR since_previous >= %(gap)s) AND occurred_at > %(since)s
       ),
       SUM(LEAST(value, %(clip)s::numeric)) FILTER (
           WHERE type = %(purchase)s AND value IS NOT NULL AND occurred_at > %(since)s
       )
FROM events GROUP BY visitor_id
"""


def _measures_in_database(*, now: datetime, clip: Decimal | None, step: int) -> Measures:
    """The same measures from one aggregate query on PostgreSQL (a window finds sessions).

    Merged visitors are left out by their few ids (their events moved to the survivor), not by
    a join with every visitor; the sort for the window is done in memory (`WORK_MEM`).
    """
    sql = _MEASURES.format(
        event=Event._meta.db_table,
        visitor=Visitor._meta.db_table,
        sample="" if step <= 1 else " AND e.visitor_id %% %(step)s = 0",
    )
    params = {
        "step": step, "gap": session_gap(), "since": now - timedelta(days=90), "clip": clip,
        "purchase": PURCHASE,
    }  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('work_mem', %s, true)", [WORK_MEM])
        cursor.execute(sql, params)
        return cursor.fetchall()

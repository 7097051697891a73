"""Keeping the rollups current: incremental from a watermark, one period at a time.

`insights_compute` reads how far the last run got (`Watermark`: the last impression and
exposure ids and the last event arrival time), finds the days the new rows touch — an event
that arrives late marks the day it happened, not the day it arrived — widens them by what
attribution can reach (a click counts on later conversions up to the window; a conversion
on the holdout exposures of the window before it; activity on the pre-period of the 30 days
after it), and rewrites those days, and the hours of the last two days, one period per
transaction (`insights.queries`). The watermark moves only when every period is written, so a
run that stops half-way is simply done again.

Cost: each period is a handful of grouped statements over that period's rows (indexed by time)
plus one indexed lookup per click and per conversion; a day of N impressions costs about one
GROUP BY of N rows. Memory stays flat: no row comes into Python.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Max, Min
from django.db.models.functions import TruncDate
from django.utils import timezone

from experiments.models import Exposure
from experiments.selectors import PRE_PERIOD
from insights import queries
from insights.models import DeliveryRollup, Granularity, Watermark
from personalization.visitors.models import Event, Impression

WATERMARK = "rollups"
HOURLY_DAYS = 2


@dataclass(frozen=True)
class ComputeResult:
    days: int  # days rewritten
    hours: int  # hours rewritten
    cells: int  # cells written


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
    return start, start + timedelta(days=1)


def _days(queryset, field: str) -> set[date]:
    return set(queryset.annotate(d=TruncDate(field)).values_list("d", flat=True).distinct())


def _spread(days: Iterable[date], before: int, after: int, today: date) -> set[date]:
    return {
        day + timedelta(days=offset)
        for day in days
        for offset in range(-before, after + 1)
        if day + timedelta(days=offset) <= today
    }


@dataclass(frozen=True)
class Dirty:
    delivery: set[date]
    audience: set[date]
    holdout: set[date]


def dirty_days(*, watermark: Watermark, limits: dict, today: date) -> Dirty:
    """The days each rollup must rewrite for the rows that arrived since the watermark."""
    impressions = _days(
        Impression.objects.filter(pk__gt=watermark.impression_id, pk__lte=limits["impression"]),
        "shown_at",
    )
    touched: set[date] = set()
    if limits["event"] is not None:  # no event at all yet: nothing touched by events
        events = Event.objects.filter(received_at__lte=limits["event"])
        if watermark.event_received_at is not None:
            events = events.filter(received_at__gt=watermark.event_received_at)
        touched = _days(events, "occurred_at")
    exposures = _days(
        Exposure.objects.filter(pk__gt=watermark.exposure_id, pk__lte=limits["exposure"]),
        "exposed_at",
    )
    reach = math.ceil(queries.window() / timedelta(days=1))
    first_shown = Impression.objects.aggregate(m=Min("shown_at"))["m"]
    # Nothing reaches a slot's cells before its first impression, nor a holdout's without exposures.
    shown_since = timezone.localdate(first_shown) if first_shown else today + timedelta(days=1)
    exposed = _days(Exposure.objects.filter(experiment__is_holdout=True), "exposed_at")
    return Dirty(
        delivery={d for d in _spread(impressions | touched, 0, reach, today) if d >= shown_since},
        audience=_spread(touched, 0, 1, today),
        holdout=(exposures | _spread(touched, reach, 0, today)
                 | _spread(touched, 0, PRE_PERIOD.days, today)) & exposed,
    )  # fmt: skip


def _limits() -> dict:
    """The newest rows now: this run reads up to them, the next one after them."""
    return {
        "impression": Impression.objects.aggregate(m=Max("pk"))["m"] or 0,
        "exposure": Exposure.objects.aggregate(m=Max("pk"))["m"] or 0,
        "event": Event.objects.aggregate(m=Max("received_at"))["m"],
    }


def periods_write(
    *, dirty: Dirty, now: datetime, progress: Callable[[str], None] | None = None
) -> ComputeResult:
    """Rewrite the dirty days of each rollup and the dirty hours of the last two days."""
    cells = hours = 0
    for day in sorted(dirty.delivery):
        start, end = _day_bounds(day)
        cells += queries.delivery_period_write(granularity=Granularity.DAY, start=start, end=end)
        if day >= timezone.localdate(now) - timedelta(days=HOURLY_DAYS):
            for hour in range(24):
                hour_start = start + timedelta(hours=hour)
                if hour_start > now or hour_start < now - timedelta(days=HOURLY_DAYS):
                    continue
                cells += queries.delivery_period_write(
                    granularity=Granularity.HOUR, start=hour_start,
                    end=hour_start + timedelta(hours=1),
                )  # fmt: skip
                hours += 1
        if progress:
            progress(f"delivery {day}")
    for day in sorted(dirty.audience):
        cells += queries.audience_day_write(day=day, start=_day_bounds(day)[0],
                                            end=_day_bounds(day)[1])  # fmt: skip
    for day in sorted(dirty.holdout):
        cells += queries.holdout_day_write(day=day, start=_day_bounds(day)[0],
                                           end=_day_bounds(day)[1])  # fmt: skip
    DeliveryRollup.objects.filter(
        granularity=Granularity.HOUR, period_start__lt=now - timedelta(days=HOURLY_DAYS)
    ).delete()
    days = len(dirty.delivery | dirty.audience | dirty.holdout)
    return ComputeResult(days=days, hours=hours, cells=cells)


def insights_compute(
    *, now: datetime | None = None, progress: Callable[[str], None] | None = None
) -> ComputeResult:
    """Bring every rollup up to date with the rows that arrived since the last run."""
    now = now or timezone.now()
    watermark, _ = Watermark.objects.get_or_create(name=WATERMARK)
    limits = _limits()
    dirty = dirty_days(watermark=watermark, limits=limits, today=timezone.localdate(now))
    result = periods_write(dirty=dirty, now=now, progress=progress)
    written = {"computed_at": timezone.now()} if result.days or result.hours else {}
    Watermark.objects.filter(pk=watermark.pk).update(
        impression_id=limits["impression"], exposure_id=limits["exposure"],
        event_received_at=limits["event"] or watermark.event_received_at, **written,
    )  # fmt: skip
    return result


def insights_recompute(
    *, days: int, now: datetime | None = None, progress: Callable[[str], None] | None = None
) -> ComputeResult:
    """Rewrite the last `days` days of every rollup, whatever the watermark says."""
    if days < 1:
        raise ValueError("days must be 1 or more")
    now = now or timezone.now()
    today = timezone.localdate(now)
    last = {today - timedelta(days=n) for n in range(days)}
    result = periods_write(dirty=Dirty(last, set(last), set(last)), now=now, progress=progress)
    Watermark.objects.update_or_create(name=WATERMARK, defaults={"computed_at": timezone.now()})
    return result

"""A metric over time per variation: its cumulative value at the end of each day, with a 95 % band.

- Conversion and click-through rate: the share of the visitors exposed by the end of the day
  who had converted by then, with a Wald band.
- Revenue per visitor: what the visitors exposed by the end of the day had spent by then within
  their windows, each purchase counted on the day it happened, with a normal band from the
  spread between visitors. Read in two queries: the exposures, and the metric's events with a
  value from the first exposure to the last window's end.

Days are local days from the experiment's start (or first exposure) to its end (or now), the
last 90 at most; a day before anyone was exposed has no point.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

import numpy as np
from django.utils import timezone

from experiments.models import Experiment, Exposure, Metric, Variation
from personalization.visitors.models import Event

Z_95 = 1.959963984540054
DAYS_MAX = 90


@dataclass(frozen=True)
class SeriesPoint:
    day: date
    visitors: int
    mean: float
    low: float
    high: float


def _days(start: datetime, end: datetime) -> list[date]:
    first, last = timezone.localtime(start).date(), timezone.localtime(end).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)][-DAYS_MAX:]


def _end_of(day: date, tz: tzinfo) -> float:
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), tz).timestamp()


def rate_series(
    rows: list[tuple], variations: list[Variation], start: datetime, end: datetime
) -> dict[str, list[SeriesPoint]]:
    """The cumulative rate per variation from `exposure_rows` (variation, exposed, converted)."""
    series: dict[str, list[SeriesPoint]] = {v.key: [] for v in variations}
    days, tz = _days(start, end), timezone.get_current_timezone()
    for variation in variations:
        own = [r for r in rows if r[0] == variation.pk]
        exposed = np.array(sorted(r[1].timestamp() for r in own))
        converted = np.array(sorted(r[2].timestamp() for r in own if r[2] is not None))
        for day in days:
            cutoff = _end_of(day, tz)
            n = int(np.searchsorted(exposed, cutoff))
            if n == 0:
                continue
            rate = int(np.searchsorted(converted, cutoff)) / n
            half = Z_95 * math.sqrt(rate * (1 - rate) / n)
            series[variation.key].append(
                SeriesPoint(day, n, rate, max(rate - half, 0.0), min(rate + half, 1.0))
            )
    return series


def revenue_series(
    experiment: Experiment,
    metric: Metric,
    variations: list[Variation],
    start: datetime,
    end: datetime,
) -> dict[str, list[SeriesPoint]]:
    """Cumulative revenue per exposed visitor per variation, each purchase on its own day."""
    exposures = Exposure.objects.filter(experiment=experiment)
    exposed = {
        visitor: (variation, at)
        for visitor, variation, at in exposures.values_list(
            "visitor_id", "variation_id", "exposed_at"
        )
    }
    series: dict[str, list[SeriesPoint]] = {v.key: [] for v in variations}
    if not exposed:
        return series
    window = timedelta(hours=metric.window_hours)
    times = [at for _, at in exposed.values()]
    events = Event.objects.filter(
        visitor_id__in=exposures.values("visitor_id"), type=metric.event_type,
        value__isnull=False, occurred_at__gte=min(times), occurred_at__lt=max(times) + window,
    ).values_list("visitor_id", "occurred_at", "value")  # fmt: skip
    spent: dict[int, list[tuple[float, int, float]]] = defaultdict(list)
    for visitor, when, value in events:
        variation, at = exposed[visitor]
        if at <= when < at + window:
            spent[variation].append((when.timestamp(), visitor, float(value)))
    days, tz = _days(start, end), timezone.get_current_timezone()
    for variation in variations:
        starts = np.array(sorted(at.timestamp() for v, at in exposed.values() if v == variation.pk))
        series[variation.key] = _cumulative_means(starts, sorted(spent[variation.pk]), days, tz)
    return series


def _cumulative_means(
    starts: np.ndarray, purchases: list[tuple[float, int, float]], days: list[date], tz: tzinfo
) -> list[SeriesPoint]:
    """Mean spend per visitor exposed by each day's end, purchases (time, visitor, value) taken
    in time order; the sum of squares follows each visitor's running total."""
    points, totals = [], defaultdict(float)
    total = squares = 0.0
    taken = 0
    for day in days:
        cutoff = _end_of(day, tz)
        while taken < len(purchases) and purchases[taken][0] < cutoff:
            _, visitor, value = purchases[taken]
            before = totals[visitor]
            totals[visitor] = before + value
            total += value
            squares += (before + value) ** 2 - before**2
            taken += 1
        n = int(np.searchsorted(starts, cutoff))
        if n == 0:
            continue
        mean = total / n
        variance = max(squares / n - mean * mean, 0.0) * n / (n - 1) if n > 1 else 0.0
        half = Z_95 * math.sqrt(variance / n)
        points.append(SeriesPoint(day, n, mean, max(mean - half, 0.0), mean + half))
    return points

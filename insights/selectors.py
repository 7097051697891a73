"""Reads of the rollups for the dashboard, the object panels and the API (never raw rows).

Every reader costs a fixed number of queries whatever the data's size: sums grouped in the
database over the rollups of a date range, then one lookup of the names of what is shown.
A row whose visitors are fewer than `TAILOR_INSIGHTS_MIN_VISITORS` keeps its name but not its
figures (`suppressed`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.utils import timezone

from content.models import ContentItem, SlotRule
from insights.models import AudienceRollup, DeliveryRollup, Granularity, Watermark
from personalization.recommendations.models import ModelRun
from personalization.segments.models import Segment


@dataclass(frozen=True)
class Range:
    """Whole days from `start` to `end`, both included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Range:
        return Range(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def bounds(self) -> tuple[datetime, datetime]:
        tz = timezone.get_current_timezone()
        return (datetime.combine(self.start, time.min, tzinfo=tz),
                datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz))  # fmt: skip


EARLIEST, LATEST = date(1970, 1, 1), date(9000, 12, 31)  # a range and the one before it fit


def range_problems(start: date, end: date, max_days: int) -> dict[str, str]:
    """What is wrong with a range asked for, by parameter (empty: nothing)."""
    if start < EARLIEST or start > LATEST:
        return {"from": f"must be between {EARLIEST} and {LATEST}."}
    if end < EARLIEST or end > LATEST:
        return {"to": f"must be between {EARLIEST} and {LATEST}."}
    if end < start:
        return {"to": "the range must end on or after its first day."}
    if (end - start).days >= max_days:
        return {"from": f"a range covers at most {max_days} days."}
    return {}


def range_default(today: date | None = None, days: int = 28) -> Range:
    today = today or timezone.localdate()
    return Range(today - timedelta(days=days - 1), today)


def rollups_version() -> str:
    """Changes whenever rollups are written: what cached drawings of them depend on."""
    computed = Watermark.objects.filter(name="rollups").values_list("computed_at", flat=True)
    moment = computed.first()
    return f"{moment.timestamp():.6f}" if moment else "none"


def threshold() -> int:
    return settings.TAILOR_INSIGHTS_MIN_VISITORS


def ratio(part, whole) -> float | None:
    return float(part) / float(whole) if whole else None


def _days(qs: QuerySet, period: Range) -> QuerySet:
    start, end = period.bounds()
    return qs.filter(granularity=Granularity.DAY, period_start__gte=start, period_start__lt=end)


DELIVERY_SUMS = {
    "impressions": Sum("impressions"), "visitors": Sum("visitors"), "clicks": Sum("clicks"),
    "conversions": Sum("conversions"), "revenue": Sum("revenue"),
}  # fmt: skip


@dataclass(frozen=True)
class Totals:
    impressions: int = 0
    clicks: int = 0
    conversions: int = 0
    revenue: float = 0.0
    visitors: int = 0  # daily visitors, summed over the days
    sessions: int = 0
    buyers: int = 0
    site_conversions: int = 0
    site_revenue: float = 0.0

    @property
    def ctr(self) -> float | None:
        return ratio(self.clicks, self.impressions)

    @property
    def conversion_rate(self) -> float | None:
        return ratio(self.buyers, self.visitors)

    @property
    def revenue_per_visitor(self) -> float | None:
        return ratio(self.site_revenue, self.visitors)


def totals(period: Range) -> Totals:
    """Headline sums of a range: two queries."""
    delivery = _days(DeliveryRollup.objects.all(), period).aggregate(**DELIVERY_SUMS)
    audience = AudienceRollup.objects.filter(
        segment_id=AudienceRollup.EVERYONE, day__gte=period.start, day__lte=period.end
    ).aggregate(visitors=Sum("visitors"), sessions=Sum("sessions"), buyers=Sum("buyers"),
                conversions=Sum("conversions"), revenue=Sum("revenue"))  # fmt: skip
    return Totals(
        impressions=delivery["impressions"] or 0, clicks=delivery["clicks"] or 0,
        conversions=delivery["conversions"] or 0, revenue=float(delivery["revenue"] or 0),
        visitors=audience["visitors"] or 0, sessions=audience["sessions"] or 0,
        buyers=audience["buyers"] or 0, site_conversions=audience["conversions"] or 0,
        site_revenue=float(audience["revenue"] or 0),
    )  # fmt: skip


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: float | None
    previous: float | None
    kind: str  # count, money, rate

    @property
    def change(self) -> float | None:
        if self.value is None or not self.previous:
            return None
        return self.value / self.previous - 1


KPI_LABELS = [
    ("visitors", "Visitors (daily, summed)", "count"), ("impressions", "Impressions", "count"),
    ("clicks", "Clicks", "count"), ("ctr", "Click-through rate", "rate"),
    ("conversions", "Conversions after a click", "count"),
    ("revenue", "Revenue after a click", "money"),
    ("conversion_rate", "Conversion rate", "rate"),
    ("revenue_per_visitor", "Revenue per visitor", "money"),
]  # fmt: skip


def kpis(period: Range) -> list[Kpi]:
    """The headline figures of a range beside those of the range just before it."""
    now, before = totals(period), totals(period.previous())
    return [Kpi(key, label, getattr(now, key), getattr(before, key), kind)
            for key, label, kind in KPI_LABELS]  # fmt: skip


@dataclass(frozen=True)
class DayPoint:
    day: date
    impressions: int
    clicks: int
    conversions: int
    visitors: int
    buyers: int
    revenue: float

    @property
    def ctr(self) -> float | None:
        return ratio(self.clicks, self.impressions)

    @property
    def conversion_rate(self) -> float | None:
        return ratio(self.buyers, self.visitors)


def series_daily(period: Range) -> list[DayPoint]:
    """One point a day of the range (zeros where nothing happened): two queries."""
    delivery = {
        timezone.localtime(row["period_start"]).date(): row
        for row in _days(DeliveryRollup.objects.all(), period)
        .values("period_start").annotate(**DELIVERY_SUMS)
    }  # fmt: skip
    audience = {
        row["day"]: row
        for row in AudienceRollup.objects.filter(
            segment_id=AudienceRollup.EVERYONE, day__gte=period.start, day__lte=period.end
        ).values("day", "visitors", "buyers", "revenue")
    }
    points = []
    for n in range(period.days):
        day = period.start + timedelta(days=n)
        d, a = delivery.get(day, {}), audience.get(day, {})
        points.append(DayPoint(
            day, d.get("impressions") or 0, d.get("clicks") or 0, d.get("conversions") or 0,
            a.get("visitors") or 0, a.get("buyers") or 0, float(a.get("revenue") or 0),
        ))  # fmt: skip
    return points


@dataclass
class Row:
    """One line of a table: what it is, and its figures (None when suppressed)."""

    key: str
    label: str
    impressions: int | None
    visitors: int | None
    clicks: int | None
    conversions: int | None
    revenue: float | None
    extra: dict = field(default_factory=dict)

    @property
    def suppressed(self) -> bool:
        return self.impressions is None

    @property
    def ctr(self) -> float | None:
        return None if self.suppressed else ratio(self.clicks, self.impressions)


def _row(key: str, label: str, sums: dict) -> Row:
    if (sums.get("visitors") or 0) < threshold():
        return Row(key, label, None, None, None, None, None)
    return Row(key, label, sums["impressions"], sums["visitors"], sums["clicks"],
               sums["conversions"], float(sums["revenue"] or 0))  # fmt: skip


def _rule_labels(ids) -> dict[int, str]:
    rules = SlotRule.objects.filter(pk__in=[i for i in ids if i]).select_related("slot")
    return {r.pk: f"{r.slot.key}: {r.name or f'rule {r.position}'}" for r in rules}


def slot_rows(period: Range, *, slot: str | None = None) -> list[Row]:
    qs = _days(DeliveryRollup.objects.all(), period)
    if slot is not None:
        qs = qs.filter(slot=slot)
    sums = qs.values("slot").annotate(**DELIVERY_SUMS).order_by("slot")
    return [_row(s["slot"], s["slot"], s) for s in sums]


def rule_rows(period: Range, *, slot: str | None = None) -> list[Row]:
    qs = _days(DeliveryRollup.objects.all(), period)
    if slot is not None:
        qs = qs.filter(slot=slot)
    sums = list(qs.values("slot", "rule_id").annotate(**DELIVERY_SUMS).order_by("slot", "rule_id"))
    labels = _rule_labels(s["rule_id"] for s in sums)
    return [_row(f"{s['slot']}:{s['rule_id']}", _rule_label(s, labels), s) for s in sums]


def _rule_label(sums: dict, labels: dict[int, str]) -> str:
    if not sums["rule_id"]:
        return f"{sums['slot']}: default, holdout or experiment"
    return labels.get(sums["rule_id"]) or f"{sums['slot']}: rule #{sums['rule_id']} (deleted)"


def item_rows(period: Range, *, item_id: int | None = None) -> list[Row]:
    qs = _days(DeliveryRollup.objects.all(), period)
    if item_id is not None:
        qs = qs.filter(item_id=item_id)
    sums = list(qs.values("item_id").annotate(**DELIVERY_SUMS).order_by("item_id"))
    titles = dict(ContentItem.objects.filter(pk__in=[s["item_id"] for s in sums])
                  .values_list("pk", "title"))  # fmt: skip
    return [_row(str(s["item_id"]), titles.get(s["item_id"], f"item #{s['item_id']} (deleted)"), s)
            for s in sums]  # fmt: skip


def ranked(rows: list[Row], n: int = 5) -> tuple[list[Row], list[Row]]:
    """The best and the worst `n` rows by click-through rate (suppressed rows left out)."""
    shown = sorted((r for r in rows if not r.suppressed and r.impressions),
                   key=lambda r: (r.ctr or 0, r.impressions or 0), reverse=True)  # fmt: skip
    return shown[:n], list(reversed(shown[-n:])) if len(shown) > n else []


@dataclass(frozen=True)
class SegmentRow:
    key: str
    label: str
    visitors: int | None
    sessions: int | None
    buyers: int | None
    conversions: int | None
    revenue: float | None

    @property
    def suppressed(self) -> bool:
        return self.visitors is None

    @property
    def conversion_rate(self) -> float | None:
        return None if self.suppressed else ratio(self.buyers, self.visitors)

    @property
    def revenue_per_visitor(self) -> float | None:
        return None if self.suppressed else ratio(self.revenue, self.visitors)


def segment_rows(period: Range, *, segment_id: int | None = None) -> list[SegmentRow]:
    qs = AudienceRollup.objects.filter(day__gte=period.start, day__lte=period.end)
    qs = qs.filter(segment_id=segment_id) if segment_id is not None else qs
    sums = list(qs.values("segment_id").annotate(
        visitors_=Sum("visitors"), sessions_=Sum("sessions"), buyers_=Sum("buyers"),
        conversions_=Sum("conversions"), revenue_=Sum("revenue"),
    ).order_by("segment_id"))  # fmt: skip
    names = dict(Segment.objects.filter(pk__in=[s["segment_id"] for s in sums])
                 .values_list("pk", "name"))  # fmt: skip
    rows = []
    for s in sums:
        sid = s["segment_id"]
        label = "Every visitor" if sid == 0 else names.get(sid, f"segment #{sid} (deleted)")
        if (s["visitors_"] or 0) < threshold():
            rows.append(SegmentRow(str(sid), label, None, None, None, None, None))
            continue
        rows.append(SegmentRow(str(sid), label, s["visitors_"], s["sessions_"], s["buyers_"],
                               s["conversions_"], float(s["revenue_"] or 0)))  # fmt: skip
    return rows


def segment_series(period: Range, segment_id: int) -> list[tuple[date, float | None]]:
    """A segment's conversion rate each day (None where its visitors are too few)."""
    rows = dict(
        (r["day"], r) for r in AudienceRollup.objects.filter(
            segment_id=segment_id, day__gte=period.start, day__lte=period.end
        ).values("day", "visitors", "buyers")
    )  # fmt: skip
    out = []
    for n in range(period.days):
        day = period.start + timedelta(days=n)
        r = rows.get(day)
        enough = r is not None and r["visitors"] >= threshold()
        out.append((day, ratio(r["buyers"], r["visitors"]) if enough else None))
    return out


def algorithm_rows(period: Range) -> list[Row]:
    """Recommendation rules' figures per model run (the run current each day), with coverage.

    Coverage is the share of the published catalogue that was actually shown.
    """
    runs = list(ModelRun.objects.filter(kind=ModelRun.Kind.COMPUTE, status=ModelRun.Status.FINISHED,
                                        finished_at__isnull=False)
                .order_by("finished_at").values("pk", "algorithm", "finished_at"))  # fmt: skip
    strategy = SlotRule.Strategy.RECOMMENDATIONS
    rule_ids = list(SlotRule.objects.filter(strategy=strategy).values_list("pk", flat=True))
    recommended = _days(DeliveryRollup.objects.filter(rule_id__in=rule_ids), period)
    cells = recommended.values("period_start").annotate(**DELIVERY_SUMS)
    per_run: dict[int, dict] = {}
    items_by_run: dict[int, set[int]] = {}
    for start, item in recommended.values_list("period_start", "item_id").distinct():
        run = _run_at(runs, start)
        items_by_run.setdefault(run["pk"] if run else 0, set()).add(item)
    for cell in cells:
        run = _run_at(runs, cell["period_start"])
        key = run["pk"] if run else 0
        acc = per_run.setdefault(key, {k: 0 for k in DELIVERY_SUMS} | {"run": run})
        for k in DELIVERY_SUMS:
            acc[k] += cell[k] or 0
    catalogue = ContentItem.objects.filter(status=ContentItem.Status.PUBLISHED).count()
    rows = []
    for key, acc in per_run.items():
        run = acc["run"]
        label = f"{run['algorithm']} (run {key})" if run else "before any model run (affinities)"
        row = _row(str(key), label, acc)
        row.extra = {"coverage": ratio(len(items_by_run.get(key, ())), catalogue),
                     "algorithm": run["algorithm"] if run else ""}  # fmt: skip
        rows.append(row)
    return rows


def _run_at(runs: list[dict], moment: datetime) -> dict | None:
    current = None
    for run in runs:
        if run["finished_at"] <= moment + timedelta(days=1):
            current = run
    return current


def hourly_series(now: datetime | None = None) -> list[tuple[datetime, int, int]]:
    """Impressions and clicks each hour of the last two days."""
    now = now or timezone.now()
    rows = (DeliveryRollup.objects.filter(granularity=Granularity.HOUR,
                                          period_start__gte=now - timedelta(days=2))
            .values("period_start").annotate(i=Sum("impressions"), c=Sum("clicks"))
            .order_by("period_start"))  # fmt: skip
    return [(r["period_start"], r["i"] or 0, r["c"] or 0) for r in rows]

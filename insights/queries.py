"""The SQL that fills each rollup for one period: `INSERT … SELECT … GROUP BY … ON CONFLICT`.

The rows of a period (impressions, clicks, conversions, events, exposures) are selected by the
ORM, so that date arithmetic and JSON lookups are the database's own (PostgreSQL in production,
SQLite for `make run`), and aggregated by one `INSERT … SELECT` in the database: no raw row
comes into Python. Writing a period deletes its cells first and upserts the new ones, in one
transaction, so recomputing a period gives the same rows and a cell nobody saw any more goes.

Attribution (README, "Insights"): a click belongs to the last impression of the same item in
the same slot to the same visitor at most the window before it (its rule), and a conversion to
the visitor's last click on a slot at most the window before it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    DecimalField,
    Exists,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce

from experiments.models import Exposure
from experiments.selectors import PRE_PERIOD
from insights.models import AudienceRollup, DeliveryRollup, HoldoutRollup
from personalization.segments.models import SegmentMembership
from personalization.visitors.models import Event, Impression

SESSION_GAP = timedelta(minutes=30)
MONEY = DecimalField(max_digits=18, decimal_places=4)


def window() -> timedelta:
    return timedelta(hours=settings.TAILOR_INSIGHTS_ATTRIBUTION_HOURS)


def conversion_event() -> str:
    return settings.TAILOR_INSIGHTS_CONVERSION_EVENT


def _slot_clicks() -> QuerySet:
    """Clicks on an item shown in a slot (tracked links and the tracker name the slot)."""
    return (
        Event.objects.filter(type=Event.Type.CLICK, item_id__isnull=False)
        .annotate(slot_key=KT("properties__slot"))
        .filter(slot_key__isnull=False)
    )


def _click_rule() -> Coalesce:
    """The rule of a click: that of the last impression it can follow (0: none, or default)."""
    shown = Impression.objects.filter(
        visitor_id=OuterRef("visitor_id"), item_id=OuterRef("item_id"), slot=OuterRef("slot_key"),
        shown_at__lte=OuterRef("occurred_at"), shown_at__gt=OuterRef("occurred_at") - window(),
    ).order_by("-shown_at", "-pk")  # fmt: skip
    return Coalesce(Subquery(shown.values("rule_id")[:1]), 0, output_field=IntegerField())


def _zero(kind=IntegerField):
    return Value(0, output_field=kind())


def _impression_cells(start: datetime, end: datetime) -> QuerySet:
    return (
        Impression.objects.filter(shown_at__gte=start, shown_at__lt=end)
        .values(
            cell_slot=F("slot"),
            cell_rule=Coalesce("rule_id", 0, output_field=IntegerField()),
            cell_item=F("item_id"),
        )
        .annotate(
            impressions=Count("pk"),
            visitors=Count("visitor_id", distinct=True),
            clicks=_zero(),
            conversions=_zero(),
            revenue=_zero(lambda: MONEY),
        )
    )


def _click_cells(start: datetime, end: datetime) -> QuerySet:
    return (
        _slot_clicks()
        .filter(occurred_at__gte=start, occurred_at__lt=end)
        .annotate(rule=_click_rule())
        .values(cell_slot=F("slot_key"), cell_rule=F("rule"), cell_item=F("item_id"))
        .annotate(
            impressions=_zero(),
            visitors=_zero(),
            clicks=Count("pk"),
            conversions=_zero(),
            revenue=_zero(lambda: MONEY),
        )
    )


def _conversion_cells(start: datetime, end: datetime) -> QuerySet:
    last_click = (
        _slot_clicks()
        .filter(
            visitor_id=OuterRef("visitor_id"),
            occurred_at__lte=OuterRef("occurred_at"),
            occurred_at__gt=OuterRef("occurred_at") - window(),
        )
        .order_by("-occurred_at", "-pk")
    )
    return (
        Event.objects.filter(type=conversion_event(), occurred_at__gte=start, occurred_at__lt=end)
        .annotate(
            c_slot=Subquery(last_click.values("slot_key")[:1]),
            c_item=Subquery(last_click.values("item_id")[:1]),
            c_rule=Subquery(last_click.annotate(rule=_click_rule()).values("rule")[:1]),
        )
        .filter(c_slot__isnull=False)
        .values(cell_slot=F("c_slot"), cell_rule=F("c_rule"), cell_item=F("c_item"))
        .annotate(
            impressions=_zero(),
            visitors=_zero(),
            clicks=_zero(),
            conversions=Count("pk"),
            revenue=Coalesce(Sum("value"), _zero(lambda: MONEY), output_field=MONEY),
        )
    )


def _delivery_cells(start: datetime, end: datetime) -> list[QuerySet]:
    return [_impression_cells(start, end), _click_cells(start, end),
            _conversion_cells(start, end)]  # fmt: skip


def _union(queries: list[QuerySet], columns: str) -> tuple[str, list]:
    """`SELECT columns FROM (q1) UNION ALL …` of compiled querysets, with their parameters."""
    parts, params = [], []
    for index, query in enumerate(queries):
        sql, query_params = query.query.sql_with_params()
        # Column names come from this module, the subquery from the ORM: nothing from outside.
        parts.append(f"SELECT {columns} FROM ({sql}) AS part{index}")  # noqa: S608
        params.extend(query_params)
    return " UNION ALL ".join(parts), params


# Compiling these querysets costs far more Python than running them on a small period, so each
# is compiled once (per database vendor and settings) with marker bounds swapped per period.
_START = datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)
_END = datetime(1902, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
_compiled: dict[tuple, tuple[str, list, list[tuple[int, datetime]]]] = {}


def _statement(
    build: Callable[[datetime, datetime], list[QuerySet]], columns: str,
    start: datetime, end: datetime,
) -> tuple[str, list]:  # fmt: skip
    """The union of `build(start, end)`'s querysets as SQL and parameters for this period."""
    key = (build.__name__, connection.vendor, window(), conversion_event())
    if key not in _compiled:
        body, params = _union(build(_START, _END), columns)
        marks = [(i, marker) for i, p in enumerate(params) for marker in (_START, _END)
                 if p in (marker, connection.ops.adapt_datetimefield_value(marker))]  # fmt: skip
        if len(marks) < 2:
            raise ValueError(f"{build.__name__}: the period's bounds are not parameters")
        _compiled[key] = (body, params, marks)
    body, params, marks = _compiled[key]
    bound = list(params)
    for i, marker in marks:
        value = start if marker is _START else end
        bound[i] = value if bound[i] is marker else connection.ops.adapt_datetimefield_value(value)
    return body, bound


def _adapt(value):
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return connection.ops.adapt_datefield_value(value)


def _upsert(
    model, keys: dict, columns: list[str], select: str, group: str, body: str, params: list
) -> int:
    """Replace the cells of one period: delete them, then `INSERT … SELECT … ON CONFLICT`."""
    table = model._meta.db_table
    key_names = list(keys)
    stale = model.objects.filter(**keys)
    stale._raw_delete(stale.db)  # rollups have no relations nor signals to honour
    update = ", ".join(f"{c} = excluded.{c}" for c in columns)
    placeholders = ", ".join(["%s"] * len(keys))
    cell = ", ".join([*key_names, *group_key_columns(model, key_names)])
    # Names and clauses come from this module and the models; values are parameters. SQLite
    # needs the WHERE to tell the upsert's ON CONFLICT from a join's ON.
    sql = (
        f"INSERT INTO {table} ({cell}, {', '.join(columns)}) "  # noqa: S608
        f"SELECT {placeholders}, {select} FROM ({body}) AS cells "
        f"WHERE 1 = 1 GROUP BY {group} ON CONFLICT ({cell}) DO UPDATE SET {update}"
    )
    bound = [v if isinstance(v, str) else _adapt(v) for v in keys.values()]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*bound, *params])
        return cursor.rowcount


def group_key_columns(model, key_names: list[str]) -> list[str]:
    """The unique cell's columns that the SELECT groups by (the rest of the unique constraint)."""
    unique = model._meta.constraints[0].fields
    return [model._meta.get_field(name).column for name in unique if name not in key_names]


DELIVERY = ["impressions", "visitors", "clicks", "conversions", "revenue"]


@transaction.atomic
def delivery_period_write(*, granularity: str, start: datetime, end: datetime) -> int:
    """Every slot, rule and item cell of one day or hour; returns the cells written."""
    columns = "cell_slot, cell_rule, cell_item, " + ", ".join(DELIVERY)
    body, params = _statement(_delivery_cells, columns, start, end)
    select = "cell_slot, cell_rule, cell_item, " + ", ".join(f"SUM({c})" for c in DELIVERY)
    return _upsert(
        DeliveryRollup, {"granularity": granularity, "period_start": start}, DELIVERY, select,
        "cell_slot, cell_rule, cell_item", body, params,
    )  # fmt: skip


def _audience_rows(start: datetime, end: datetime) -> list[QuerySet]:
    earlier = Event.objects.filter(
        Q(occurred_at__lt=OuterRef("occurred_at")) | Q(occurred_at=OuterRef("occurred_at"),
                                                       pk__lt=OuterRef("pk")),
        visitor_id=OuterRef("visitor_id"), occurred_at__gte=OuterRef("occurred_at") - SESSION_GAP,
    )  # fmt: skip
    converts = Q(type=conversion_event())
    rows = Event.objects.filter(occurred_at__gte=start, occurred_at__lt=end).annotate(
        starts=Case(When(~Exists(earlier), then=1), default=0, output_field=IntegerField()),
        conv=Case(When(converts, then=1), default=0, output_field=IntegerField()),
        money=Case(When(converts, then=Coalesce("value", _zero(lambda: MONEY))),
                   default=_zero(lambda: MONEY), output_field=MONEY),
    )  # fmt: skip
    everyone = rows.values("visitor_id", "starts", "conv", "money", seg=_zero())
    members = SegmentMembership.objects.filter(visitor_id=OuterRef("visitor_id"))
    by_segment = rows.filter(Exists(members)).values(
        "visitor_id", "starts", "conv", "money", seg=F("visitor__segment_memberships__segment_id")
    )
    return [everyone, by_segment]


AUDIENCE = ["visitors", "sessions", "buyers", "conversions", "revenue"]


@transaction.atomic
def audience_day_write(*, day: date, start: datetime, end: datetime) -> int:
    """Visitors, sessions and conversions of one day, for everyone and for each segment."""
    body, params = _statement(_audience_rows, "seg, visitor_id, starts, conv, money", start, end)
    select = (
        "seg, COUNT(DISTINCT visitor_id), SUM(starts), "
        "COUNT(DISTINCT CASE WHEN conv = 1 THEN visitor_id END), SUM(conv), SUM(money)"
    )
    return _upsert(AudienceRollup, {"day": day}, AUDIENCE, select, "seg", body, params)


def _holdout_rows(start: datetime, end: datetime) -> list[QuerySet]:
    after = Event.objects.filter(
        visitor_id=OuterRef("visitor_id"), type=conversion_event(),
        occurred_at__gte=OuterRef("exposed_at"), occurred_at__lt=OuterRef("exposed_at") + window(),
    )  # fmt: skip
    before = Event.objects.filter(
        visitor_id=OuterRef("visitor_id"), occurred_at__lt=OuterRef("exposed_at"),
        occurred_at__gte=OuterRef("exposed_at") - PRE_PERIOD,
    )  # fmt: skip
    spent = after.values("visitor_id").annotate(total=Sum("value")).values("total")[:1]
    counted = before.values("visitor_id").annotate(n=Count("pk")).values("n")[:1]
    return [Exposure.objects.filter(
        experiment__is_holdout=True, exposed_at__gte=start, exposed_at__lt=end
    ).values(
        "experiment_id",
        arm=Case(When(variation__is_control=True, then=Value(HoldoutRollup.HOLDOUT)),
                 default=Value(HoldoutRollup.PERSONALIZED)),
        converted=Case(When(Exists(after), then=1), default=0, output_field=IntegerField()),
        spent=Cast(Coalesce(Subquery(spent), _zero(lambda: MONEY)), FloatField()),
        pre=Cast(Coalesce(Subquery(counted), 0), FloatField()),
    )]  # fmt: skip


HOLDOUT = ["visitors", "conversions", "revenue", "revenue_sq", "pre", "pre_sq", "pre_revenue",
           "pre_converted"]  # fmt: skip


@transaction.atomic
def holdout_day_write(*, day: date, start: datetime, end: datetime) -> int:
    """The uplift's sums for visitors first exposed to the holdout on one day."""
    body, params = _statement(
        _holdout_rows, "experiment_id, arm, converted, spent, pre", start, end
    )
    select = (
        "experiment_id, arm, COUNT(*), SUM(converted), SUM(spent), SUM(spent * spent), SUM(pre), "
        "SUM(pre * pre), SUM(pre * spent), SUM(pre * converted)"
    )
    return _upsert(HoldoutRollup, {"day": day}, HOLDOUT, select, "experiment_id, arm", body, params)

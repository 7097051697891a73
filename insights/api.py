"""`GET /api/v1/insights/…`: the dashboard's figures for BI tools (scope `insights:read`).

Aggregates only, read from the rollups: no visitor is named, and a row with fewer visitors
than `TAILOR_INSIGHTS_MIN_VISITORS` keeps its name but has `suppressed: true` and null figures.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.auth import scope
from config.schema import errors
from insights import selectors, tables
from insights.selectors import Range
from insights.uplift import MetricUplift, uplift
from insights.views import MAX_DAYS

InsightsRead = scope("insights:read")

RANGE = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="First day (default: 27 days ago)."),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Last day, included (default: today)."),
]
BAD_RANGE = (400, "A day that is not YYYY-MM-DD, or a range that ends before it starts or "
             f"covers more than {MAX_DAYS} days.")  # fmt: skip


class RangeInput(serializers.Serializer):
    def get_fields(self):
        return {"from": serializers.DateField(required=False),
                "to": serializers.DateField(required=False)}  # fmt: skip

    def validate(self, attrs):
        default = selectors.range_default()
        start, end = attrs.get("from", default.start), attrs.get("to", default.end)
        if "from" in attrs and "to" not in attrs and start > end:
            end = start
        problems = selectors.range_problems(start, end, MAX_DAYS)
        if problems:
            raise serializers.ValidationError({k: [v] for k, v in problems.items()})
        return Range(start, end)


def _period(request: Request) -> Range:
    serializer = RangeInput(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema_serializer(component_name="InsightsMetricUplift")
class MetricUpliftSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="conversion rate or revenue per visitor.")
    holdout = serializers.FloatField(help_text="The holdout's mean (CUPED-adjusted if `cuped`).")
    personalized = serializers.FloatField()
    lift = serializers.FloatField(allow_null=True, help_text="personalized / holdout - 1.")
    low = serializers.FloatField(allow_null=True, help_text="95 % interval of the lift.")
    high = serializers.FloatField(allow_null=True)
    p_value = serializers.FloatField()
    cuped = serializers.BooleanField()
    variance_reduction = serializers.FloatField()


@extend_schema_serializer(component_name="InsightsUplift")
class UpliftSerializer(serializers.Serializer):
    holdout_experiment = serializers.CharField(allow_null=True)
    holdout_visitors = serializers.IntegerField(allow_null=True)
    personalized_visitors = serializers.IntegerField(allow_null=True)
    conversion = MetricUpliftSerializer(allow_null=True)
    revenue = MetricUpliftSerializer(allow_null=True)
    verdict = serializers.CharField(help_text="The headline in plain words.")
    significant = serializers.BooleanField()


@extend_schema_serializer(component_name="InsightsKpi")
class KpiSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    value = serializers.FloatField(allow_null=True)
    previous = serializers.FloatField(allow_null=True, help_text="The range just before.")
    change = serializers.FloatField(allow_null=True, help_text="value / previous - 1.")


def _metric(m: MetricUplift | None) -> dict | None:
    return None if m is None else vars(m)


class InsightsSummaryApi(APIView):
    """Headline KPIs of a date range beside the previous one, and personalization's uplift."""

    permission_classes = [InsightsRead]

    @extend_schema_serializer(component_name="InsightsSummary")
    class OutputSerializer(serializers.Serializer):
        start = serializers.DateField()
        end = serializers.DateField()
        kpis = KpiSerializer(many=True)
        uplift = UpliftSerializer()

    @extend_schema(
        summary="Insights: KPIs and uplift", parameters=RANGE, tags=["insights"],
        description="Scope `insights:read`. Aggregates only.",
        responses={200: OutputSerializer, **errors(BAD_RANGE)},
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        period = _period(request)
        result = uplift(period)
        body: dict[str, Any] = {
            "start": period.start, "end": period.end,
            "kpis": [{"key": k.key, "label": k.label, "value": k.value, "previous": k.previous,
                      "change": k.change} for k in selectors.kpis(period)],
            "uplift": {
                "holdout_experiment": result.experiment.key if result.experiment else None,
                "holdout_visitors": result.holdout.visitors if result.holdout else None,
                "personalized_visitors":
                    result.personalized.visitors if result.personalized else None,
                "conversion": _metric(result.conversion), "revenue": _metric(result.revenue),
                "verdict": result.verdict, "significant": result.significant,
            },
        }  # fmt: skip
        return Response(self.OutputSerializer(body).data)


class InsightsDailyApi(APIView):
    """One row a day: impressions, clicks, attributed conversions, visitors, buyers, revenue."""

    permission_classes = [InsightsRead]

    @extend_schema_serializer(component_name="InsightsDay")
    class OutputSerializer(serializers.Serializer):
        day = serializers.DateField()
        impressions = serializers.IntegerField()
        clicks = serializers.IntegerField()
        ctr = serializers.FloatField(allow_null=True)
        conversions = serializers.IntegerField(help_text="Attributed to a click on a slot.")
        visitors = serializers.IntegerField()
        buyers = serializers.IntegerField()
        conversion_rate = serializers.FloatField(allow_null=True)
        revenue = serializers.FloatField(help_text="Every conversion's value that day.")

    @extend_schema(
        summary="Insights: day by day", parameters=RANGE, tags=["insights"],
        description="Scope `insights:read`.",
        responses={200: OutputSerializer(many=True), **errors(BAD_RANGE)},
    )  # fmt: skip
    def get(self, request: Request) -> Response:
        points = selectors.series_daily(_period(request))
        return Response(self.OutputSerializer(points, many=True).data)


class InsightsTableApi(APIView):
    """A dashboard table: slots, rules, items, segments or algorithms, every row."""

    permission_classes = [InsightsRead]

    @extend_schema_serializer(component_name="InsightsRow")
    class OutputSerializer(serializers.Serializer):
        key = serializers.CharField(help_text="Slot key, `slot:rule id`, item id, segment id, …")
        label = serializers.CharField()
        suppressed = serializers.BooleanField(help_text="Too few visitors: figures are null.")
        impressions = serializers.IntegerField(allow_null=True, required=False)
        visitors = serializers.IntegerField(allow_null=True)
        clicks = serializers.IntegerField(allow_null=True, required=False)
        ctr = serializers.FloatField(allow_null=True, required=False)
        sessions = serializers.IntegerField(allow_null=True, required=False)
        buyers = serializers.IntegerField(allow_null=True, required=False)
        conversion_rate = serializers.FloatField(allow_null=True, required=False)
        conversions = serializers.IntegerField(allow_null=True)
        revenue = serializers.FloatField(allow_null=True)
        revenue_per_visitor = serializers.FloatField(allow_null=True, required=False)
        coverage = serializers.FloatField(allow_null=True, required=False)

    @extend_schema(
        summary="Insights: one table", tags=["insights"],
        parameters=[OpenApiParameter("table", str, OpenApiParameter.PATH, enum=list(tables.TABLES)),
                    *RANGE],
        description="Scope `insights:read`. `slots`, `rules`, `items` (impressions, clicks, "
        "conversions attributed to a click, revenue), `segments` (visitors, sessions, buyers, "
        "revenue), `algorithms` (recommendation rules per model run, with catalogue coverage).",
        responses={200: OutputSerializer(many=True), **errors(BAD_RANGE, (404, "No such table."))},
    )  # fmt: skip
    def get(self, request: Request, table: str) -> Response:
        definition = tables.TABLES.get(table)
        if definition is None:
            raise NotFound(f"No insights table {table!r}: one of {', '.join(tables.TABLES)}.")
        rows = definition.rows(_period(request))
        records = tables.records(definition, rows)
        return Response(self.OutputSerializer(records, many=True).data)

"""The insights dashboard in the admin (`/admin/insights/`) and its CSV downloads."""

from __future__ import annotations

import csv
import hashlib
from datetime import date

from django.contrib import admin
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.safestring import mark_safe

from insights import charts, selectors, tables
from insights.selectors import Range
from insights.uplift import uplift

PERMISSION = "insights.view_insights"
MAX_DAYS = 366
CHART_SECONDS = 24 * 3600


def period_parse(params) -> tuple[Range, list[str]]:
    """The range of `?from=YYYY-MM-DD&to=YYYY-MM-DD` (last 28 days by default), and errors."""
    default = selectors.range_default()
    errors, values = [], {}
    for name, fallback in (("from", default.start), ("to", default.end)):
        raw = params.get(name, "")
        try:
            values[name] = date.fromisoformat(raw) if raw else fallback
        except ValueError:
            errors.append(f"{name}: {raw!r} is not a date (YYYY-MM-DD).")
            values[name] = fallback
    problems = selectors.range_problems(values["from"], values["to"], MAX_DAYS)
    if problems:
        return default, errors + [f"{name}: {why}" for name, why in problems.items()]
    return Range(values["from"], values["to"]), errors


def _check(request: HttpRequest) -> None:
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def _chart(name: str, period: Range, version: str, draw) -> str:
    """A chart drawn once per range and rollup version (drawing costs far more than reading)."""
    key = f"insights:chart:{name}:{period.start}:{period.end}:{version}"
    return cache.get_or_set(key, draw, timeout=CHART_SECONDS)


def dashboard_context(period: Range, *, full: bool = True) -> dict:
    """What the dashboard shows; the admin's home page shows the part without tables."""
    points = selectors.series_daily(period)
    days = [p.day for p in points]
    version = selectors.rollups_version()
    context = {
        "period": period, "kpis": selectors.kpis(period), "uplift": uplift(period),
        "threshold": selectors.threshold(),
        "chart_traffic": _chart("traffic", period, version, lambda: charts.line_chart(
            days, {"impressions": [p.impressions for p in points],
                   "clicks": [p.clicks for p in points]},
            alt="Impressions and clicks each day")),
        "chart_rates": _chart("rates", period, version, lambda: charts.line_chart(
            days, {"click-through rate": [p.ctr for p in points],
                   "conversion rate": [p.conversion_rate for p in points]},
            alt="Click-through and conversion rates each day", percent=True)),
    }  # fmt: skip
    if full:
        context["tables"] = []
        for table in tables.TABLES.values():
            rows = table.rows(period)
            top, bottom = selectors.ranked(rows) if table.key != "segments" else (rows, [])
            context["tables"].append({"table": table, "top": top, "bottom": bottom,
                                      "count": len(rows)})  # fmt: skip
        hourly = selectors.hourly_series()
        if hourly:
            context["chart_hourly"] = _chart("hourly", period, version, lambda: charts.line_chart(
                [h[0] for h in hourly], {"impressions": [h[1] for h in hourly],
                                         "clicks": [h[2] for h in hourly]},
                alt="Impressions and clicks each hour of the last two days"))  # fmt: skip
    return context


def dashboard_cached(period: Range, query: str, *, full: bool = True) -> dict:
    """The rendered dashboard (or home page part) and its KPIs, kept until rollups change."""
    digest = hashlib.sha256(query.encode()).hexdigest()[:16]
    version = selectors.rollups_version()
    key = (
        f"insights:page:{int(full)}:{period.start}:{period.end}:{version}:"
        f"{selectors.threshold()}:{digest}"
    )

    def build() -> dict:
        context = {**dashboard_context(period, full=full), "query": query,
                   "previous": period.previous()}  # fmt: skip
        template = "insights/_dashboard_body.html" if full else "insights/home.html"
        return {"body": mark_safe(render_to_string(template, context)),  # noqa: S308
                "kpis": context["kpis"]}  # fmt: skip

    return cache.get_or_set(key, build, timeout=CHART_SECONDS)


def dashboard_warm() -> None:
    """Draw the default range's dashboard and home page part right after a rollup run, so
    that the first person to open them reads the cache instead of waiting for the charts."""
    period = selectors.range_default()
    dashboard_cached(period, "", full=True)
    dashboard_cached(period, "", full=False)


def dashboard(request: HttpRequest) -> TemplateResponse:
    _check(request)
    period, errors = period_parse(request.GET)
    context = {
        **admin.site.each_context(request), "title": "Insights", "errors": errors,
        "period": period, "previous": period.previous(), "threshold": selectors.threshold(),
        **dashboard_cached(period, request.GET.urlencode()),
    }  # fmt: skip
    return TemplateResponse(request, "insights/dashboard.html", context)


def _format(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def table_csv(request: HttpRequest, key: str) -> HttpResponse:
    """A dashboard table (or the KPIs, the days, the uplift) as CSV for the range asked."""
    _check(request)
    period, errors = period_parse(request.GET)
    if errors:
        return HttpResponse("\n".join(errors), status=400, content_type="text/plain")
    header, rows = csv_rows(key, period)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="insights-{key}-{period.start}-{period.end}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows([[_format(v) for v in row] for row in rows])
    return response


def csv_rows(key: str, period: Range) -> tuple[list[str], list[list]]:
    if key in tables.TABLES:
        table = tables.TABLES[key]
        records = tables.records(table, table.rows(period))
        columns = ["key", *(c for c, _ in table.columns), "suppressed"]
        return columns, [[r[c] for c in columns] for r in records]
    if key == "kpis":
        return ["kpi", "value", "previous_period", "change"], [
            [k.key, k.value, k.previous, k.change] for k in selectors.kpis(period)
        ]
    if key == "daily":
        return ["day", "impressions", "clicks", "ctr", "conversions", "visitors", "buyers",
                "conversion_rate", "revenue"], [
            [p.day, p.impressions, p.clicks, p.ctr, p.conversions, p.visitors, p.buyers,
             p.conversion_rate, p.revenue] for p in selectors.series_daily(period)]  # fmt: skip
    if key == "uplift":
        result = uplift(period)
        rows = [[m.name, m.holdout, m.personalized, m.lift, m.low, m.high, m.p_value, m.cuped]
                for m in (result.conversion, result.revenue) if m is not None]  # fmt: skip
        return ["metric", "holdout", "personalized", "lift", "lift_low", "lift_high", "p_value",
                "cuped"], rows  # fmt: skip
    raise Http404("No such table.")


CSV_KEYS = [*tables.TABLES, "kpis", "daily", "uplift"]

urlpatterns = [
    path("", admin.site.admin_view(dashboard), name="insights-dashboard"),
    path("csv/<slug:key>.csv", admin.site.admin_view(table_csv), name="insights-csv"),
]

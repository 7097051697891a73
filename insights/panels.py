"""Insights panels on object pages (slot, item, segment), through `config.admin_panels`."""

from __future__ import annotations

from django.http import HttpRequest
from django.template.loader import render_to_string

from insights import charts, selectors

PERMISSION = "insights.view_insights"


def _allowed(request: HttpRequest) -> bool:
    return request.user.has_perm(PERMISSION)


def slot_panel(request: HttpRequest, slot) -> str:
    """Each rule's performance on the slot over the last 28 days."""
    if not _allowed(request):
        return ""
    period = selectors.range_default()
    rows = selectors.rule_rows(period, slot=slot.key)
    return render_to_string("insights/panel_rows.html", {
        "title": "Each rule's performance, last 28 days", "rows": rows, "period": period,
        "panel_id": "insights-slot-panel", "threshold": selectors.threshold(),
    }, request=request)  # fmt: skip


def item_panel(request: HttpRequest, item) -> str:
    """The item's impressions and click-through rate over the last 28 days."""
    if not _allowed(request):
        return ""
    period = selectors.range_default()
    return render_to_string("insights/panel_rows.html", {
        "title": "Impressions and click-through rate, last 28 days", "period": period,
        "rows": selectors.item_rows(period, item_id=item.pk), "panel_id": "insights-item-panel",
        "threshold": selectors.threshold(),
    }, request=request)  # fmt: skip


def segment_panel(request: HttpRequest, segment) -> str:
    """The segment's conversion rate each day over the last 28 days."""
    if not _allowed(request):
        return ""
    period = selectors.range_default()
    points = selectors.segment_series(period, segment.pk)
    chart = ""
    if any(rate is not None for _, rate in points):
        chart = charts.line_chart(
            [d for d, _ in points], {"conversion rate": [r for _, r in points]},
            alt=f"Conversion rate of {segment.name} each day", percent=True,
        )  # fmt: skip
    return render_to_string("insights/panel_segment.html", {
        "rows": selectors.segment_rows(period, segment_id=segment.pk), "chart": chart,
        "threshold": selectors.threshold(),
    }, request=request)  # fmt: skip

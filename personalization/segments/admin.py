"""Segments in admin: the rule builder, members, sizes over time and a recompute action."""

import json
from datetime import date

from django.contrib import admin, messages
from django.db import models, transaction
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from config.runs import RunAdminMixin
from personalization.rules.catalogue import ATTRIBUTES
from personalization.rules.widgets import ConditionWidget
from personalization.segments.models import (
    Segment,
    SegmentMembership,
    SegmentRun,
    SegmentSizeSnapshot,
)
from personalization.segments.selectors import (
    segment_condition_warnings,
    segment_definitions,
    segments_cache_bump,
)
from personalization.segments.tasks import compute_segments

CHART_WIDTH, CHART_HEIGHT, CHART_PAD, CHART_DAYS = 480, 140, 8, 180


def size_history_svg(points: list[tuple[date, int]]) -> str:
    """A small line chart of (day, size) as inline SVG: no script, nothing loaded from elsewhere."""
    if not points:
        return "No sizes yet: compute_segments records one a day."
    first, last = points[0][0], points[-1][0]
    span = max((last - first).days, 1)
    top = max(size for _, size in points) or 1
    width, height = CHART_WIDTH - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD - 14
    xy = [
        (CHART_PAD + (day - first).days / span * width, CHART_PAD + (1 - size / top) * height)
        for day, size in points
    ]
    polyline = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    dots = format_html_join(
        "", '<circle cx="{}" cy="{}" r="2.5"/>', ((f"{x:.1f}", f"{y:.1f}") for x, y in xy[-30:])
    )
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="tailor-size-chart" width="{w}" '
        'height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{label}">'
        "<title>{label}</title>"
        '<line x1="{p}" y1="{base}" x2="{right}" y2="{base}" stroke="#bbb"/>'
        '<polyline points="{line}" fill="none" stroke="#417690" stroke-width="2"/>'
        '<g fill="#417690">{dots}</g>'
        '<g font-size="11" fill="#666"><text x="{p}" y="{top_label}">{top}</text>'
        '<text x="{p}" y="{bottom}">{first}</text>'
        '<text x="{right}" y="{bottom}" text-anchor="end">{last}: {size}</text></g></svg>',
        w=CHART_WIDTH, h=CHART_HEIGHT, p=CHART_PAD, right=CHART_WIDTH - CHART_PAD,
        base=f"{CHART_PAD + height:.1f}", line=polyline, dots=dots, top=top,
        top_label=CHART_PAD + 10, bottom=CHART_HEIGHT - 4, first=first.isoformat(),
        last=last.isoformat(), size=points[-1][1],
        label=f"Members per day from {first.isoformat()} to {last.isoformat()}",
    )  # fmt: skip


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False)


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "kind", "estimated_size", "live", "is_active", "updated_at"]
    list_filter = ["kind", "is_active", "is_live"]
    search_fields = ["key", "name", "description"]
    prepopulated_fields = {"key": ["name"]}
    actions = ["compute_now"]
    formfield_overrides = {models.JSONField: {"widget": ConditionWidget}}
    readonly_fields = [
        "members", "estimated_size", "size_updated_at", "size_history", "version", "live",
        "created_at", "updated_at", "attribute_catalogue", "preview",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["key", "name", "description", "kind", "is_active", "preview"]}),
        (
            "Rule",
            {
                "fields": ["condition", "live"],
                "description": "A targeting condition over the attributes listed below; "
                '{"$inSegment": "key"} reads another segment. Rule segments only.',
            },
        ),
        ("Size", {"fields": ["members", "estimated_size", "size_updated_at", "size_history"]}),
        ("Details", {"fields": ["version", "created_at", "updated_at"], "classes": ["collapse"]}),
        ("Attributes a rule can use", {"fields": ["attribute_catalogue"], "classes": ["collapse"]}),
    ]

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        segments_cache_bump()  # a queryset delete skips Segment.delete()

    def save_model(self, request, obj: Segment, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        for warning in segment_condition_warnings(obj):
            self.message_user(request, f"condition {warning}", messages.WARNING)

    @admin.display(description="live", boolean=True)
    def live(self, segment: Segment) -> bool:
        definition = segment_definitions().by_key.get(segment.key) if segment.pk else None
        return segment.is_live or bool(definition and definition.live)

    @admin.display(description="members")
    def members(self, segment: Segment) -> str:
        if segment.pk is None:
            return "—"
        if self.live(segment):
            return "Live: evaluated on every request, so members are not stored."
        return str(SegmentMembership.objects.filter(segment=segment).count())

    @admin.display(description="preview")
    def preview(self, segment: Segment) -> str:
        if segment.pk is None:
            return "—"
        url = reverse("tailor_preview:page") + "?" + urlencode({"segment": segment.key})
        return format_html('<a href="{}">See the site as a member of this segment</a>', url)

    @admin.display(description="size history")
    def size_history(self, segment: Segment) -> str:
        if segment.pk is None:
            return "—"
        rows = SegmentSizeSnapshot.objects.filter(segment=segment).order_by("-date")
        points = [(row.date, row.size) for row in rows[:CHART_DAYS]]
        return size_history_svg(points[::-1])

    @admin.display(description="attributes")
    def attribute_catalogue(self, segment: Segment) -> str:
        rows = (
            (a.name, a.type, a.source, "yes" if a.live else "", a.description, _json(a.example))
            for a in ATTRIBUTES
        )
        return format_html(
            "<table><tr><th>attribute</th><th>type</th><th>source</th><th>live</th>"
            "<th>meaning</th><th>example</th></tr>{}</table>",
            format_html_join(
                "", "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
                "<td><code>{}</code></td></tr>", rows,
            ),
        )  # fmt: skip

    @admin.action(
        description="Recompute members and sizes of every segment now", permissions=["change"]
    )
    def compute_now(self, request, queryset) -> None:
        transaction.on_commit(lambda: compute_segments.delay())
        self.message_user(request, "Segment members and sizes are being recomputed.")


@admin.register(SegmentRun)
class SegmentRunAdmin(RunAdminMixin, admin.ModelAdmin):
    """Segment runs, read-only: progress, failures and restarts."""

"""Read-only visitor pages: traits, features, consent and a timeline of recent events."""

import json
from datetime import date

from django.contrib import admin, messages
from django.db import models, transaction
from django.utils.html import format_html, format_html_join

from consent.admin_requests import visitors_erasure_request, visitors_export
from consent.selectors import consent_state
from personalization.catalogue import ATTRIBUTES
from personalization.clusters import visitor_clusters
from personalization.models import Event, Segment, SegmentMembership, SegmentSizeSnapshot, Visitor
from personalization.segments import (
    segment_condition_warnings,
    segment_definitions,
    segments_cache_bump,
    visitor_segments_profile,
)
from personalization.selectors import features_as_dict, visitor_recent_events
from personalization.tasks_segments import compute_segments
from personalization.widgets import ConditionWidget


@admin.register(Visitor)
class VisitorAdmin(admin.ModelAdmin):
    list_display = ["__str__", "external_id", "user", "lifecycle", "sessions", "last_seen"]
    list_select_related = ["user", "features"]
    list_filter = ["features__lifecycle"]
    search_fields = ["external_id", "=uid", "user__username"]
    date_hierarchy = "last_seen"
    fields = [
        "uid", "external_id", "user", "first_seen", "last_seen", "sessions", "merged_into",
        "traits_pretty", "features_table", "segments_list", "clusters_list", "timeline",
    ]  # fmt: skip
    readonly_fields = fields
    actions = [visitors_export, visitors_erasure_request]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="lifecycle", ordering="features__lifecycle")
    def lifecycle(self, visitor: Visitor) -> str:
        features = getattr(visitor, "features", None)
        return features.get_lifecycle_display() if features else "—"

    @admin.display(description="traits")
    def traits_pretty(self, visitor: Visitor) -> str:
        return format_html("<pre>{}</pre>", json.dumps(visitor.traits, indent=2, sort_keys=True))

    @admin.display(description="features")
    def features_table(self, visitor: Visitor) -> str:
        features = features_as_dict(getattr(visitor, "features", None))
        if features is None:
            return "Not computed yet."
        rows = (
            (name, json.dumps(value, sort_keys=True) if isinstance(value, dict | list) else value)
            for name, value in features.items()
        )
        return format_html(
            "<table>{}</table>", format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
        )

    @admin.display(description="segments")
    def segments_list(self, visitor: Visitor) -> str:
        matches = visitor_segments_profile(visitor)
        if not matches:
            return "None."
        return format_html_join(
            ", ", "{}{}", ((m.name, " (live)" if m.live else "") for m in matches)
        )

    @admin.display(description="cluster")
    def clusters_list(self, visitor: Visitor) -> str:
        keys = visitor_clusters(visitor.pk, consent_state(visitor))
        return ", ".join(keys) if keys else "None in the current clustering run."

    @admin.display(description="recent events")
    def timeline(self, visitor: Visitor) -> str:
        events = visitor_recent_events(visitor, 50)
        if not events:
            return "No events."
        rows = (
            (
                f"{e.occurred_at:%Y-%m-%d %H:%M:%S}",
                e.type,
                e.item.title if e.item else "",
                e.value if e.value is not None else "",
                e.properties.get("path", "") if isinstance(e.properties, dict) else "",
            )
            for e in events
        )
        return format_html(
            '<table class="tailor-timeline"><tr><th>when</th><th>type</th><th>item</th>'
            "<th>value</th><th>page</th></tr>{}</table>",
            format_html_join(
                "", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows
            ),
        )


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "type", "visitor", "item", "value"]
    list_select_related = ["visitor", "item"]
    list_filter = ["type"]
    search_fields = ["=event_id", "visitor__external_id"]
    date_hierarchy = "occurred_at"
    raw_id_fields = ["visitor", "item"]
    show_full_result_count = False  # counting a large events table on every page is slow

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


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
        "created_at", "updated_at", "attribute_catalogue",
    ]  # fmt: skip
    fieldsets = [
        (None, {"fields": ["key", "name", "description", "kind", "is_active"]}),
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

    @admin.action(description="Recompute members and sizes of every segment now")
    def compute_now(self, request, queryset) -> None:
        transaction.on_commit(lambda: compute_segments.delay())
        self.message_user(request, "Segment members and sizes are being recomputed.")


# Clustering and recommendation pages live in their own modules; importing them registers them.
from personalization import admin_clusters, admin_recommendations  # noqa: E402, F401

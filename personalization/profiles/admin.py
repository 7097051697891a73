"""Read-only visitor pages: traits, features, consent and a timeline of recent events."""

import json

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from consent.admin_requests import visitors_erasure_request, visitors_export
from consent.purposes import PERSONALIZATION
from consent.selectors import consent_state
from personalization.clustering.selectors import visitor_clusters
from personalization.features.selectors import features_as_dict
from personalization.recommendations.admin import CurrentRecommendationInline
from personalization.scores.selectors import visitor_score_rows
from personalization.segments.selectors import (
    visitor_segments_profile,
)
from personalization.visitors.models import Visitor
from personalization.visitors.selectors import visitor_recent_events


@admin.register(Visitor)
class VisitorAdmin(admin.ModelAdmin):
    list_display = ["__str__", "external_id", "user", "lifecycle", "sessions", "last_seen"]
    list_select_related = ["user", "features"]
    list_filter = ["features__lifecycle"]
    search_fields = ["external_id", "=uid", "user__username"]
    date_hierarchy = "last_seen"
    fields = [
        "uid", "external_id", "user", "first_seen", "last_seen", "sessions", "merged_into",
        "traits_pretty", "features_table", "segments_list", "clusters_list", "scores_table",
        "timeline",
    ]  # fmt: skip
    readonly_fields = fields
    inlines = [CurrentRecommendationInline]
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

    @admin.display(description="predictive scores")
    def scores_table(self, visitor: Visitor) -> str:
        if not consent_state(visitor).get(PERSONALIZATION, False):
            return "None: no personalization consent."
        rows = visitor_score_rows(visitor.pk)
        if not rows:
            return "None in the current score run."
        return format_html(
            "<table>{}</table>",
            format_html_join(
                "", "<tr><th>{}</th><td>{}</td><td>score run {}, {}</td></tr>",
                ((r["target"], f"{r['probability']:.2f}", r["run"],
                  f"{r['computed_at']:%Y-%m-%d %H:%M}") for r in rows),
            ),
        )  # fmt: skip

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

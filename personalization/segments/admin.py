"""Segments in admin: the rule builder, members, sizes over time and a recompute action."""

import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from config.run_admin import RunAdminMixin
from personalization.rules.catalogue import ATTRIBUTES
from personalization.rules.widgets import ConditionWidget
from personalization.segments.charts import size_history_svg
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

CHART_DAYS = 180
# Whoever may see a targeting condition may read what conditions can use.
CONDITION_READERS = ("personalization.view_segment", "content.view_slotrule", "content.view_slot")


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

    def get_urls(self):
        view = self.admin_site.admin_view(self.attributes_view)
        return [
            path("attributes/", view, name="personalization_segment_attributes"),
            *super().get_urls(),
        ]

    def attributes_view(self, request: HttpRequest) -> TemplateResponse:
        """Every attribute a targeting condition can read, for anyone who may see one."""
        if not any(request.user.has_perm(p) for p in CONDITION_READERS):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Attributes a condition can read",
            "subtitle": None,
            "opts": self.opts,
            "catalogue": self.attribute_catalogue(None),
        }
        return TemplateResponse(request, "admin/personalization/segment/attributes.html", context)

    @admin.display(description="attributes")
    def attribute_catalogue(self, segment: Segment | None) -> str:
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

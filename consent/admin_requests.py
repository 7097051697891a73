"""The privacy officer's admin: data-subject requests (export now, erase now) and the audit log.

Also the "export" and "request erasure" actions that the visitor admin lists (`visitors_export`,
`visitors_erasure_request`).
"""

import json

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from config.errors import ApplicationError
from config.formatting import plural
from consent.gdpr.audit import Action, Actor, Channel, audit_log
from consent.gdpr.requests import (
    access_request_fulfil,
    erasure_request_queue,
    subject_request_create,
    subject_request_record,
)
from consent.gdpr.subjects import subject_resolve
from consent.models import DataSubjectRequest, PrivacyAuditEntry

Status = DataSubjectRequest.Status


def _actor(request: HttpRequest) -> Actor:
    return Actor(channel=Channel.ADMIN, user=request.user)


class OverdueFilter(admin.SimpleListFilter):
    title = "due date"
    parameter_name = "overdue"

    def lookups(self, request, model_admin) -> list[tuple[str, str]]:
        return [("yes", "Overdue"), ("no", "Not overdue")]

    def queryset(self, request, queryset: QuerySet) -> QuerySet:
        overdue = Q(status__in=DataSubjectRequest.OPEN, due_at__lt=timezone.now())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


class DataSubjectRequestForm(forms.ModelForm):
    class Meta:
        model = DataSubjectRequest
        fields = ["type", "subject", "notes", "include_staff"]

    def clean_subject(self) -> str:
        subject = self.cleaned_data["subject"].strip()
        if self.instance.pk is None and subject_resolve(subject) is None:
            raise forms.ValidationError("No visitor has this external id or cookie id.")
        return subject


class AuditEntryInline(admin.TabularInline):
    model = PrivacyAuditEntry
    fields = ["at", "action", "channel", "actor", "api_key", "detail"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(DataSubjectRequest)
class DataSubjectRequestAdmin(admin.ModelAdmin):
    form = DataSubjectRequestForm
    list_display = [
        "__str__", "type", "subject_shown", "status", "received_at", "due_at", "overdue",
        "handled_by",
    ]  # fmt: skip
    list_filter = [OverdueFilter, "status", "type"]
    list_select_related = ["handled_by"]
    search_fields = ["=subject"]
    date_hierarchy = "received_at"
    actions = ["export_now", "erase_now"]
    inlines = [AuditEntryInline]
    derived = [
        "status", "received_at", "due_at", "completed_at", "handled_by", "progress_shown",
        "download", "subject_hash",
    ]  # fmt: skip

    def get_inlines(self, request, obj=None) -> list:
        return self.inlines if obj is not None else []

    def get_fields(self, request, obj=None) -> list[str]:
        own = ["type", "subject", "notes", "include_staff"]
        return own + (self.derived if obj is not None else [])

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        return self.derived + (["type", "subject"] if obj is not None else [])

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # the record that a request was handled is kept

    def save_model(self, request, obj, form, change) -> None:
        if change:
            super().save_model(request, obj, form, change)
        else:
            subject_request_record(request=obj, actor=_actor(request))

    @admin.display(description="subject")
    def subject_shown(self, obj: DataSubjectRequest) -> str:
        return obj.subject or f"erased ({obj.subject_hash[:10]}…)"

    @admin.display(description="overdue", boolean=True)
    def overdue(self, obj: DataSubjectRequest) -> bool:
        return obj.is_overdue

    @admin.display(description="progress")
    def progress_shown(self, obj: DataSubjectRequest) -> str:
        counts = obj.progress.get("counts")
        if not counts:
            return "—"
        return format_html("<pre>{}</pre>", json.dumps(counts, indent=2, sort_keys=True))

    @admin.display(description="export")
    def download(self, obj: DataSubjectRequest) -> str:
        if not obj.result:
            return "—"
        url = reverse("admin:consent_datasubjectrequest_download", args=[obj.pk])
        size = len(obj.result.encode()) / 1024
        return format_html('<a href="{}">Download JSON ({} KB)</a>', url, f"{size:,.1f}")

    def get_urls(self):
        download = path(
            "<int:pk>/download/",
            self.admin_site.admin_view(self.download_view),
            name="consent_datasubjectrequest_download",
        )
        return [download, *super().get_urls()]

    def download_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        obj = get_object_or_404(DataSubjectRequest, pk=pk)
        if not self.has_view_permission(request, obj) or not obj.result:
            return HttpResponse(status=404)
        audit_log(
            action=Action.EXPORTED, actor=_actor(request), subject_hash=obj.subject_hash,
            request=obj, detail={"downloaded": True},
        )  # fmt: skip
        response = HttpResponse(obj.result, content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="subject-export-{obj.pk}.json"'
        return response

    @admin.action(description="Export now (attach the JSON)", permissions=["change"])
    def export_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        done = 0
        for obj in queryset.filter(type=DataSubjectRequest.Type.ACCESS):
            try:
                access_request_fulfil(request=obj, actor=_actor(request))
            except ApplicationError as exc:
                self.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
                continue
            done += 1
        self.message_user(
            request, f"{plural(done, 'export')} attached; download them from each request."
        )

    @admin.action(description="Erase now (runs in the background)", permissions=["change"])
    def erase_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        queued = 0
        erasures = queryset.filter(
            type=DataSubjectRequest.Type.ERASURE, status__in=DataSubjectRequest.OPEN
        )
        for obj in erasures:
            try:
                erasure_request_queue(request=obj, actor=_actor(request))
            except ApplicationError as exc:
                self.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
                continue
            queued += 1
        self.message_user(request, f"{plural(queued, 'erasure')} queued.")


@admin.register(PrivacyAuditEntry)
class PrivacyAuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "action", "channel", "actor", "api_key", "request", "subject_short"]
    list_filter = ["action", "channel"]
    list_select_related = ["actor", "api_key", "request"]
    search_fields = ["=subject_hash"]
    date_hierarchy = "at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="subject hash")
    def subject_short(self, obj: PrivacyAuditEntry) -> str:
        return f"{obj.subject_hash[:10]}…"


def _may_handle(request: HttpRequest) -> bool:
    return request.user.has_perm("consent.add_datasubjectrequest") and request.user.has_perm(
        "consent.change_datasubjectrequest"
    )


def _requests_page(ids: list[int]) -> HttpResponseRedirect:
    if len(ids) == 1:
        return HttpResponseRedirect(
            reverse("admin:consent_datasubjectrequest_change", args=[ids[0]])
        )
    url = reverse("admin:consent_datasubjectrequest_changelist")
    return HttpResponseRedirect(f"{url}?id__in={','.join(map(str, ids))}")


@admin.action(description="Export the selected visitors' data (access request)")
def visitors_export(modeladmin, request: HttpRequest, queryset: QuerySet):
    """An answered access request per visitor, its JSON attached for download."""
    if not _may_handle(request):
        modeladmin.message_user(request, "You may not handle data-subject requests.", "error")
        return None
    ids = []
    for visitor in queryset:
        actor = _actor(request)
        obj = subject_request_create(
            type=DataSubjectRequest.Type.ACCESS, identifier=visitor.identifier, actor=actor
        )
        access_request_fulfil(request=obj, actor=actor)
        ids.append(obj.pk)
    return _requests_page(ids) if ids else None


@admin.action(description="Request erasure of the selected visitors (confirm on the request)")
def visitors_erasure_request(modeladmin, request: HttpRequest, queryset: QuerySet):
    """An erasure request per visitor; "Erase now" on the request page then erases."""
    if not _may_handle(request):
        modeladmin.message_user(request, "You may not handle data-subject requests.", "error")
        return None
    ids = [
        subject_request_create(
            type=DataSubjectRequest.Type.ERASURE, identifier=v.identifier, actor=_actor(request)
        ).pk
        for v in queryset
    ]
    return _requests_page(ids) if ids else None

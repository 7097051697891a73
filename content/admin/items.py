"""The editors' admin of content: kinds, the tag tree, items with preview and revisions."""

import difflib
import json

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from config.formatting import label, plural
from content import services
from content.models import ContentItem, ContentKind, ContentRevision, Tag


def _as_lines(value: object) -> list[str]:
    text = value if isinstance(value, str) else json.dumps(value, indent=1, sort_keys=True)
    return text.splitlines()


@admin.register(ContentKind)
class ContentKindAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "description"]
    search_fields = ["name", "key"]
    prepopulated_fields = {"key": ["name"]}


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["__str__", "slug", "parent"]
    list_select_related = ["parent"]
    search_fields = ["name", "slug", "path"]
    autocomplete_fields = ["parent"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["path"]

    def save_model(self, request, obj, form, change):
        services.tag_save(tag=obj)


class ContentRevisionInline(admin.TabularInline):
    model = ContentRevision
    fields = ["number", "created_at", "author", "note", "actions"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-number"]
    verbose_name_plural = "Revisions (newest first)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author", "item")

    @admin.display(description="")
    def actions(self, revision: ContentRevision) -> str:
        if revision.pk is None:  # the inline's blank template row, rendered for superusers
            return ""
        compare = reverse(
            "admin:content_contentitem_compare", args=[revision.item_id, revision.number]
        )
        return format_html('<a href="{}">compare with current / restore</a>', compare)


@admin.register(ContentItem)
class ContentItemAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "status", "tag_list", "locale", "priority", "updated_at"]
    list_filter = ["status", "kind", "locale", "tags"]
    list_select_related = ["kind"]
    search_fields = ["title", "external_id", "summary"]
    autocomplete_fields = ["tags"]
    readonly_fields = ["preview_link", "author", "created_at", "updated_at"]
    date_hierarchy = "updated_at"
    actions = ["publish", "archive", "unpublish"]
    inlines = [ContentRevisionInline]
    fieldsets = [
        (None, {"fields": ["title", "slug", "kind", "status", "tags", "preview_link"]}),
        ("Content", {"fields": ["body", "summary", "image_url", "cta_label", "cta_url", "url"]}),
        ("Targeting data", {"fields": ["external_id", "locale", "priority", "metadata"]}),
        ("Publishing window", {"fields": ["publish_at", "expire_at"]}),
        ("History", {"fields": ["author", "created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    prepopulated_fields = {"slug": ["title"]}
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("tags")

    @admin.display(description="tags")
    def tag_list(self, item: ContentItem) -> str:
        return ", ".join(label(tag.name) for tag in item.tags.all())

    @admin.display(description="preview")
    def preview_link(self, item: ContentItem) -> str:
        if not item.pk:
            return "Save the item to preview it."
        url = reverse("admin:content_contentitem_preview", args=[item.pk])
        return format_html('<a href="{}" target="_blank" class="tailor-preview">Preview</a>', url)

    def save_model(self, request, obj, form, change):
        # Tags are saved with the revision in save_related, once the form's M2M data is known.
        if obj.author_id is None:
            obj.author = request.user
        obj.save()

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        services.content_revision_create(
            item=form.instance, author=request.user, note="changed" if change else "created"
        )

    def _set_status(self, request: HttpRequest, queryset: QuerySet, status: str) -> None:
        count = services.content_items_set_status(
            items=queryset, status=status, author=request.user
        )
        self.message_user(request, f"{plural(count, 'item')} set to {status}.", messages.SUCCESS)

    @admin.action(description="Publish selected items", permissions=["change"])
    def publish(self, request, queryset):
        self._set_status(request, queryset, ContentItem.Status.PUBLISHED)

    @admin.action(description="Archive selected items", permissions=["change"])
    def archive(self, request, queryset):
        self._set_status(request, queryset, ContentItem.Status.ARCHIVED)

    @admin.action(description="Return selected items to draft", permissions=["change"])
    def unpublish(self, request, queryset):
        self._set_status(request, queryset, ContentItem.Status.DRAFT)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/preview/", wrap(self.preview_view), name="content_contentitem_preview"),
            path(
                "<int:pk>/revisions/<int:number>/",
                wrap(self.compare_view),
                name="content_contentitem_compare",
            ),
            path(
                "<int:pk>/revisions/<int:number>/restore/",
                wrap(require_POST(self.restore_view)),
                name="content_contentitem_restore",
            ),
            *super().get_urls(),
        ]

    def _item(self, request: HttpRequest, pk: int) -> ContentItem:
        item = get_object_or_404(ContentItem.objects.select_related("kind"), pk=pk)
        if not self.has_view_permission(request, item):
            raise PermissionDenied
        return item

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The item rendered in the site's block template for its kind, as a visitor sees it."""
        item = self._item(request, pk)
        return TemplateResponse(
            request, "tailor/preview.html", {"item": item, "live": item.is_live()}
        )

    def compare_view(self, request: HttpRequest, pk: int, number: int) -> HttpResponse:
        item = self._item(request, pk)
        revision = get_object_or_404(ContentRevision, item=item, number=number)
        current = item.revisions.order_by("-number").first()
        changes = []
        for field in sorted(set(revision.data) | set(current.data)):
            old, new = revision.data.get(field), current.data.get(field)
            if old == new:
                continue
            diff = difflib.unified_diff(
                _as_lines(old), _as_lines(new), f"revision {revision.number}",
                f"current (revision {current.number})", lineterm="",
            )  # fmt: skip
            changes.append({"field": field, "diff": "\n".join(diff)})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "item": item,
            "revision": revision,
            "current": current,
            "changes": changes,
            "can_restore": self.has_change_permission(request, item) and revision != current,
            "title": f"{item} — revision {revision.number} compared with the current one",
        }
        return TemplateResponse(request, "admin/content/contentitem/compare.html", context)

    def restore_view(self, request: HttpRequest, pk: int, number: int) -> HttpResponse:
        item = self._item(request, pk)
        if not self.has_change_permission(request, item):
            raise PermissionDenied
        revision = get_object_or_404(ContentRevision, item=item, number=number)
        try:
            services.content_item_restore(revision=revision, author=request.user)
        except ValidationError as error:
            self.message_user(
                request, f"Could not restore: {'; '.join(error.messages)}", messages.ERROR
            )
        else:
            self.message_user(request, f"Restored revision {number}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:content_contentitem_change", args=[pk]))

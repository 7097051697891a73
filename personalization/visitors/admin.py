"""Events in admin, read-only."""

from django.contrib import admin

from personalization.visitors.models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "type", "visitor", "item", "value", "source"]
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

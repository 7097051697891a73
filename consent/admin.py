"""Purposes and policy texts for editors; the consent log, read-only, for privacy officers."""

from django.contrib import admin

from consent.models import ConsentRecord, PolicyVersion, Purpose


@admin.register(Purpose)
class PurposeAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "legal_basis", "is_required", "retention_days", "position"]
    list_editable = ["position"]
    prepopulated_fields = {"key": ["name"]}


@admin.register(PolicyVersion)
class PolicyVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "published_at", "requires_fresh_consent", "text_hash"]
    readonly_fields = ["text_hash"]

    def has_change_permission(self, request, obj=None) -> bool:
        # A published text is evidence of what visitors agreed to: publish a new version instead.
        return obj is None and super().has_change_permission(request, obj)


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    list_display = ["created_at", "visitor", "purpose", "granted", "source", "policy"]
    list_select_related = ["visitor", "purpose", "policy"]
    list_filter = ["purpose", "granted", "source"]
    search_fields = ["visitor__external_id", "=visitor__uid"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


from consent import admin_requests  # noqa: E402, F401 - data-subject requests and the audit log

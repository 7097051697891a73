"""Slots with their rules as an ordered list editors reorder by dragging, and the rule form.

The slot page lists its rules compactly — name, the condition in plain words, strategy, what
it shows — in the order they are tried; dragging a row (django-admin-sortable2) and saving
renumbers them. Each rule is edited on its own page, whose form shows only the fields its
strategy uses (`content/slot-rule.js` hides the others; without JavaScript all show).
"""

from adminsortable2.admin import SortableAdminBase, SortableTabularInline
from django.contrib import admin
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from content import services
from content.models import Slot, SlotRule
from content.registry import condition_summary, condition_widget

# The fields each strategy reads; the rule form shows these and hides the others.
STRATEGY_FIELDS = {
    SlotRule.Strategy.ITEMS: ("items",),
    SlotRule.Strategy.NEWEST_TAGGED: ("tags",),
    SlotRule.Strategy.RECOMMENDATIONS: ("tags", "kinds"),
}
LISTED_ITEMS = 3


def _shows(rule: SlotRule) -> str:
    """What a rule shows, in a few words: its items, or the tags and kinds it draws from."""
    if rule.strategy == SlotRule.Strategy.ITEMS:
        titles = [item.title for item in rule.items.all()]
        more = len(titles) - LISTED_ITEMS
        text = ", ".join(titles[:LISTED_ITEMS]) + (f" and {more} more" if more > 0 else "")
        return text or "no items chosen"
    tags = ", ".join(tag.name for tag in rule.tags.all()) or "any tag"
    if rule.strategy == SlotRule.Strategy.NEWEST_TAGGED:
        return f"newest with {tags}"
    kinds = ", ".join(kind.name for kind in rule.kinds.all()) or "the slot's kinds"
    return f"recommended {kinds}, {tags}"


class SlotRuleInline(SortableTabularInline):
    """The slot's rules in the order they are tried: drag a row to move it."""

    model = SlotRule
    extra = 0
    ordering = ["position", "pk"]
    # The rule's name heads its row (the handle to drag it by) with a link to its own page.
    fields = ["summary", "strategy_label", "shows", "is_active"]
    readonly_fields = ["summary", "strategy_label", "shows"]
    show_change_link = True
    verbose_name_plural = "Rules (tried from the top; drag to reorder, then save)"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("items", "tags", "kinds")

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # a rule is added on its own page, with the condition builder

    @admin.display(description="who sees it")
    def summary(self, rule: SlotRule) -> str:
        return condition_summary(rule.condition)

    @admin.display(description="strategy")
    def strategy_label(self, rule: SlotRule) -> str:
        return rule.get_strategy_display()

    @admin.display(description="shows")
    def shows(self, rule: SlotRule) -> str:
        return _shows(rule)


@admin.register(Slot)
class SlotAdmin(SortableAdminBase, admin.ModelAdmin):
    list_display = ["key", "name", "max_items", "rotation", "rule_count", "updated_at"]
    search_fields = ["key", "name"]
    autocomplete_fields = ["default_items"]
    filter_horizontal = ["allowed_kinds"]
    prepopulated_fields = {"key": ["name"]}
    inlines = [SlotRuleInline]
    readonly_fields = ["add_rule"]
    fieldsets = [
        (None, {"fields": ["key", "name", "description"]}),
        ("What it shows", {"fields": ["allowed_kinds", "max_items", "rotation", "default_items"]}),
        ("Frequency cap", {"fields": [("frequency_cap", "frequency_cap_days")]}),
        ("Targeting", {"fields": ["add_rule"]}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("rules")

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.has_perm("content.add_slotrule"):
            return fieldsets
        return [fieldset for fieldset in fieldsets if "add_rule" not in fieldset[1]["fields"]]

    @admin.display(description="rules")
    def rule_count(self, slot: Slot) -> int:
        return len(slot.rules.all())

    @admin.display(description="new rule")
    def add_rule(self, slot: Slot) -> str:
        if slot.pk is None:
            return "Save the slot, then add its rules."
        url = reverse("admin:content_slotrule_add") + f"?slot={slot.pk}"
        return format_html('<a href="{}" class="addlink tailor-add-rule">Add a rule</a>', url)


@admin.register(SlotRule)
class SlotRuleAdmin(admin.ModelAdmin):
    """One rule: who sees it (the condition builder) and what it shows (its strategy's fields)."""

    list_display = ["name", "slot", "position", "strategy", "is_active"]
    list_filter = ["slot", "strategy", "is_active"]
    list_select_related = ["slot"]
    search_fields = ["name", "slot__key"]
    autocomplete_fields = ["slot", "items", "tags", "kinds"]
    readonly_fields = ["position"]
    fieldsets = [
        (None, {"fields": ["slot", "name", "is_active", "position"]}),
        ("Who sees it", {"fields": ["condition"]}),
        ("What to show", {"fields": ["strategy", "items", "tags", "kinds"]}),
        ("Active window", {"fields": [("active_from", "active_until")]}),
    ]

    class Media:
        js = ["content/slot-rule.js"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None:
            return fieldsets
        first, *rest = fieldsets  # a new rule goes after the others: no position to show yet
        fields = [name for name in first[1]["fields"] if name != "position"]
        return [(first[0], {**first[1], "fields": fields}), *rest]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        # Asked per form, not at import: this module loads before the condition language's app
        # has registered its widget.
        if isinstance(db_field, models.JSONField):
            kwargs.setdefault("widget", condition_widget())
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        name = form.base_fields.get("name")
        if name is not None:
            name.help_text = "Leave empty to name the rule after its condition."
        strategy = form.base_fields.get("strategy")
        if strategy is not None:
            strategy.widget.attrs["data-strategy-fields"] = ";".join(
                f"{key}:{','.join(fields)}" for key, fields in STRATEGY_FIELDS.items()
            )
        return form

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        slot = request.GET.get("slot", "")
        if slot.isdigit() and Slot.objects.filter(pk=slot).exists():
            initial["slot"] = slot
        return initial

    def save_model(self, request, obj, form, change):
        services.slot_rule_save(rule=obj)

    def _back_to_slot(self, request: HttpRequest, obj: SlotRule, response: HttpResponse):
        if any(key in request.POST for key in ("_continue", "_addanother", "_saveasnew")):
            return response
        return HttpResponseRedirect(reverse("admin:content_slot_change", args=[obj.slot_id]))

    def response_add(self, request, obj, post_url_continue=None):
        return self._back_to_slot(request, obj, super().response_add(request, obj))

    def response_change(self, request, obj):
        return self._back_to_slot(request, obj, super().response_change(request, obj))

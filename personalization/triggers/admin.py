"""Triggers, webhook endpoints and deliveries in admin.

Endpoints hold where visitor data goes and the secret that proves it came from Tailor: only
people with `change_webhookendpoint` (no role has it; superusers do) add or edit them, and the
secret is shown once — when it is made or rotated — then only its first characters.
Deliveries are read-only logs with their attempts, and "Resend"; endpoints have "Send a test
message".
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.utils.html import format_html

from consent.models import Purpose
from personalization.rules import validate_condition
from personalization.triggers import services
from personalization.triggers.models import Delivery, DeliveryAttempt, Trigger, WebhookEndpoint
from personalization.triggers.selectors import triggers_cache_bump
from personalization.triggers.tasks import deliveries_queue
from personalization.triggers.transport import UnsafeEndpoint, url_resolve

SECRET_TEMPLATE = "admin/personalization/webhookendpoint/secret.html"  # noqa: S105 - a path


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(
        max_length=500,
        assume_scheme="https",
        help_text=WebhookEndpoint._meta.get_field("url").help_text,
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "is_active", "include_facts", "include_blocks", "rate_per_second"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            url_resolve(url)
        except UnsafeEndpoint as exc:
            raise ValidationError(f"Tailor will not send there: {exc.message}.") from exc
        return url


def _show_secrets(request, rows: list[tuple[WebhookEndpoint, str]], title: str):
    """A page showing new secrets once; nothing of it is stored in a cookie or the session."""
    context = {"title": title, "rows": rows, "opts": WebhookEndpoint._meta}
    response = TemplateResponse(request, SECRET_TEMPLATE, context)
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True)
    return response


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["name", "url", "is_active", "secret_masked", "failure_streak", "circuit"]
    list_filter = ["is_active"]
    search_fields = ["name", "url"]
    readonly_fields = [
        "secret_masked", "failure_streak", "circuit_open_until", "disabled_reason", "created_at"
    ]  # fmt: skip
    actions = ["send_test", "rotate_secret"]

    @admin.display(description="secret")
    def secret_masked(self, endpoint: WebhookEndpoint) -> str:
        return endpoint.secret_masked or "—"

    @admin.display(description="circuit")
    def circuit(self, endpoint: WebhookEndpoint) -> str:
        return (
            f"open until {endpoint.circuit_open_until:%H:%M:%S}"
            if endpoint.circuit_open_until
            else "closed"
        )

    def save_model(self, request, obj: WebhookEndpoint, form, change: bool) -> None:
        if not change:
            request._tailor_new_secret = services.endpoint_secret_set(endpoint=obj)
        super().save_model(request, obj, form, change)
        triggers_cache_bump()

    def delete_model(self, request, obj: WebhookEndpoint) -> None:
        super().delete_model(request, obj)
        triggers_cache_bump()

    def response_add(self, request, obj: WebhookEndpoint, post_url_continue=None):
        secret = getattr(request, "_tailor_new_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        return _show_secrets(request, [(obj, secret)], "Endpoint added: copy its secret now")

    @admin.action(description="Send a test message", permissions=["change"])
    def send_test(self, request, queryset) -> None:
        ids = [services.delivery_test_create(endpoint=e).pk for e in queryset]
        deliveries_queue(ids)
        self.message_user(request, f"{len(ids)} test message(s) queued: see Deliveries.")

    @admin.action(
        description="Rotate the secret (the old one stops working)", permissions=["change"]
    )
    def rotate_secret(self, request, queryset):
        rows = [(e, services.endpoint_secret_rotate(endpoint=e)) for e in queryset]
        return _show_secrets(request, rows, "New secrets: copy them now")


class TriggerForm(forms.ModelForm):
    purpose = forms.ChoiceField(help_text="A visitor must allow this purpose for it to fire.")

    class Meta:
        model = Trigger
        fields = [
            "key", "name", "kind", "is_active", "purpose", "cooldown_seconds", "active_from",
            "active_until", "segment", "event_type", "condition", "followed_by_type",
            "within_seconds", "score_target", "threshold", "direction", "slots", "endpoints",
        ]  # fmt: skip

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        keys = Purpose.objects.order_by("key").values_list("key", "name")
        self.fields["purpose"].choices = list(keys)

    def clean_condition(self) -> dict:
        condition = self.cleaned_data.get("condition") or {}
        if issues := validate_condition(condition):
            raise ValidationError([str(issue) for issue in issues])
        return condition


@admin.register(Trigger)
class TriggerAdmin(admin.ModelAdmin):
    form = TriggerForm
    list_display = ["key", "name", "kind", "is_active", "purpose", "cooldown_seconds", "window"]
    list_filter = ["kind", "is_active"]
    search_fields = ["key", "name"]
    prepopulated_fields = {"key": ["name"]}
    filter_horizontal = ["slots", "endpoints"]
    list_select_related = ["segment"]
    fieldsets = [
        (None, {"fields": ["key", "name", "kind", "is_active", "purpose", "cooldown_seconds"]}),
        ("Active window", {"fields": ["active_from", "active_until"]}),
        ("Segment triggers", {"fields": ["segment"]}),
        ("Event triggers", {"fields": [
            "event_type", "condition", "followed_by_type", "within_seconds",
        ]}),
        ("Score triggers", {"fields": ["score_target", "threshold", "direction"]}),
        ("Payload", {"fields": ["slots", "endpoints"]}),
    ]  # fmt: skip

    @admin.display(description="active window")
    def window(self, trigger: Trigger) -> str:
        start = f"{trigger.active_from:%Y-%m-%d}" if trigger.active_from else "now"
        end = f"{trigger.active_until:%Y-%m-%d}" if trigger.active_until else "no end"
        return f"{start} to {end}"

    def save_related(self, request, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        triggers_cache_bump()

    def delete_model(self, request, obj: Trigger) -> None:
        super().delete_model(request, obj)
        triggers_cache_bump()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        triggers_cache_bump()


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    fields = ["attempted_at", "status_code", "duration_ms", "error", "response_excerpt"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "webhook_id", "endpoint", "trigger", "event_type", "status_badge", "attempts",
        "last_status_code", "created_at", "next_attempt_at",
    ]  # fmt: skip
    list_filter = ["status", "event_type", "endpoint"]
    search_fields = ["webhook_id"]
    list_select_related = ["endpoint", "trigger"]
    readonly_fields = [
        "webhook_id", "endpoint", "trigger", "visitor", "event_type", "status", "attempts",
        "next_attempt_at", "give_up_at", "last_status_code", "last_error", "created_at",
        "finished_at", "body",
    ]  # fmt: skip
    exclude = ["claimed_until"]
    inlines = [DeliveryAttemptInline]
    actions = ["resend"]

    @admin.display(description="status", ordering="status")
    def status_badge(self, delivery: Delivery) -> str:
        return format_html("<strong>{}</strong>", delivery.get_status_display())

    def has_add_permission(self, request) -> bool:
        return False

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("personalization.change_delivery")

    @admin.action(description="Resend (same id and body)", permissions=["resend"])
    def resend(self, request, queryset) -> None:
        ids = services.deliveries_resend(delivery_ids=queryset.values_list("pk", flat=True))
        deliveries_queue(ids)
        level = messages.SUCCESS if ids else messages.WARNING
        self.message_user(request, f"{len(ids)} finished deliveries queued again.", level)

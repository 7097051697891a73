"""API keys in the admin: create one (its secret shown once), pick scopes, revoke, see use.

Only people holding the API key permissions (`tailor.add_apikey`, …; superusers) see these
pages; no role has them by default, because a key reaches personal data over the API.
"""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince

from config.auth import SCOPE_PERMISSIONS
from config.models import SCOPES, ApiKey
from config.services import api_key_create, api_key_revoke


def scope_label(scope: str) -> str:
    """The scope's name, what it allows, and what a signed-in person needs for the same."""
    needs = ", ".join(SCOPE_PERMISSIONS.get(scope, ()))
    return format_html(
        '<code>{}</code>: {}<span class="help">Signed in, the same needs: {}</span>',
        scope, SCOPES[scope], needs or "—",
    )  # fmt: skip


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(scope, scope_label(scope)) for scope in SCOPES],
        widget=forms.CheckboxSelectMultiple(attrs={"class": "tailor-scopes"}),
        help_text="Give a key only what its client needs.",
    )

    class Meta:
        model = ApiKey
        fields = ["name", "scopes"]


class KeyStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [("active", "active"), ("revoked", "revoked")]

    def queryset(self, request, queryset):
        if self.value() in ("active", "revoked"):
            return queryset.filter(revoked_at__isnull=self.value() == "active")
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Created here or with `manage.py create_api_key`; the secret is shown once, then only
    its hash is kept. Keys are revoked, never deleted, so their use stays on record."""

    form = ApiKeyForm
    list_display = ["name", "prefix", "scopes_list", "status", "created_at", "last_used"]
    list_filter = [KeyStatusFilter]
    search_fields = ["name", "=prefix"]
    readonly_fields = ["prefix", "status", "created_at", "last_used", "revoked_at"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "scopes"]
        return ["name", "prefix", "status", "scopes", "created_at", "last_used", "revoked_at"]

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.revoked_at is not None:
            return [*self.readonly_fields, "name", "scopes"]
        return self.readonly_fields

    @admin.display(description="scopes")
    def scopes_list(self, key: ApiKey) -> str:
        return format_html_join(", ", "<code>{}</code>", ((s,) for s in key.scopes)) or "—"

    @admin.display(description="status")
    def status(self, key: ApiKey) -> str:
        if key.revoked_at:
            return format_html(
                '<span class="tailor-status tailor-status--failed">revoked</span> {} ago',
                timesince(key.revoked_at),
            )
        return format_html(
            '<span class="tailor-status tailor-status--{}">{}</span>', "finished", "active"
        )

    @admin.display(description="last used", ordering="last_used_at")
    def last_used(self, key: ApiKey) -> str:
        if key.last_used_at is None:
            return "never"
        return f"{timesince(key.last_used_at, timezone.now())} ago"

    def save_model(self, request, obj: ApiKey, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        key, secret = api_key_create(
            name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"]
        )
        obj.pk, obj.prefix, obj.created_at = key.pk, key.prefix, key.created_at
        obj.new_secret = secret  # shown once by response_add below, kept nowhere

    def response_add(self, request, obj: ApiKey, post_url_continue=None):
        """Show the secret key on this one answer; it is stored nowhere but in its hash."""
        secret = getattr(obj, "new_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "title": f"API key “{obj.name}” created",
            "opts": self.opts,
            "key": ApiKey.objects.get(pk=obj.pk),
            "secret": secret,
        }
        response = TemplateResponse(request, "admin/tailor/apikey/created.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke(self, request, queryset):
        keys = list(queryset)
        for key in keys:
            api_key_revoke(key=key)
        word = "key" if len(keys) == 1 else "keys"
        self.message_user(request, f"{len(keys)} {word} revoked.", messages.SUCCESS)

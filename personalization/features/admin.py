"""Feature runs in admin: read-only, to see progress, failures and restarts."""

from django.contrib import admin

from config.run_admin import RunAdminMixin
from personalization.features.models import FeatureRun


@admin.register(FeatureRun)
class FeatureRunAdmin(RunAdminMixin, admin.ModelAdmin):
    """Feature runs, read-only: progress, failures and restarts."""

from django.apps import AppConfig


class InsightsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "insights"
    verbose_name = "Insights"

    def ready(self) -> None:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        for name in ("TAILOR_INSIGHTS_ATTRIBUTION_HOURS", "TAILOR_INSIGHTS_MIN_VISITORS"):
            if getattr(settings, name) < 1:
                raise ImproperlyConfigured(f"{name} must be 1 or more")
        from config import admin_panels
        from content import registry as content_registry
        from insights import panels
        from insights.demo import insights_demo_seed

        content_registry.demo_seeder_register("insights", insights_demo_seed, order=400)
        admin_panels.register("content.slot", panels.slot_panel)
        admin_panels.register("content.contentitem", panels.item_panel)
        admin_panels.register("personalization.segment", panels.segment_panel)

from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class TailorConfig(AppConfig):
    """Cross-cutting parts of Tailor: health checks, schedules, API keys, operator commands."""

    name = "config"
    label = "tailor"
    verbose_name = "Tailor"

    def ready(self) -> None:
        from django.core.signals import request_finished

        from config import schema  # noqa: F401 - registers the API-key scheme with drf-spectacular
        from config.logs import request_id_clear

        request_finished.connect(request_id_clear, dispatch_uid="tailor.request_id_clear")


class TailorAdminConfig(AdminConfig):
    """Django's admin on Tailor's site: sections by what people do (config/admin_site.py)."""

    default_site = "config.admin_site.TailorAdminSite"

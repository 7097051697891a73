from django.apps import AppConfig


class TailorConfig(AppConfig):
    """Cross-cutting parts of Tailor: health checks, schedules, operator commands."""

    name = "config"
    label = "tailor"
    verbose_name = "Tailor"

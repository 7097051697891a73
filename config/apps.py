from django.apps import AppConfig


class TailorConfig(AppConfig):
    """Cross-cutting parts of Tailor: health checks, schedules, API keys, operator commands."""

    name = "config"
    label = "tailor"
    verbose_name = "Tailor"

    def ready(self) -> None:
        from config import schema  # noqa: F401 - registers the API-key scheme with drf-spectacular

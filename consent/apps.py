from django.apps import AppConfig


class ConsentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "consent"
    verbose_name = "Consent and privacy"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from consent.models import PolicyVersion, Purpose
        from consent.selectors import CONSENT_CONFIG_VERSION

        # Cache invalidation only: every process keeps purposes and policies in memory.
        for model in (Purpose, PolicyVersion):
            for signal in (post_save, post_delete):
                signal.connect(
                    CONSENT_CONFIG_VERSION.bump, sender=model, dispatch_uid=f"ccv-{signal}-{model}"
                )

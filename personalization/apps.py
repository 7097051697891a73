from django.apps import AppConfig


def merge_profiles_on_login(sender, request, user, **kwargs) -> None:
    """Login is the one moment an anonymous profile and a known one meet: merge them."""
    from personalization.visitors.services import visitor_login

    if request is not None:
        visitor_login(request=request, user=user)


class PersonalizationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "personalization"
    verbose_name = "Personalization"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        user_logged_in.connect(merge_profiles_on_login, dispatch_uid="tailor.visitor_login")

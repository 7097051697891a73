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

        from consent import registry as privacy
        from personalization.visitors.selectors import visitor_ids_merged_into, visitor_resolve
        from personalization.visitors.services import visitor_for_request

        user_logged_in.connect(merge_profiles_on_login, dispatch_uid="tailor.visitor_login")
        # Consent sits below personalization: it finds the visitors it keeps consent for here.
        privacy.subject_resolver_register(
            resolve=visitor_resolve,
            merged_ids=visitor_ids_merged_into,
            for_request=visitor_for_request,
        )

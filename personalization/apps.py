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

        from personalization.clustering.selectors import visitor_clusters_many
        from personalization.features.services import features_follow_merge
        from personalization.rules.sources import attribute_source_register
        from personalization.segments.services import memberships_follow_merge
        from personalization.visitors.services import merge_participant_register

        user_logged_in.connect(merge_profiles_on_login, dispatch_uid="tailor.visitor_login")
        # Packages higher up plug into lower ones here, so that no package imports a higher one.
        merge_participant_register("features", features_follow_merge)
        merge_participant_register("segment memberships", memberships_follow_merge)
        attribute_source_register("clusters", visitor_clusters_many)

from django.apps import AppConfig


class ContentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "content"
    verbose_name = "Content"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from content import models, registry
        from content.cache import content_version_bump
        from content.demo import content_demo_seed

        registry.demo_seeder_register("content", content_demo_seed, order=100)

        # Cache invalidation only: decisions cache slot definitions per content version.
        for model in (
            models.ContentItem,
            models.ContentKind,
            models.Tag,
            models.Slot,
            models.SlotRule,
        ):
            for signal in (post_save, post_delete):
                signal.connect(
                    content_version_bump, sender=model, dispatch_uid=f"cv-{signal}-{model}"
                )
        for through in (
            models.ContentItem.tags.through, models.Slot.default_items.through,
            models.Slot.allowed_kinds.through, models.SlotRule.items.through,
            models.SlotRule.tags.through, models.SlotRule.kinds.through,
        ):  # fmt: skip
            m2m_changed.connect(
                content_version_bump, sender=through, dispatch_uid=f"cv-m2m-{through}"
            )

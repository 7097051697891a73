from django.apps import AppConfig


class ExperimentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "experiments"
    verbose_name = "Experiments"

    def ready(self) -> None:
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from content import registry as content_registry
        from experiments import models
        from experiments.cache import experiments_version_bump
        from experiments.demo import experiment_demo_seed
        from experiments.override import ExperimentsOverride, exposures_follow_merge
        from personalization.decisions.registry import override_register
        from personalization.visitors.services import merge_participant_register

        content_registry.demo_seeder_register("experiment", experiment_demo_seed, order=300)

        # Personalization decides slots; experiments plug in without it importing them.
        override_register(ExperimentsOverride())
        merge_participant_register("exposures", exposures_follow_merge)
        # Cache invalidation only: assignment caches running experiments per version.
        for model in (models.Experiment, models.Variation):
            for signal in (post_save, post_delete):
                signal.connect(
                    experiments_version_bump, sender=model, dispatch_uid=f"ev-{signal}-{model}"
                )
        for through in (models.Variation.items.through, models.Variation.rules.through):
            m2m_changed.connect(
                experiments_version_bump, sender=through, dispatch_uid=f"ev-m2m-{through}"
            )

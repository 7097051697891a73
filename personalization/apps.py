from django.apps import AppConfig


def merge_profiles_on_login(sender, request, user, **kwargs) -> None:
    """Login is the one moment an anonymous profile and a known one meet: merge them."""
    from personalization.visitors.services import visitor_login

    if request is not None:
        visitor_login(request=request, user=user)


def forget_profile_on_logout(sender, request, user, **kwargs) -> None:
    """After a logout the browser is nobody in particular: it must not keep the user's profile."""
    from personalization.visitors.services import visitor_logout

    if request is not None:
        visitor_logout(request=request)


def snapshot_stale_on_save(sender, instance, **kwargs) -> None:
    """A visitor's snapshot holds their row and features: a save or delete of either stales it."""
    from personalization.visitors.snapshots import snapshots_invalidate

    snapshots_invalidate([getattr(instance, "visitor_id", None) or instance.pk])


class PersonalizationConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "personalization"
    verbose_name = "Personalization"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        user_logged_in.connect(merge_profiles_on_login, dispatch_uid="tailor.visitor_login")
        user_logged_out.connect(forget_profile_on_logout, dispatch_uid="tailor.visitor_logout")
        self.snapshots_register()
        # Consent and content sit below personalization: it plugs into their registries.
        self.visitors_register()
        self.conditions_register()
        self.demo_register()
        self.packages_register()
        self.runs_register()
        self.triggers_register()

    @staticmethod
    def snapshots_register() -> None:
        """Bulk writes of visitors' rows and features invalidate where they write (`snapshots`)."""
        from django.db.models.signals import post_delete, post_save

        from personalization.features.models import VisitorFeatures
        from personalization.visitors.models import Visitor

        for model in (Visitor, VisitorFeatures):
            for signal in (post_save, post_delete):
                signal.connect(
                    snapshot_stale_on_save, sender=model,
                    dispatch_uid=f"tailor.snapshot_stale.{model.__name__}.{signal is post_save}",
                )  # fmt: skip

    @staticmethod
    def packages_register() -> None:
        """Packages higher up plug into lower ones, so that no package imports a higher one."""
        from personalization.clustering.selectors import visitor_clusters_many
        from personalization.features.services import features_follow_merge
        from personalization.rules.sources import attribute_source_register
        from personalization.scores.selectors import visitor_scores_many
        from personalization.scores.services import scores_follow_merge
        from personalization.segments.services import memberships_follow_merge
        from personalization.visitors.services import merge_participant_register

        merge_participant_register("features", features_follow_merge)
        merge_participant_register("segment memberships", memberships_follow_merge)
        merge_participant_register("scores", scores_follow_merge)
        attribute_source_register("clusters", visitor_clusters_many)
        attribute_source_register("scores", visitor_scores_many)

    @staticmethod
    def triggers_register() -> None:
        """Triggers sit on top: they listen to ingest, segment runs and score runs below."""
        from personalization.scores.services import score_change_register
        from personalization.segments.services import membership_change_register
        from personalization.triggers import listeners
        from personalization.visitors.events import ingest_listener_register

        ingest_listener_register("triggers", listeners.events_stored)
        membership_change_register("triggers", listeners.memberships_changed)
        score_change_register("triggers", listeners.scores_switched)

    @staticmethod
    def runs_register() -> None:
        """The reaper (`config.runs`) fails and restarts runs whose worker was lost."""
        from config.runs import RunKind, run_kind_register
        from personalization.clustering.models import ClusterRun
        from personalization.clustering.runs import cluster_run_fail_by_id
        from personalization.clustering.tasks import clusters_retry
        from personalization.features import runs as feature_runs
        from personalization.features.tasks import features_retry
        from personalization.recommendations.models import ModelRun
        from personalization.recommendations.services import recommendation_run_fail
        from personalization.recommendations.tasks import recommendations_retry
        from personalization.scores.models import ScoreRun
        from personalization.scores.services import score_run_fail
        from personalization.scores.tasks import scores_retry
        from personalization.segments import runs as segment_runs
        from personalization.segments.tasks import segments_retry

        active = ClusterRun.Status.PENDING, ClusterRun.Status.FITTING, ClusterRun.Status.ASSIGNING
        for kind in (
            RunKind(
                "features", feature_runs.FeatureRun, feature_runs.ACTIVE,
                feature_runs.feature_run_fail, features_retry,
            ),
            RunKind(
                "segments", segment_runs.SegmentRun, segment_runs.ACTIVE,
                segment_runs.segment_run_fail, segments_retry,
            ),
            RunKind(
                "clusters", ClusterRun, active,
                lambda pk, error: cluster_run_fail_by_id(run_id=pk, error=error), clusters_retry,
            ),
            RunKind(
                "recommendations", ModelRun, (ModelRun.Status.TRAINING, ModelRun.Status.SCORING),
                lambda pk, error: recommendation_run_fail(run_id=pk, error=error),
                recommendations_retry,
            ),
            RunKind(
                "scores", ScoreRun, (ScoreRun.Status.TRAINING, ScoreRun.Status.SCORING),
                lambda pk, error: score_run_fail(run_id=pk, error=error), scores_retry,
            ),
        ):  # fmt: skip
            run_kind_register(kind)

    @staticmethod
    def visitors_register() -> None:
        """Consent finds the visitors it keeps consent and personal data for through these."""
        from consent import registry
        from personalization.visitors.selectors import visitor_ids_merged_into, visitor_resolve
        from personalization.visitors.services import visitor_for_external_id, visitor_for_request

        registry.subject_resolver_register(
            resolve=visitor_resolve,
            merged_ids=visitor_ids_merged_into,
            for_request=visitor_for_request,
            for_external_id=visitor_for_external_id,
        )

    @staticmethod
    def conditions_register() -> None:
        """Slot rules speak the targeting condition language: checked and edited as ours."""
        from content import registry
        from personalization.rules import validate_condition
        from personalization.rules.catalogue import catalogue_errors
        from personalization.rules.summary import condition_summary
        from personalization.rules.widgets import ConditionWidget
        from personalization.segments.validation import unknown_segment_issues

        registry.condition_validator_register(validate_condition)
        registry.condition_validator_register(catalogue_errors)
        registry.condition_validator_register(unknown_segment_issues)
        registry.condition_widget_register(ConditionWidget)
        registry.condition_summarizer_register(condition_summary)

    @staticmethod
    def demo_register() -> None:
        """Demo visitors with histories, after content's demo catalogue they refer to."""
        from content import registry
        from personalization.demo import visitors_demo_seed
        from personalization.triggers.demo import triggers_demo_seed

        registry.demo_seeder_register("visitors", visitors_demo_seed, order=200)
        registry.demo_seeder_register("triggers", triggers_demo_seed, order=250)

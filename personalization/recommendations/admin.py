"""Admin for recommendation model runs (metrics side by side, progress) and stored lists."""

from django.contrib import admin, messages

from config.formatting import number
from config.run_admin import RunAdminMixin, facts_table, label, metrics_grid
from personalization.recommendations.algorithms.evaluation import METRICS
from personalization.recommendations.models import ModelRun, Recommendation
from personalization.recommendations.services import model_run_make_current


@admin.register(ModelRun)
class ModelRunAdmin(RunAdminMixin, admin.ModelAdmin):
    progress_done = "scored"
    list_display = [
        "pk", "kind", "algorithm", "status_badge", "progress_percent", "score",
        "ndcg_side_by_side", "is_current", "forced", "visitors", "recommendations",
        "started_at", "duration",
    ]  # fmt: skip
    list_filter = ["kind", "status", "is_current"]
    fields = [
        "kind", "algorithm", "status_badge", "progress_bar", "is_current", "forced", "score",
        "metrics_table", "parameters_pretty", "counts", "started_at", "finished_at", "duration",
        "attempt", "error",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["make_current"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("artifact")

    @admin.display(description="visitors", ordering="visitors_count")
    def visitors(self, run: ModelRun) -> str:
        return number(run.visitors_count)

    @admin.display(description="lists stored", ordering="recommendations_count")
    def recommendations(self, run: ModelRun) -> str:
        return number(run.recommendations_count)

    @admin.display(description="what it worked on")
    def counts(self, run: ModelRun) -> str:
        return facts_table(
            {
                "visitors to score": run.visitors_count,
                "visitors scored": run.visitors_done,
                "items": run.items_count,
                "interactions": run.interactions_count,
                "recommendations stored": run.recommendations_count,
                "similar items stored": run.similar_count,
            }
        )

    @admin.display(description="nDCG@K per algorithm")
    def ndcg_side_by_side(self, run: ModelRun) -> str:
        ranked = sorted((run.metrics or {}).items(), key=lambda pair: -pair[1].get("ndcg", 0))
        return (
            ", ".join(f"{label(name)} {values.get('ndcg', 0):.3f}" for name, values in ranked)
            or "—"
        )

    @admin.display(description="metrics on the test split")
    def metrics_table(self, run: ModelRun) -> str:
        if not run.metrics:
            reason = (run.parameters or {}).get("evaluation")
            return f"Not evaluated{': ' + reason if reason else ''}."
        names = sorted(run.metrics, key=lambda n: -run.metrics[n].get("ndcg", 0))
        return metrics_grid(
            {name: run.metrics[name] for name in names}, METRICS, row_title="algorithm",
            best="ndcg", column_labels={m: f"{label(m)}@K" for m in METRICS},
        )  # fmt: skip

    @admin.action(description="Serve the selected run's lists (forced, even if it scores worse)")
    def make_current(self, request, queryset) -> None:
        runs = list(queryset)
        if len(runs) != 1:
            self.message_user(request, "Select exactly one run.", messages.ERROR)
            return
        try:
            model_run_make_current(run=runs[0], forced=True)
        except ValueError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(request, f"{runs[0]} is now served.", messages.SUCCESS)


@admin.register(Recommendation)
class RecommendationAdmin(admin.ModelAdmin):
    """Read-only: the stored lists, searchable by visitor."""

    list_display = ["visitor", "rank", "item", "score", "algorithm", "run"]
    list_select_related = ["visitor", "item", "run"]
    list_filter = ["run__is_current", "algorithm"]
    search_fields = ["=visitor__external_id", "item__external_id"]
    raw_id_fields = ["visitor", "item", "run"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("run__artifact")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class CurrentRecommendationInline(admin.TabularInline):
    """On the visitor page: the current run's list, read-only (one query)."""

    model = Recommendation
    fields = ["rank", "item", "score", "algorithm", "run"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name_plural = "recommendations of the current model run"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(run__is_current=True)
            .select_related("item", "run")
            .defer("run__artifact")
        )

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

"""Admin for recommendation model runs (metrics side by side, progress) and stored lists."""

from django.contrib import admin, messages
from django.utils.html import format_html, format_html_join

from personalization.recommendations.algorithms.evaluation import METRICS
from personalization.recommendations.models import ModelRun, Recommendation
from personalization.recommendations.services import model_run_make_current


@admin.register(ModelRun)
class ModelRunAdmin(admin.ModelAdmin):
    list_display = [
        "pk", "kind", "algorithm", "status", "progress_bar", "score", "ndcg_side_by_side",
        "is_current", "forced",
        "visitors_count", "recommendations_count", "started_at", "duration_seconds",
    ]  # fmt: skip
    list_filter = ["kind", "status", "is_current"]
    fields = [
        "kind", "algorithm", "status", "progress_bar", "is_current", "forced", "score",
        "metrics_table", "parameters", "started_at", "finished_at", "duration_seconds",
        "visitors_count", "visitors_done", "chunks_total", "chunks_done", "items_count",
        "interactions_count", "recommendations_count", "similar_count", "error",
    ]  # fmt: skip
    readonly_fields = fields
    actions = ["make_current"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("artifact")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="progress")
    def progress_bar(self, run: ModelRun) -> str:
        percent = round(100 * run.progress)
        return format_html(
            '<progress max="100" value="{}"></progress> {} % ({} of {} chunks)',
            percent, percent, run.chunks_done, run.chunks_total,
        )  # fmt: skip

    @admin.display(description="nDCG@K per algorithm")
    def ndcg_side_by_side(self, run: ModelRun) -> str:
        ranked = sorted((run.metrics or {}).items(), key=lambda pair: -pair[1].get("ndcg", 0))
        return ", ".join(f"{name} {values.get('ndcg', 0):.3f}" for name, values in ranked) or "—"

    @admin.display(description="metrics on the test split")
    def metrics_table(self, run: ModelRun) -> str:
        if not run.metrics:
            return "Not evaluated."
        header = format_html_join("", "<th>{}@K</th>", ((m,) for m in METRICS))
        names = sorted(run.metrics, key=lambda n: -run.metrics[n].get("ndcg", 0))
        rows = format_html_join(
            "", "<tr><th>{}</th>{}</tr>",
            (
                (name, format_html_join(
                    "", "<td>{}</td>",
                    ((f"{run.metrics[name].get(m, 0):.4f}",) for m in METRICS),
                ))
                for name in names
            ),
        )  # fmt: skip
        return format_html("<table><tr><th>algorithm</th>{}</tr>{}</table>", header, rows)

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

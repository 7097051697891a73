"""Score runs in the admin, read-only: the model beside its baselines, calibration, importance.

Imported by `personalization/admin.py`. Runs are written by `compute_scores`.
"""

from django.contrib import admin
from django.db import transaction
from django.utils.html import format_html, format_html_join

from config.run_admin import RunAdminMixin, value_text
from personalization.scores.charts import calibration_svg, svg_image
from personalization.scores.models import ScoreRun
from personalization.scores.tasks import compute_scores

LABELS = {
    "model": "gradient boosting, calibrated",
    "logistic": "baseline: logistic regression",
    "lifecycle": "baseline: lifecycle stage rule",
}
METRICS = (
    ("roc_auc", "ROC AUC (higher is better)"),
    ("pr_auc", "PR AUC (higher is better)"),
    ("brier", "Brier score (lower is better)"),
    ("lift_top_decile", "lift in the top decile"),
)
IMPORTANCE_SHOWN = 8


def _value(value: object) -> str:
    return value_text(value)


@admin.register(ScoreRun)
class ScoreRunAdmin(RunAdminMixin, admin.ModelAdmin):
    # The current run answers the `scores` attribute: it goes only when another replaces it.
    progress_done = "scored"
    list_display = [
        "__str__", "started_at", "status_badge", "progress_percent", "score", "visitors_count",
        "is_current", "forced", "duration",
    ]  # fmt: skip
    list_filter = ["status", "is_current"]
    actions = ["compute_now"]
    fields = [
        "status_badge", "progress_bar", "is_current", "forced", "score", "targets", "horizon_days",
        "cutoff", "evaluated_at", "parameters_pretty", "metrics_table", "calibration_chart",
        "importance_table", "training_rows", "visitors_count", "scores_count", "error",
        "started_at", "finished_at", "duration", "attempt",
    ]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("artifact")

    @admin.display(description="metrics on the held-out window")
    def metrics_table(self, run: ScoreRun) -> str:
        if not run.metrics:
            return "Not trained yet."
        head = format_html_join("", "<th>{}</th>", ((label,) for _, label in METRICS))
        rows = (
            (target, LABELS.get(name, name),
             format_html_join("", "<td>{}</td>", ((_value(m.get(key)),) for key, _ in METRICS)))
            for target, by_name in run.metrics.items()
            for name, m in by_name.items()
        )  # fmt: skip
        return format_html(
            '<table class="tailor-score-metrics"><tr><th>target</th><th>scored by</th>{}</tr>'
            "{}</table>",
            head, format_html_join("", "<tr><th>{}</th><td>{}</td>{}</tr>", rows),
        )  # fmt: skip

    @admin.display(description="calibration")
    def calibration_chart(self, run: ScoreRun) -> str:
        if not run.calibration:
            return "Not trained yet."
        return svg_image(
            calibration_svg(run.calibration),
            alt="Calibration: the model's predicted probability against the observed rate of "
            "each target on the held-out window, in ten bins; the diagonal is perfect.",
        )

    @admin.display(description="features that matter most (permutation importance)")
    def importance_table(self, run: ScoreRun) -> str:
        if not run.importance:
            return "Not trained yet."
        rows = (
            (target, ", ".join(f"{name} {value:.3f}" for name, value in pairs[:IMPORTANCE_SHOWN]))
            for target, pairs in run.importance.items()
        )
        return format_html(
            '<table class="tailor-score-importance"><tr><th>target</th><th>feature: drop in '
            "ROC AUC when shuffled</th></tr>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    @admin.action(description="Compute scores now (a new run)")
    def compute_now(self, request, queryset) -> None:
        transaction.on_commit(lambda: compute_scores.delay())
        self.message_user(request, "A new score run is being computed.")

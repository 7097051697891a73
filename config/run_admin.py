"""What every admin page of a background run shows the same way, in plain words: status,
progress as a bar, parameters and metrics as labelled tables, durations such as "0.2 s", and
that the run being served cannot be deleted until another replaces it."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from config.formatting import MISSING, duration, number

# Words for parameter and metric names that do not read well by themselves.
LABELS = {
    "k": "clusters (k)",
    "ndcg": "nDCG",
    "map": "MAP",
    "mrr": "MRR",
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC",
    "knn": "kNN",
    "item_knn": "item kNN",
    "ease": "EASE",
    "als": "ALS",
    "bic": "BIC",
    "pca": "PCA",
    "utm": "UTM",
    "id": "id",
}


def label(name: str) -> str:
    """`chunk_size` → "Chunk size"; `roc_auc` → "ROC AUC"; `item_knn` → "item kNN"."""
    if name in LABELS:
        text = LABELS[name]
    else:
        text = " ".join(LABELS.get(word, word) for word in str(name).replace("-", "_").split("_"))
    return text[:1].upper() + text[1:]


def value_text(value: Any) -> str | SafeString:
    """A parameter or metric as people read it: separators, 3 decimals, lists, nested tables."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return number(value)
    if isinstance(value, float):
        return number(value, 3 if abs(value) < 1000 else 0)
    if isinstance(value, Mapping):
        return facts_table(value)
    if isinstance(value, list | tuple):
        if all(not isinstance(v, Mapping | list | tuple) for v in value):
            return ", ".join(str(value_text(v)) for v in value) or MISSING
        return format_html_join("", "<div>{}</div>", ((value_text(v),) for v in value))
    return str(value)


def facts_table(facts: Mapping[str, Any] | None, *, css: str = "") -> str:
    """Name → value as a two-column table with labelled rows (nested mappings nest)."""
    if not facts:
        return format_html('<span class="tailor-empty">{}</span>', "None.")
    rows = ((label(name), value_text(value)) for name, value in facts.items())
    return format_html(
        '<table class="tailor-facts {}">{}</table>',
        css,
        format_html_join("", '<tr><th scope="row">{}</th><td>{}</td></tr>', rows),
    )


def metrics_grid(rows: Mapping[str, Mapping[str, Any]], columns: Iterable[str], *,
                 row_title: str = "", best: str | None = None, higher_is_better: bool = True,
                 column_labels: Mapping[str, str] | None = None) -> str:  # fmt: skip
    """Rows (e.g. algorithms) by columns (metrics), numbers right-aligned; the best row of the
    `best` column is marked."""
    columns = list(columns)
    column_labels = column_labels or {}
    values = [r.get(best) for r in rows.values() if isinstance(r.get(best), int | float)]
    top = (max(values) if higher_is_better else min(values)) if best and values else None
    head = format_html_join(
        "", '<th scope="col">{}</th>', ((column_labels.get(c, label(c)),) for c in columns)
    )
    body = format_html_join(
        "",
        "<tr><th scope=\"row\">{}</th>{}</tr>",
        (
            (
                label(name),
                format_html_join(
                    "",
                    '<td class="{}">{}</td>',
                    (
                        ("best" if c == best and top is not None and r.get(c) == top else "",
                         value_text(r.get(c)))
                        for c in columns
                    ),
                ),
            )
            for name, r in rows.items()
        ),
    )  # fmt: skip
    return format_html(
        '<div class="tailor-table-box"><table class="tailor-metrics"><thead><tr><th>{}</th>{}'
        "</tr></thead><tbody>{}</tbody></table></div>",
        row_title, head, body,
    )  # fmt: skip


def progress_html(done: int, total: int, what: str = "") -> str:
    """A progress bar with "3 of 4 chunks (75 %)" beside it."""
    total = max(total or 0, 0)
    share = done / total if total else (1.0 if done else 0.0)
    words = f"{number(done)} of {number(total)} chunk{'' if total == 1 else 's'}"
    return format_html(
        '<progress class="tailor-progress" max="{}" value="{}" aria-label="{}"></progress>'
        '<span class="tailor-progress-label">{} ({}){}</span>',
        total or 1, min(done, total or 1), f"{share:.0%} done", words, f"{share:.0%}",
        f" {what}" if what else "",
    )  # fmt: skip


class RunAdminMixin:
    """For a ModelAdmin of a run with `status`, `chunks_done`, `chunks_total`, and, where the
    model has them, `parameters`, `duration_seconds` and `is_current`. Runs are written by
    their tasks: nobody adds or edits one here. `progress_done` names what a finished chunk
    did to its visitors."""

    progress_done = "processed"
    list_display = (
        "__str__", "status_badge", "progress_percent", "started_at", "duration", "attempt",
    )  # fmt: skip
    list_filter = ("status",)
    fields = (
        "status_badge", "progress_bar", "visitors", "started_at", "finished_at", "duration",
        "attempt", "retry_of", "heartbeat_at", "error",
    )  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request, *args) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and not (
            obj and getattr(obj, "is_current", False)
        )

    def status_badge(self, run) -> str:
        return format_html(
            '<span class="tailor-status tailor-status--{}">{}</span>',
            run.status, run.get_status_display(),
        )  # fmt: skip

    status_badge.short_description = "status"
    status_badge.admin_order_field = "status"

    def progress_percent(self, run) -> str:
        done, total = run.chunks_done, run.chunks_total
        share = done / total if total else (1.0 if run.status == "finished" else 0.0)
        return format_html(
            '<progress class="tailor-progress" max="100" value="{}" aria-label="{}"></progress>',
            round(share * 100), f"{share:.0%} done",
        )  # fmt: skip

    progress_percent.short_description = "progress"

    def progress_bar(self, run) -> str:
        return progress_html(run.chunks_done, run.chunks_total, f"of visitors {self.progress_done}")

    progress_bar.short_description = "progress"

    def duration(self, run) -> str:
        return duration(getattr(run, "duration_seconds", None))

    duration.short_description = "duration"
    duration.admin_order_field = "duration_seconds"

    def parameters_pretty(self, run) -> str:
        return facts_table(run.parameters)

    parameters_pretty.short_description = "parameters"

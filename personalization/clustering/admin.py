"""Clustering in the admin: runs with metrics, progress and a 2-D projection; naming clusters.

Imported by `personalization/admin.py`. Runs are read-only (they are written by
`compute_clusters`); editors name clusters and turn them into segments from the cluster pages.
"""

import json

from django.contrib import admin, messages
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from config.formatting import number
from config.run_admin import RunAdminMixin, value_text
from personalization.clustering.models import Cluster, ClusterRun
from personalization.clustering.services import ClusterError, cluster_rename, cluster_segment_create
from personalization.clustering.tasks import compute_clusters

# Colour-blind-friendly palette (Okabe-Ito, then darker tones); clusters beyond it reuse it.
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
    "#7F3C8D", "#11A579", "#3969AC", "#F2B701",
)  # fmt: skip
PLOT_SIZE, PLOT_PAD, LEGEND_WIDTH = 420, 12, 260
HIGHLIGHTS = ("sessions_30d", "monetary_90d", "recency_days", "engagement")


def colour(number: int) -> str:
    return PALETTE[number % len(PALETTE)]


def _shorten(text: str, width: int = 30) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip(" ,") + "…"


def projection_svg(points: list[list[float]], clusters: list[Cluster]) -> str:
    """A scatter plot of [x, y, cluster] as inline SVG, coloured by cluster, with a legend."""
    if not points:
        return "No projection: the run has not been fitted."
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    low_x, high_x, low_y, high_y = min(xs), max(xs), min(ys), max(ys)
    span_x, span_y = (high_x - low_x) or 1.0, (high_y - low_y) or 1.0
    inner = PLOT_SIZE - 2 * PLOT_PAD

    def place(x: float, y: float) -> tuple[str, str]:
        return (
            f"{PLOT_PAD + (x - low_x) / span_x * inner:.1f}",
            f"{PLOT_PAD + (1 - (y - low_y) / span_y) * inner:.1f}",
        )

    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="3" fill="{}" fill-opacity="0.7" data-cluster="{}"/>',
        ((*place(x, y), colour(int(number)), int(number)) for x, y, number in points),
    )
    legend = format_html_join(
        "",
        '<g transform="translate({x},{y})"><rect width="12" height="12" fill="{c}"/>'
        '<text x="18" y="11">{label}</text></g>',
        (
            {
                "x": PLOT_SIZE + 10,
                "y": PLOT_PAD + 20 * n,
                "c": colour(cluster.number),
                "label": f"{cluster.number}: {_shorten(cluster.name or cluster.description)} "
                f"({cluster.size})",
            }
            for n, cluster in enumerate(clusters)
        ),
    )
    width = PLOT_SIZE + LEGEND_WIDTH
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="tailor-cluster-projection" width="{w}" '
        'height="{h}" viewBox="0 0 {w} {h}" role="img" aria-label="{label}"><title>{label}</title>'
        '<rect x="0.5" y="0.5" width="{plot}" height="{plot}" fill="none" stroke="#ccc"/>'
        '<g>{dots}</g><g font-size="11" fill="#333">{legend}</g></svg>',
        w=width, h=max(PLOT_SIZE, PLOT_PAD + 20 * len(clusters)), plot=PLOT_SIZE - 1,
        dots=dots, legend=legend,
        label=f"{len(points)} sampled visitors on the first two principal components, "
        "coloured by cluster",
    )  # fmt: skip


def _number(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return "—" if value is None else str(value)


def centroid_highlights(cluster: Cluster) -> str:
    """A few readable numbers of a centroid: sessions, spend, recency, engagement, top tags."""
    centroid = cluster.centroid or {}
    parts = [f"{name}: {_number(centroid.get(name))}" for name in HIGHLIGHTS if name in centroid]
    tags = centroid.get("affinity") or {}
    if tags:
        parts.append("tags: " + ", ".join(f"{tag} {value:.2f}" for tag, value in tags.items()))
    return "; ".join(parts)


@admin.register(ClusterRun)
class ClusterRunAdmin(RunAdminMixin, admin.ModelAdmin):
    # The current run answers the `clusters` attribute: it goes only when another replaces it.
    progress_done = "assigned"
    list_display = [
        "__str__", "created_at", "status_badge", "progress_percent", "k", "visitors",
        "is_current", "duration",
    ]  # fmt: skip
    list_filter = ["status", "algorithm", "is_current"]
    actions = ["compute_now"]
    fields = [
        "status_badge", "progress_bar", "is_current", "algorithm", "parameters_pretty", "k",
        "metrics_table", "sample_size", "visitors", "left_out", "clusters_table",
        "projection_chart", "error", "created_at", "started_at", "finished_at", "duration",
    ]  # fmt: skip
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).defer("model", "projection")

    @admin.display(description="metrics per k")
    def metrics_table(self, run: ClusterRun) -> str:
        if not run.metrics:
            return "Not fitted yet."
        rows = (
            (
                "tailor-k tailor-chosen" if m.get("chosen") else "tailor-k",
                m["k"],
                value_text(m["silhouette"]),
                value_text(m["davies_bouldin"]),
                value_text(m.get("bic")),
                "chosen" if m.get("chosen") else "",
            )
            for m in run.metrics
        )
        return format_html(
            '<table class="tailor-cluster-metrics"><tr><th>k</th><th>silhouette (higher is '
            "better)</th><th>Davies-Bouldin (lower is better)</th><th>BIC</th><th></th></tr>"
            "{}</table>",
            format_html_join(
                "", '<tr class="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
                rows,
            ),
        )  # fmt: skip

    @admin.display(description="clusters")
    def clusters_table(self, run: ClusterRun) -> str:
        clusters = list(run.clusters.select_related("segment"))
        if not clusters:
            return "None yet."
        rows = (
            (
                colour(c.number),
                c.number,
                reverse("admin:personalization_cluster_change", args=[c.pk]),
                c.name or "(unnamed: name it)",
                number(c.size),
                c.description,
                centroid_highlights(c),
                c.segment.key if c.segment else "",
            )
            for c in clusters
        )
        return format_html(
            '<table class="tailor-clusters"><tr><th></th><th>#</th><th>name</th><th>size</th>'
            "<th>description</th><th>centroid</th><th>segment</th></tr>{}</table>",
            format_html_join(
                "",
                '<tr><td><svg width="12" height="12" aria-hidden="true"><rect width="12" '
                'height="12" fill="{}"/></svg></td><td>{}</td><td><a href="{}">{}</a></td>'
                "<td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                rows,
            ),
        )

    @admin.display(description="2-D projection of a sample")
    def projection_chart(self, run: ClusterRun) -> str:
        return projection_svg(run.projection, list(run.clusters.all()))

    @admin.action(description="Compute clusters now (a new run)")
    def compute_now(self, request, queryset) -> None:
        transaction.on_commit(lambda: compute_clusters.delay())
        self.message_user(request, "A new clustering run is being computed.")


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    list_display = ["__str__", "run", "number", "size", "description", "segment"]
    list_select_related = ["run", "segment"]
    list_filter = ["run__is_current"]
    search_fields = ["name", "description"]
    fields = ["name", "run", "number", "size", "description", "highlights", "segment"]
    readonly_fields = ["run", "number", "size", "description", "highlights", "segment"]
    actions = ["turn_into_segment"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="centroid")
    def highlights(self, cluster: Cluster) -> str:
        return format_html("<code>{}</code>", json.dumps(cluster.centroid, sort_keys=True))

    def save_model(self, request, obj: Cluster, form, change) -> None:
        cluster_rename(cluster=obj, name=obj.name)

    @admin.action(description="Turn into segment (kept in sync by later runs)")
    def turn_into_segment(self, request, queryset) -> None:
        for cluster in queryset.select_related("segment"):
            try:
                segment = cluster_segment_create(cluster=cluster)
            except ClusterError as exc:
                self.message_user(request, f"{cluster}: {exc.message}", messages.ERROR)
                continue
            self.message_user(
                request, f"{cluster} is now segment {segment.key} ({segment.estimated_size} "
                "visitors).",
            )  # fmt: skip

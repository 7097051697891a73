"""Clustering runs, the clusters they found and which visitors fell into which cluster.

Imported by `personalization/models.py` so that Django sees these models in the app.
"""

from django.db import models
from django.utils import timezone
from django.utils.text import slugify

from config.runs import LeasedRun


class ClusterRun(LeasedRun):
    """One `compute_clusters` run: its parameters, the metrics of every k tried, its progress."""

    class Algorithm(models.TextChoices):
        KMEANS = "kmeans", "k-means"
        MINIBATCH = "minibatch", "mini-batch k-means"
        GMM = "gmm", "Gaussian mixture"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        FITTING = "fitting", "Fitting on a sample"
        ASSIGNING = "assigning", "Assigning visitors"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    algorithm = models.CharField(max_length=20, choices=Algorithm.choices)
    parameters = models.JSONField(default=dict, blank=True, help_text="What the run was asked.")
    metrics = models.JSONField(
        default=list, blank=True,
        help_text="Per k tried: silhouette (sampled, higher is better), Davies-Bouldin (lower "
        "is better).",
    )  # fmt: skip
    k = models.PositiveSmallIntegerField(null=True, blank=True, help_text="The k chosen.")
    sample_size = models.PositiveIntegerField(default=0, help_text="Visitors the model saw.")
    visitors = models.PositiveIntegerField(default=0, help_text="Visitors assigned a cluster.")
    left_out = models.PositiveIntegerField(
        default=0, help_text="Visitors without personalization consent or computed features."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    feature_names = models.JSONField(default=list, blank=True, editable=False)
    projection = models.JSONField(
        default=list, blank=True, editable=False, help_text="[x, y, cluster] of a sample (PCA)."
    )
    model = models.BinaryField(
        null=True, blank=True, editable=False,
        help_text="The fitted encoder and estimator, written and read only by Tailor's workers.",
    )  # fmt: skip
    is_current = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=models.Q(is_current=True),
                name="cluster_run_one_current",
            )
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.get_algorithm_display()}, k={self.k or '?'})"

    @property
    def progress(self) -> float:
        """0 to 1: chunks of visitors assigned so far."""
        if self.status == self.Status.DONE:
            return 1.0
        return self.chunks_done / self.chunks_total if self.chunks_total else 0.0


class Cluster(models.Model):
    """A group of visitors a run found, described in plain words and named by editors."""

    run = models.ForeignKey(ClusterRun, on_delete=models.CASCADE, related_name="clusters")
    number = models.PositiveSmallIntegerField()
    size = models.PositiveIntegerField(default=0)
    centroid = models.JSONField(
        default=dict, blank=True, help_text="Mean features of its visitors in the sample."
    )
    description = models.CharField(max_length=300, blank=True, help_text="Generated.")
    inherited_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The cluster of the previous current run whose name and segment it took over.",
    )  # fmt: skip
    name = models.CharField(
        max_length=100, blank=True,
        help_text="Your name for it; its slug becomes a key of the `clusters` attribute.",
    )  # fmt: skip
    segment = models.ForeignKey(
        "personalization.Segment", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="clusters", help_text="The cluster segment it was turned into.",
    )  # fmt: skip

    class Meta:
        ordering = ["run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["run", "number"], name="cluster_number_once_per_run")
        ]

    def __str__(self) -> str:
        return self.name or f"cluster {self.number}"

    @property
    def key(self) -> str:
        """`cluster-<number>`: always in the `clusters` attribute of its members."""
        return f"cluster-{self.number}"

    @property
    def name_key(self) -> str:
        """The slug of the editor's name, also in the `clusters` attribute; empty when unnamed."""
        return slugify(self.name)


class ClusterMembership(models.Model):
    """The cluster a visitor fell into in one run (kept for the current run only)."""

    # The unique constraint's index serves lookups by run.
    run = models.ForeignKey(
        ClusterRun, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="memberships")
    visitor = models.ForeignKey(
        "personalization.Visitor", on_delete=models.CASCADE, related_name="cluster_memberships"
    )
    assigned_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "visitor"], name="cluster_membership_once")
        ]

    def __str__(self) -> str:
        return f"{self.visitor_id} in cluster {self.cluster_id}"

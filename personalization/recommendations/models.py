"""Recommendation model runs and what they stored: top-N items per visitor, similar items per item.

Imported at the end of `personalization/models.py`, so Django registers these models with the
personalization app.
"""

from django.db import models
from django.utils import timezone

from config.runs import LeasedRun
from personalization.visitors.models import Visitor


class ModelRun(LeasedRun):
    """One training of the recommenders: parameters, offline metrics, progress and counts.

    `compute` runs store recommendations and become current when their validation score is
    not worse than the current run's (or when forced); `evaluation` runs only hold metrics.
    """

    class Kind(models.TextChoices):
        COMPUTE = "compute", "Compute"
        EVALUATION = "evaluation", "Evaluation"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        TRAINING = "training", "Training"
        SCORING = "scoring", "Scoring"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.COMPUTE)
    algorithm = models.CharField(
        max_length=50, default="hybrid", help_text="The algorithm whose lists are served."
    )
    algorithms = models.JSONField(default=list, blank=True, help_text="Every algorithm trained.")
    parameters = models.JSONField(
        default=dict, blank=True, help_text="Hyperparameters, tuned on a validation split."
    )
    metrics = models.JSONField(
        default=dict, blank=True, help_text="Algorithm → metric → value, on the test split."
    )
    score = models.FloatField(
        null=True, blank=True, help_text="The served algorithm's nDCG@K on the test split."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    visitors_count = models.PositiveIntegerField(default=0, help_text="Visitors to score.")
    visitors_done = models.PositiveIntegerField(default=0)
    items_count = models.PositiveIntegerField(default=0)
    interactions_count = models.PositiveIntegerField(default=0)
    recommendations_count = models.PositiveIntegerField(default=0)
    similar_count = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    is_current = models.BooleanField(default=False, help_text="Its lists are the ones served.")
    forced = models.BooleanField(
        default=False, help_text="Made current whatever its score against the current run."
    )
    popular = models.JSONField(
        default=dict, blank=True, editable=False,
        help_text='Cold start: {"global": [item ids], "segments": {key: [item ids]}}.',
    )  # fmt: skip
    artifact = models.BinaryField(
        null=True, blank=True, editable=False, help_text="The fitted model that chunks score with."
    )

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=models.Q(is_current=True),
                name="model_run_one_current",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} run {self.pk} ({self.algorithm}, {self.status})"

    @property
    def progress(self) -> float:
        """Share of the visitors scored, 0 to 1."""
        if self.status == self.Status.FINISHED:
            return 1.0
        return self.visitors_done / self.visitors_count if self.visitors_count else 0.0


class Recommendation(models.Model):
    """One item of a visitor's top-N list, as a model run ranked it."""

    run = models.ForeignKey(ModelRun, on_delete=models.CASCADE, related_name="recommendations")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="recommendations")
    item = models.ForeignKey("content.ContentItem", on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()
    algorithm = models.CharField(max_length=50)

    class Meta:
        ordering = ["run", "visitor", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "visitor", "rank"], name="recommendation_rank_once"
            )
        ]
        indexes = [models.Index(fields=["visitor", "run"], name="recommendation_visitor_run")]

    def __str__(self) -> str:
        return f"#{self.rank} item {self.item_id} for {self.visitor_id}"


class SimilarItem(models.Model):
    """An item like another one, as a model run ranked it (no personal data)."""

    run = models.ForeignKey(ModelRun, on_delete=models.CASCADE, related_name="similar_items")
    item = models.ForeignKey("content.ContentItem", on_delete=models.CASCADE, related_name="+")
    similar = models.ForeignKey("content.ContentItem", on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveSmallIntegerField()
    score = models.FloatField()
    algorithm = models.CharField(max_length=50)

    class Meta:
        ordering = ["run", "item", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["run", "item", "rank"], name="similar_item_rank_once")
        ]

    def __str__(self) -> str:
        return f"#{self.rank} item {self.similar_id} like {self.item_id}"

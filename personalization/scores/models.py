"""Score runs (a training, its metrics, its progress) and the probabilities they stored.

Imported at the end of `personalization/models.py`, so Django registers these models with the
personalization app.
"""

from django.db import models
from django.utils import timezone

from config.runs import LeasedRun
from personalization.visitors.models import Visitor


class ScoreRun(LeasedRun):
    """One `compute_scores` run: trained at a cut-off, evaluated on a later window, scored.

    It becomes current when its mean ROC AUC over the targets is not worse than the current
    run's (or when forced); only the current run's scores are served.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        TRAINING = "training", "Training"
        SCORING = "scoring", "Scoring"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    targets = models.JSONField(default=list, blank=True, help_text="Target keys trained.")
    horizon_days = models.PositiveSmallIntegerField(
        default=30, help_text="Labels look this many days past the cut-off."
    )
    cutoff = models.DateTimeField(
        null=True, blank=True, help_text="Training features end here; its labels follow it."
    )
    evaluated_at = models.DateTimeField(
        null=True, blank=True, help_text="The later cut-off of the held-out window."
    )
    parameters = models.JSONField(default=dict, blank=True, help_text="What the run was asked.")
    metrics = models.JSONField(
        default=dict, blank=True,
        help_text="Target → model or baseline → ROC AUC, PR AUC, Brier score, top-decile lift.",
    )  # fmt: skip
    calibration = models.JSONField(
        default=dict, blank=True, editable=False,
        help_text="Target → [[mean predicted, observed rate], …] on the held-out window.",
    )  # fmt: skip
    importance = models.JSONField(
        default=dict, blank=True, editable=False,
        help_text="Target → [[feature, permutation importance], …], largest first.",
    )  # fmt: skip
    score = models.FloatField(
        null=True, blank=True, help_text="The model's mean ROC AUC over targets, held out."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    training_rows = models.PositiveIntegerField(default=0)
    visitors_count = models.PositiveIntegerField(default=0, help_text="Visitors to score.")
    visitors_done = models.PositiveIntegerField(default=0)
    scores_count = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    is_current = models.BooleanField(default=False, help_text="Its scores are the ones served.")
    forced = models.BooleanField(
        default=False, help_text="Made current whatever its score against the current run."
    )
    artifact = models.BinaryField(
        null=True, blank=True, editable=False,
        help_text="The fitted models, written and read only by Tailor's workers.",
    )  # fmt: skip

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_current"],
                condition=models.Q(is_current=True),
                name="score_run_one_current",
            )
        ]

    def __str__(self) -> str:
        return f"score run {self.pk} ({self.status})"

    @property
    def progress(self) -> float:
        """Share of the visitors scored, 0 to 1."""
        if self.status == self.Status.FINISHED:
            return 1.0
        return self.visitors_done / self.visitors_count if self.visitors_count else 0.0


class VisitorScore(models.Model):
    """The probability a score run gave one visitor for one target (churn, purchase, …)."""

    run = models.ForeignKey(ScoreRun, on_delete=models.CASCADE, related_name="scores")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="scores")
    target = models.SlugField(max_length=50)
    probability = models.FloatField(help_text="0 to 1.")
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["run", "visitor", "target"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "visitor", "target"], name="visitor_score_once_per_target"
            ),
            models.CheckConstraint(
                condition=models.Q(probability__gte=0, probability__lte=1),
                name="visitor_score_probability_0_to_1",
            ),
        ]
        indexes = [models.Index(fields=["visitor", "run"], name="visitor_score_visitor_run")]

    def __str__(self) -> str:
        return f"{self.target} {self.probability:.2f} for {self.visitor_id}"

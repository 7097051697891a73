"""The features computed for each visitor from their events."""

from django.db import models
from django.utils import timezone

from config.runs import LeasedRun
from personalization.visitors.models import Visitor


class VisitorFeatures(models.Model):
    """Features computed from a visitor's events by the `compute_features` task."""

    class Lifecycle(models.TextChoices):
        NEW = "new", "New"
        ENGAGED = "engaged", "Engaged"
        ACTIVE = "active", "Active"
        AT_RISK = "at_risk", "At risk"
        DORMANT = "dormant", "Dormant"

    visitor = models.OneToOneField(Visitor, on_delete=models.CASCADE, related_name="features")
    computed_at = models.DateTimeField()
    event_count = models.PositiveIntegerField(default=0)
    recency_days = models.FloatField(null=True, blank=True, help_text="Days since the last event.")
    sessions_7d = models.PositiveIntegerField(default=0)
    sessions_30d = models.PositiveIntegerField(default=0)
    sessions_90d = models.PositiveIntegerField(default=0)
    monetary_90d = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    r_score = models.PositiveSmallIntegerField(default=1)
    f_score = models.PositiveSmallIntegerField(default=1)
    m_score = models.PositiveSmallIntegerField(default=1)
    lifecycle = models.CharField(max_length=20, choices=Lifecycle.choices, default=Lifecycle.NEW)
    engagement = models.FloatField(default=0, help_text="0 to 1.")
    tag_affinities = models.JSONField(default=dict, blank=True, help_text="Tag slug → 0 to 1.")
    favourite_kinds = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name_plural = "visitor features"
        indexes = [models.Index(fields=["lifecycle"])]

    def __str__(self) -> str:
        return f"features of {self.visitor_id}"

    @property
    def rfm(self) -> str:
        return f"{self.r_score}{self.f_score}{self.m_score}"


class FeatureRun(LeasedRun):
    """One `compute_features` run on the workers: chunks of visitors, its progress and end."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    visitors = models.PositiveIntegerField(default=0, help_text="Visitors to compute.")
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"features run {self.pk} ({self.status})"

"""Segments, their members and their daily sizes."""

import json

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from config.runs import LeasedRun
from personalization.visitors.models import Visitor


def _condition_dump(condition: object) -> str:
    """A comparable text of a condition: key order counts, as it does to evaluation."""
    return json.dumps(condition, default=str)


class Segment(models.Model):
    """A named group of visitors: by a rule, from an imported list, or found by clustering.

    Rule segments that read only stored data (features, traits, consent, other stored
    segments) get their members precomputed by `compute_segments`; a rule that reads the
    request (device, hour, campaign…) makes the segment live: evaluated on every request.
    """

    class Kind(models.TextChoices):
        RULE = "rule", "Rule"
        STATIC = "static", "Static list"
        CLUSTER = "cluster", "Cluster"

    key = models.SlugField(
        max_length=100, unique=True, help_text='Used in conditions: {"$inSegment": "key"}.'
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(
        max_length=20, choices=Kind.choices, default=Kind.RULE,
        help_text="Rule: members match the condition. Static list: imported with "
        "`import_segment`. Cluster: filled by clustering.",
    )  # fmt: skip
    condition = models.JSONField(
        default=dict, blank=True,
        help_text='For rule segments, e.g. {"lifecycle": "active", "monetary_90d": {"$gte": 100}}.',
    )  # fmt: skip
    is_active = models.BooleanField(default=True)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Goes up whenever the condition changes."
    )
    is_live = models.BooleanField(
        default=False, editable=False,
        help_text="The condition reads the request (device, hour, campaign…): evaluated on "
        "every request instead of precomputed.",
    )  # fmt: skip
    estimated_size = models.PositiveIntegerField(null=True, blank=True, editable=False)
    size_updated_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        from personalization.rules.catalogue import condition_is_live
        from personalization.segments.selectors import segments_cache_bump

        update_fields = kwargs.get("update_fields")
        if update_fields is None or "condition" in update_fields:
            self.is_live = self.kind == self.Kind.RULE and condition_is_live(self.condition)
            dump = _condition_dump(self.condition)
            if not self._state.adding and getattr(self, "_stored_condition", None) != dump:
                self.version += 1
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "is_live", "version"}
            self._stored_condition = dump
        super().save(*args, **kwargs)
        # The one side effect here, on purpose: every write path (admin, shell, fixtures)
        # must make other processes reload segment definitions.
        segments_cache_bump()

    def delete(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        from personalization.segments.selectors import segments_cache_bump

        result = super().delete(*args, **kwargs)
        segments_cache_bump()
        return result

    @classmethod
    def from_db(cls, db, field_names, values):  # type: ignore[no-untyped-def]
        instance = super().from_db(db, field_names, values)
        if "condition" in field_names:
            instance._stored_condition = _condition_dump(instance.condition)
        return instance

    def clean(self) -> None:
        # Imported here: personalization.segments imports this module.
        from personalization.rules import validate_condition
        from personalization.rules.catalogue import catalogue_check
        from personalization.segments.selectors import segment_cycle
        from personalization.segments.validation import unknown_segment_issues

        if self.kind != self.Kind.RULE:
            if self.condition:
                raise ValidationError(
                    {"condition": "Only rule segments have a condition: clear it, or pick Rule."}
                )
            return
        errors = [str(issue) for issue in validate_condition(self.condition)]
        if not errors:
            errors = [str(issue) for issue in catalogue_check(self.condition)[0]]
        if not errors:
            known = [self.key] if self.key else []  # naming itself: the cycle check speaks
            errors = [str(i) for i in unknown_segment_issues(self.condition, also_known=known)]
        if not errors and self.key:
            cycle = segment_cycle(key=self.key, condition=self.condition, exclude_pk=self.pk)
            if cycle:
                errors.append(f"$inSegment makes a cycle: {' → '.join(cycle)}")
        if errors:
            raise ValidationError({"condition": errors})


class SegmentMembership(models.Model):
    """A visitor in a precomputed rule segment, a static list or a cluster."""

    # The unique constraint's index serves lookups by segment.
    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )
    visitor = models.ForeignKey(
        Visitor, on_delete=models.CASCADE, related_name="segment_memberships"
    )
    since = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "visitor"], name="segment_membership_once")
        ]

    def __str__(self) -> str:
        return f"{self.visitor_id} in {self.segment_id}"


class SegmentSizeSnapshot(models.Model):
    """A segment's size on one day, for the size history."""

    segment = models.ForeignKey(
        Segment, on_delete=models.CASCADE, related_name="size_snapshots", db_index=False
    )
    date = models.DateField()
    size = models.PositiveIntegerField()

    class Meta:
        ordering = ["segment", "date"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "date"], name="segment_size_once_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.segment_id} on {self.date}: {self.size}"


class SegmentRun(LeasedRun):
    """One `compute_segments` run on the workers: chunks of visitors, then today's sizes."""

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
        return f"segments run {self.pk} ({self.status})"

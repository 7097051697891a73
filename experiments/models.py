"""Experiments: what runs on a slot (or in a template), its variations, and who saw which.

Variations are numbered by `position` (0, 1, …): that index is what GrowthBook's bucketing
chooses (see `experiments.bucketing`), so positions must not change once an experiment runs.

The personalization holdout is an experiment too (`is_holdout`): its control variation is the
share of visitors who get only default content everywhere, its other variation everyone else,
so its results page shows the lift of personalization itself with the same statistics.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

UNIT = [MinValueValidator(0.0), MaxValueValidator(1.0)]


class Experiment(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        STOPPED = "stopped", "Stopped"

    class HashVersion(models.IntegerChoices):
        V1 = 1, "1 (GrowthBook legacy)"
        V2 = 2, "2 (GrowthBook default)"

    key = models.SlugField(
        max_length=100, unique=True,
        help_text='Used in templates ({% experiment "key" as variation %}), in the staff '
        "QA parameter ?key=<variation number>, and in GrowthBook SDKs.",
    )  # fmt: skip
    name = models.CharField(max_length=200)
    hypothesis = models.TextField(blank=True, help_text="What you expect to happen, and why.")
    slot = models.ForeignKey(
        "content.Slot", null=True, blank=True, on_delete=models.PROTECT,
        related_name="experiments",
        help_text="The slot it runs on. Empty: a template experiment, used with the tag only.",
    )  # fmt: skip
    is_holdout = models.BooleanField(
        "personalization holdout", default=False,
        help_text="The control's visitors get default content in every slot; the other "
        "variation is everyone else. Measures the lift of personalization itself.",
    )  # fmt: skip
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    start_at = models.DateTimeField(null=True, blank=True, help_text="Runs from then on.")
    end_at = models.DateTimeField(null=True, blank=True, help_text="Stops assigning then.")
    coverage = models.FloatField(
        default=1.0, validators=UNIT, help_text="Share of eligible visitors in the test, 0 to 1."
    )
    condition = models.JSONField(
        "targeting condition", default=dict, blank=True,
        help_text='Who may take part, e.g. {"device": "mobile"}; {} is everyone.',
    )  # fmt: skip
    namespace = models.SlugField(
        max_length=100, blank=True,
        help_text="Experiments of one namespace with ranges that do not overlap never share "
        "a visitor.",
    )  # fmt: skip
    namespace_start = models.FloatField(default=0.0, validators=UNIT)
    namespace_end = models.FloatField(default=1.0, validators=UNIT)
    seed = models.CharField(max_length=100, blank=True, help_text="Hash seed; empty: the key.")
    hash_version = models.PositiveSmallIntegerField(
        choices=HashVersion.choices, default=HashVersion.V2
    )
    is_bandit = models.BooleanField(
        "multi-armed bandit", default=False,
        help_text="Thompson sampling moves traffic to the better variations as results come in.",
    )  # fmt: skip
    bandit_min_share = models.FloatField(
        default=0.1, validators=UNIT, help_text="Every variation keeps at least this share."
    )
    baseline_rate = models.FloatField(
        null=True, blank=True, validators=UNIT,
        help_text="Sample size: today's conversion rate of the primary metric, 0 to 1.",
    )  # fmt: skip
    minimum_effect = models.FloatField(
        "minimum detectable effect", null=True, blank=True, validators=[MinValueValidator(0.0)],
        help_text="Sample size: the smallest relative lift worth finding, e.g. 0.1 for 10 %.",
    )  # fmt: skip
    winner = models.ForeignKey(
        "Variation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        editable=False,
    )  # fmt: skip
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(namespace_start__lt=models.F("namespace_end")),
                name="experiment_namespace_range_not_empty",
            )
        ]

    def __str__(self) -> str:
        return self.name or self.key

    def clean(self) -> None:
        from personalization.rules import validate_condition
        from personalization.rules.catalogue import catalogue_check
        from personalization.segments.validation import unknown_segment_issues

        errors: dict[str, list[str]] = {}
        issues = (
            validate_condition(self.condition)
            or catalogue_check(self.condition)[0]
            or unknown_segment_issues(self.condition)
        )
        if issues:
            errors["condition"] = [str(issue) for issue in issues]
        if self.namespace_start >= self.namespace_end:
            errors["namespace_end"] = ["The namespace range must end after it starts."]
        if self.start_at and self.end_at and self.end_at <= self.start_at:
            errors["end_at"] = ["The experiment must end after it starts."]
        if self.is_holdout and self.slot_id is not None:
            errors["slot"] = ["A personalization holdout covers every slot: leave the slot empty."]
        if self.is_holdout and self.is_bandit:
            errors["is_bandit"] = ["A personalization holdout cannot be a bandit."]
        if errors:
            raise ValidationError(errors)

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.status == self.Status.RUNNING
            and (self.start_at is None or self.start_at <= now)
            and (self.end_at is None or self.end_at > now)
        )


class Variation(models.Model):
    """One arm: chosen items of the slot, or a set of the slot's rules; none: the usual decision."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="variations")
    position = models.PositiveSmallIntegerField(
        default=0, help_text="0, 1, 2, …: the number GrowthBook's bucketing chooses."
    )
    key = models.SlugField(max_length=100, help_text="Returned by the template tag.")
    name = models.CharField(max_length=200, blank=True)
    is_control = models.BooleanField(default=False)
    weight = models.FloatField(
        default=0.5, validators=UNIT, help_text="Share of the experiment's traffic, 0 to 1."
    )
    items = models.ManyToManyField(
        "content.ContentItem", blank=True, related_name="+",
        help_text="Show these items of the slot.",
    )  # fmt: skip
    rules = models.ManyToManyField(
        "content.SlotRule", blank=True, related_name="+",
        help_text="Or try only these rules of the slot (first match wins, else the default).",
    )  # fmt: skip

    class Meta:
        ordering = ["experiment", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["experiment", "position"], name="variation_position_unique"
            ),
            models.UniqueConstraint(fields=["experiment", "key"], name="variation_key_unique"),
        ]

    def __str__(self) -> str:
        return self.name or self.key


class Metric(models.Model):
    """What an experiment measures; one primary metric decides the winner."""

    class Kind(models.TextChoices):
        CONVERSION = "conversion", "Conversion: the event within the window after exposure"
        CTR = "ctr", "Click-through rate: clicks on the variation's items"
        REVENUE = "revenue", "Revenue per visitor: sum of the event's values in the window"

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="metrics")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CONVERSION)
    event_type = models.SlugField(
        max_length=50,
        default="purchase",
        help_text="The event type that counts; click-through rate always counts clicks.",
    )
    window_hours = models.PositiveIntegerField(
        default=72, validators=[MinValueValidator(1)], help_text="Counted this long after exposure."
    )
    is_primary = models.BooleanField(default=False)

    class Meta:
        ordering = ["experiment", "-is_primary", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["experiment"], condition=Q(is_primary=True), name="metric_one_primary"
            )
        ]

    def __str__(self) -> str:
        if self.kind == self.Kind.CTR:
            return f"click-through rate within {self.window_hours} h"
        label = {"conversion": "conversion", "revenue": "revenue per visitor"}
        return f"{label[self.kind]} on {self.event_type} within {self.window_hours} h"


class Exposure(models.Model):
    """A visitor saw a variation: recorded once per visitor and experiment, when rendered."""

    visitor = models.ForeignKey(
        "personalization.Visitor", on_delete=models.CASCADE, related_name="exposures"
    )
    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="exposures")
    variation = models.ForeignKey(Variation, on_delete=models.CASCADE, related_name="exposures")
    exposed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["visitor", "experiment"], name="exposure_once_per_visitor"
            )
        ]
        indexes = [models.Index(fields=["experiment", "exposed_at"], name="exposure_timeline")]

    def __str__(self) -> str:
        return f"{self.visitor_id} saw {self.variation_id} of {self.experiment_id}"


class AllocationSnapshot(models.Model):
    """The weights a bandit update gave the variations, kept to show how traffic moved."""

    experiment = models.ForeignKey(Experiment, on_delete=models.CASCADE, related_name="allocations")
    computed_at = models.DateTimeField(default=timezone.now)
    weights = models.JSONField(help_text="Variation key → share of traffic.")
    chance_to_win = models.JSONField(default=dict, help_text="Variation key → P(best).")

    class Meta:
        ordering = ["experiment", "-computed_at"]

    def __str__(self) -> str:
        return f"allocation of {self.experiment_id} at {self.computed_at:%Y-%m-%d %H:%M}"

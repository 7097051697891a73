"""Rollups of how personalization performs: aggregates only, never a visitor's id.

Every table is written by `insights.services` from the raw rows (impressions, events,
exposures) and read by the dashboard and the API; a period can be recomputed at any time and
gives the same rows (the write replaces the period's cells).
"""

from django.db import models

MONEY = {"max_digits": 18, "decimal_places": 4, "default": 0}


class Granularity(models.TextChoices):
    DAY = "day", "Day"
    HOUR = "hour", "Hour"


class DeliveryRollup(models.Model):
    """One period, slot, rule and item: what was shown, clicked and bought after a click."""

    granularity = models.CharField(max_length=4, choices=Granularity.choices)
    period_start = models.DateTimeField()
    slot = models.SlugField(max_length=100)
    rule_id = models.PositiveIntegerField(
        default=0,
        help_text="The rule that chose the item; 0: default content, holdout, experiment.",
    )
    item_id = models.PositiveBigIntegerField()
    impressions = models.PositiveIntegerField(default=0)
    visitors = models.PositiveIntegerField(default=0, help_text="Distinct visitors shown the item.")
    clicks = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0, help_text="Attributed to a click.")
    revenue = models.DecimalField(**MONEY, help_text="Value of the attributed conversions.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["granularity", "period_start", "slot", "rule_id", "item_id"],
                name="delivery_rollup_cell",
            )
        ]
        indexes = [models.Index(fields=["slot", "granularity", "period_start"])]
        permissions = [("view_insights", "Can view insights (dashboard, panels and API)")]

    def __str__(self) -> str:
        return f"{self.slot} / rule {self.rule_id} / item {self.item_id} at {self.period_start}"


class AudienceRollup(models.Model):
    """One day and segment (0: every visitor): visitors, sessions, conversions and revenue.

    Members are the segment's members when the day was computed.
    """

    EVERYONE = 0

    day = models.DateField()
    segment_id = models.PositiveBigIntegerField(default=EVERYONE)
    visitors = models.PositiveIntegerField(default=0, help_text="Visitors with any event.")
    sessions = models.PositiveIntegerField(default=0)
    buyers = models.PositiveIntegerField(default=0, help_text="Visitors who converted.")
    conversions = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(**MONEY)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "segment_id"], name="audience_rollup_cell")
        ]
        indexes = [models.Index(fields=["segment_id", "day"])]

    def __str__(self) -> str:
        return f"segment {self.segment_id} on {self.day}"


class HoldoutRollup(models.Model):
    """One exposure day and holdout arm: the sums the uplift's tests need (no single visitor).

    `pre` is a visitor's events in the 30 days before exposure (CUPED's covariate); the sums
    of squares and products give variances and the covariance without any row.
    """

    HOLDOUT, PERSONALIZED = "holdout", "personalized"

    day = models.DateField()
    experiment_id = models.PositiveBigIntegerField()
    arm = models.CharField(max_length=12)
    visitors = models.PositiveIntegerField(default=0)
    conversions = models.PositiveIntegerField(default=0, help_text="Visitors who converted.")
    revenue = models.FloatField(default=0)
    revenue_sq = models.FloatField(default=0)
    pre = models.FloatField(default=0)
    pre_sq = models.FloatField(default=0)
    pre_revenue = models.FloatField(default=0)
    pre_converted = models.FloatField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "experiment_id", "arm"], name="holdout_rollup_cell"
            )
        ]

    def __str__(self) -> str:
        return f"{self.arm} of experiment {self.experiment_id} on {self.day}"


class Watermark(models.Model):
    """How far the rollups have read the raw tables; rows past it mark their periods dirty."""

    name = models.SlugField(max_length=50, unique=True)
    impression_id = models.BigIntegerField(default=0)
    exposure_id = models.BigIntegerField(default=0)
    event_received_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name

"""Triggers (when to tell an email system something), webhook endpoints and their deliveries.

Imported at the end of `personalization/models.py`, so Django registers these models with the
personalization app.
"""

import uuid
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from consent.purposes import MARKETING
from personalization.segments.models import Segment
from personalization.visitors.models import Visitor


def webhook_id_new() -> str:
    """A message id that stays the same on every retry, so that receivers can de-duplicate."""
    return f"msg_{uuid.uuid4().hex}"


class WebhookEndpoint(models.Model):
    """A URL that receives signed trigger payloads; its secret is stored encrypted."""

    name = models.CharField(max_length=200)
    url = models.URLField(max_length=500, help_text="https://… of the email system's receiver.")
    secret_encrypted = models.TextField(editable=False, help_text="The signing secret, encrypted.")
    secret_hint = models.CharField(
        max_length=20, editable=False, help_text="The secret's first characters, to recognise it."
    )
    is_active = models.BooleanField(default=True)
    include_facts = models.BooleanField(
        default=True, help_text="Send the facts that fired the trigger (event, segment, score)."
    )
    include_blocks = models.BooleanField(
        default=True, help_text="Send the visitor's personalized blocks of the trigger's slots."
    )
    rate_per_second = models.PositiveIntegerField(
        default=20, validators=[MinValueValidator(1)],
        help_text="At most this many requests a second to this endpoint; the rest wait.",
    )  # fmt: skip
    failure_streak = models.PositiveIntegerField(
        default=0, editable=False, help_text="Failed requests in a row (timeouts, 5xx, 429)."
    )
    circuit_open_until = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="While in the future no request is sent: the endpoint failed too often.",
    )  # fmt: skip
    disabled_reason = models.CharField(max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def secret_masked(self) -> str:
        return f"{self.secret_hint}…" if self.secret_hint else ""


class Trigger(models.Model):
    """When something happens to a visitor, send a payload to the trigger's endpoints."""

    class Kind(models.TextChoices):
        SEGMENT_ENTER = "segment_enter", "Visitor enters a segment"
        SEGMENT_LEAVE = "segment_leave", "Visitor leaves a segment"
        EVENT = "event", "An event matches a condition"
        EVENT_NOT_FOLLOWED = "event_not_followed", "An event is not followed by another in time"
        SCORE_CROSSES = "score_crosses", "A score crosses a threshold"

    class Direction(models.TextChoices):
        UP = "up", "Rises to or above the threshold"
        DOWN = "down", "Falls below the threshold"

    key = models.SlugField(max_length=100, unique=True, help_text="Sent in the payload.")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    is_active = models.BooleanField(default=True)
    active_from = models.DateTimeField(null=True, blank=True, help_text="Empty: from now.")
    active_until = models.DateTimeField(null=True, blank=True, help_text="Empty: no end.")
    purpose = models.SlugField(
        max_length=50, default=MARKETING,
        help_text="The consent purpose a visitor must allow for the trigger to fire for them.",
    )  # fmt: skip
    cooldown_seconds = models.PositiveIntegerField(
        default=86400, help_text="Fires at most once per visitor within this many seconds."
    )
    segment = models.ForeignKey(
        Segment, null=True, blank=True, on_delete=models.CASCADE, related_name="triggers",
        help_text="Segment triggers: the segment entered or left.",
    )  # fmt: skip
    event_type = models.SlugField(
        max_length=50, blank=True,
        help_text="Event triggers: the event type (e.g. add_to_cart).",
    )  # fmt: skip
    condition = models.JSONField(
        default=dict, blank=True,
        help_text='Event triggers: a condition on the event, e.g. {"value": {"$gte": 50}} '
        "(attributes type, item, value, properties, channel).",
    )  # fmt: skip
    followed_by_type = models.SlugField(
        max_length=50, blank=True,
        help_text="Not-followed triggers: the event that should have come (e.g. purchase).",
    )  # fmt: skip
    within_seconds = models.PositiveIntegerField(
        null=True, blank=True, help_text="Not-followed triggers: how long to wait for it."
    )
    score_target = models.SlugField(
        max_length=50, blank=True, help_text="Score triggers: churn or purchase."
    )
    threshold = models.FloatField(null=True, blank=True, help_text="Score triggers: 0 to 1.")
    direction = models.CharField(
        max_length=10, choices=Direction.choices, default=Direction.UP, blank=True
    )
    slots = models.ManyToManyField(
        "content.Slot", blank=True, related_name="+",
        help_text="The visitor's personalized blocks of these slots go in the payload.",
    )  # fmt: skip
    endpoints = models.ManyToManyField(WebhookEndpoint, blank=True, related_name="triggers")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = _kind_errors(self)
        if self.active_from and self.active_until and self.active_until <= self.active_from:
            errors["active_until"] = "The end must come after the start."
        if errors:
            raise ValidationError(errors)

    @property
    def cooldown(self) -> timedelta:
        return timedelta(seconds=self.cooldown_seconds)


def _kind_errors(trigger: Trigger) -> dict[str, str]:
    """What a trigger of its kind lacks, by field."""
    kind, errors = trigger.kind, {}
    if kind in (Trigger.Kind.SEGMENT_ENTER, Trigger.Kind.SEGMENT_LEAVE) and not trigger.segment_id:
        errors["segment"] = "A segment trigger needs the segment."
    if kind in (Trigger.Kind.EVENT, Trigger.Kind.EVENT_NOT_FOLLOWED) and not trigger.event_type:
        errors["event_type"] = "An event trigger needs the event type."
    if kind == Trigger.Kind.EVENT_NOT_FOLLOWED:
        if not trigger.followed_by_type:
            errors["followed_by_type"] = "Name the event that should follow (e.g. purchase)."
        if not trigger.within_seconds:
            errors["within_seconds"] = "Say how long to wait for it, in seconds."
    if kind == Trigger.Kind.SCORE_CROSSES:
        if not trigger.score_target:
            errors["score_target"] = "A score trigger needs the score (churn, purchase)."
        if trigger.threshold is None or not 0 <= trigger.threshold <= 1:
            errors["threshold"] = "A score trigger needs a threshold from 0 to 1."
        if not trigger.direction:
            errors["direction"] = "Say whether the score rises or falls across the threshold."
    if not isinstance(trigger.condition, dict):
        errors["condition"] = "A condition is a JSON object."
    return errors


class TriggerWatch(models.Model):
    """An event waiting to see whether another follows it in time (abandoned carts).

    The periodic check reads only watches that are due, through the partial index on `due_at`,
    so its cost follows the carts coming due, not all that were ever started.
    """

    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="watches")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="+")
    started_at = models.DateTimeField(help_text="When the first event happened.")
    due_at = models.DateTimeField()
    facts = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["trigger", "visitor"], name="trigger_watch_once")
        ]
        indexes = [models.Index(fields=["due_at"], name="trigger_watch_due")]

    def __str__(self) -> str:
        return f"{self.trigger_id} watching {self.visitor_id} until {self.due_at:%H:%M}"


class TriggerCooldown(models.Model):
    """When a trigger may next fire for a visitor (claimed atomically, so it fires once)."""

    trigger = models.ForeignKey(Trigger, on_delete=models.CASCADE, related_name="+")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="+")
    fired_at = models.DateTimeField()
    cooldown_until = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["trigger", "visitor"], name="trigger_cooldown_once")
        ]

    def __str__(self) -> str:
        return f"{self.trigger_id} for {self.visitor_id} until {self.cooldown_until:%Y-%m-%d %H:%M}"


class Delivery(models.Model):
    """One payload to one endpoint, sent until it is accepted, refused or a day has passed."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    webhook_id = models.CharField(max_length=50, unique=True, default=webhook_id_new)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+")
    trigger = models.ForeignKey(
        Trigger, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    visitor = models.ForeignKey(
        Visitor, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="Empty for test messages.",
    )  # fmt: skip
    event_type = models.CharField(max_length=50, default="trigger.fired")
    body = models.TextField(help_text="The JSON sent, the same bytes on every attempt.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_until = models.DateTimeField(null=True, blank=True)
    give_up_at = models.DateTimeField(help_text="No retry after this time: then failed.")
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            models.Index(fields=["created_at"], name="delivery_created"),
        ]

    def __str__(self) -> str:
        return f"{self.webhook_id} to {self.endpoint_id} ({self.status})"


class DeliveryAttempt(models.Model):
    """One request of a delivery: what came back, how long it took."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    attempted_at = models.DateTimeField(default=timezone.now)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-attempted_at"]

    def __str__(self) -> str:
        return f"{self.status_code or self.error} at {self.attempted_at:%Y-%m-%d %H:%M:%S}"

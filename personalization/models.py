"""Visitors (profiles), their events and the features computed from them."""

import json
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class Visitor(models.Model):
    """A person as Tailor knows them: anonymous (cookie), known to a CRM, or a logged-in user."""

    uid = models.UUIDField(
        default=uuid.uuid4, unique=True, editable=False, help_text="The anonymous id in the cookie."
    )
    external_id = models.CharField(
        max_length=200, unique=True, null=True, blank=True, help_text="The id in your CRM or shop."
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="visitor",
    )  # fmt: skip
    traits = models.JSONField(
        default=dict, blank=True, help_text="Country, language, age band and your own traits."
    )
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now, db_index=True)
    sessions = models.PositiveIntegerField(default=0, help_text="Visits, 30 minutes apart or more.")
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from",
        help_text="Set when this anonymous profile was merged into another on login.",
    )  # fmt: skip

    class Meta:
        indexes = [models.Index(fields=["merged_into"])]

    def __str__(self) -> str:
        return self.external_id or (self.user and self.user.get_username()) or str(self.uid)[:8]

    @property
    def identifier(self) -> str:
        """The id used in URLs, exports and commands: the external id, else the cookie id."""
        return self.external_id or str(self.uid)


class VisitorMerge(models.Model):
    """A record that an anonymous profile was merged into another (on login)."""

    source_uid = models.UUIDField(help_text="The cookie id of the profile that was merged away.")
    target = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="merges")
    events_moved = models.PositiveIntegerField(default=0)
    merged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source_uid"], name="visitor_merge_once_per_source")
        ]

    def __str__(self) -> str:
        return f"{self.source_uid} → {self.target}"


class Event(models.Model):
    """Something a visitor did: a view, a click, a purchase, … Idempotent by `event_id`."""

    class Type(models.TextChoices):
        VIEW = "view", "View"
        CLICK = "click", "Click"
        ADD_TO_CART = "add_to_cart", "Add to cart"
        PURCHASE = "purchase", "Purchase"
        SEARCH = "search", "Search"
        RATING = "rating", "Rating"

    event_id = models.CharField(max_length=100, unique=True, help_text="Client-supplied id.")
    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="events")
    type = models.SlugField(max_length=50, help_text="One of the standard types or your own slug.")
    item = models.ForeignKey(
        "content.ContentItem", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    context = models.JSONField(default=dict, blank=True, help_text="Request context at the time.")
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["visitor", "-occurred_at"], name="event_visitor_timeline"),
            models.Index(fields=["item", "type", "occurred_at"], name="event_item_counts"),
            models.Index(fields=["occurred_at"], name="event_occurred_at"),
        ]

    def __str__(self) -> str:
        return f"{self.type} by {self.visitor_id} at {self.occurred_at:%Y-%m-%d %H:%M}"


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


def _condition_dump(condition: object) -> str:
    """A comparable text of a condition: key order counts, as it does to evaluation."""
    return json.dumps(condition, default=str)


class Impression(models.Model):
    """An item shown to a visitor in a slot; counted for the slot's frequency cap."""

    visitor = models.ForeignKey(Visitor, on_delete=models.CASCADE, related_name="impressions")
    item = models.ForeignKey("content.ContentItem", on_delete=models.CASCADE, related_name="+")
    slot = models.SlugField(max_length=100)
    shown_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            models.Index(fields=["visitor", "item", "shown_at"], name="impression_cap_lookup"),
            models.Index(fields=["shown_at"], name="impression_shown_at"),
        ]

    def __str__(self) -> str:
        return f"item {self.item_id} to {self.visitor_id} in {self.slot}"


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
        from personalization.catalogue import condition_is_live
        from personalization.segments import segments_cache_bump

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
        from personalization.segments import segments_cache_bump

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
        from personalization.catalogue import catalogue_check
        from personalization.rules import validate_condition
        from personalization.segments import segment_cycle

        if self.kind != self.Kind.RULE:
            if self.condition:
                raise ValidationError(
                    {"condition": "Only rule segments have a condition: clear it, or pick Rule."}
                )
            return
        errors = [str(issue) for issue in validate_condition(self.condition)]
        if not errors:
            errors = [str(issue) for issue in catalogue_check(self.condition)[0]]
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


# Clustering and recommendation models live in their own modules; importing them here registers
# them with the app.
from personalization.models_clusters import (  # noqa: E402, F401
    Cluster,
    ClusterMembership,
    ClusterRun,
)
from personalization.models_recommendations import (  # noqa: E402, F401
    ModelRun,
    Recommendation,
    SimilarItem,
)

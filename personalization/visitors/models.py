"""Visitors (profiles), their merges, their events and the impressions they were shown."""

import uuid

from django.conf import settings
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
        permissions = [
            ("preview_visitor", "Can preview the site as a visitor, a segment or request facts")
        ]

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
    """Something a visitor did: a view, a click, a purchase, … Idempotent by source and event id.

    Each sender has its own event ids (`source`): a browser, an API key, an import or the server
    itself. So one sender can neither learn whether another's id exists nor store an event under
    it first (a browser's fake "order-1042" would otherwise make the shop's purchase a duplicate).

    On PostgreSQL the table is partitioned by month of `occurred_at` and the unique constraint
    below is kept by a table of keys instead (`personalization.visitors.partitions`).
    """

    SERVER = "server"  # page views, tracked clicks: recorded by Tailor itself
    IMPORT = "import"  # `manage.py import_events`

    class Type(models.TextChoices):
        VIEW = "view", "View"
        CLICK = "click", "Click"
        ADD_TO_CART = "add_to_cart", "Add to cart"
        PURCHASE = "purchase", "Purchase"
        SEARCH = "search", "Search"
        RATING = "rating", "Rating"

    event_id = models.CharField(
        max_length=100, db_index=True, help_text="The sender's id; unique per source."
    )
    source = models.CharField(
        max_length=50, default=SERVER,
        help_text='Who sent it: "server", "import", "browser:<visitor id>", "api-key:<key id>".',
    )  # fmt: skip
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
        constraints = [
            models.UniqueConstraint(fields=["source", "event_id"], name="event_unique_per_source")
        ]
        indexes = [
            models.Index(fields=["visitor", "-occurred_at"], name="event_visitor_timeline"),
            models.Index(fields=["item", "type", "occurred_at"], name="event_item_counts"),
            models.Index(fields=["occurred_at"], name="event_occurred_at"),
        ]

    def __str__(self) -> str:
        return f"{self.type} by {self.visitor_id} at {self.occurred_at:%Y-%m-%d %H:%M}"

    @staticmethod
    def source_of_browser(visitor_id: int) -> str:
        """A browser's source: its own, so that browsers do not share event ids either."""
        return f"browser:{visitor_id}"

    @staticmethod
    def source_of_api_key(key_id: int) -> str:
        return f"api-key:{key_id}"


class Impression(models.Model):
    """An item shown to a visitor in a slot, and why; counted for frequency caps and insights."""

    # Read by visitor through `impression_cap_lookup`, which starts with it; never by slot alone.
    visitor = models.ForeignKey(
        Visitor, on_delete=models.CASCADE, related_name="impressions", db_index=False
    )
    item = models.ForeignKey("content.ContentItem", on_delete=models.CASCADE, related_name="+")
    slot = models.SlugField(max_length=100, db_index=False)
    shown_at = models.DateTimeField(default=timezone.now)
    # The rule that chose the item (kept as a number: insights still name a deleted rule's id).
    rule_id = models.PositiveIntegerField(null=True, blank=True)
    reason = models.CharField(
        max_length=20, blank=True, default="", help_text="rule, segment, experiment, default, …"
    )
    counts_for_cap = models.BooleanField(
        default=True, help_text="Personalized content of a slot with a frequency cap."
    )

    class Meta:
        indexes = [
            models.Index(fields=["visitor", "item", "shown_at"], name="impression_cap_lookup"),
            models.Index(fields=["shown_at"], name="impression_shown_at"),
        ]

    def __str__(self) -> str:
        return f"item {self.item_id} to {self.visitor_id} in {self.slot}"

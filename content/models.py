"""What editors manage: content items, their kinds and tags, and the slots that show them."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from config.formatting import label
from content.html import sanitize_html, summarize
from content.registry import condition_errors


class ContentKind(models.Model):
    """A kind of content (article, product, banner, …); each renders with its own block template."""

    key = models.SlugField(max_length=50, unique=True, help_text="Used in imports and templates.")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def template_names(self) -> list[str]:
        return [f"tailor/blocks/{self.key}.html", "tailor/blocks/default.html"]


class Tag(models.Model):
    """A node of the taxonomy tree; `path` (`sports/football`) makes subtree queries one lookup."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=500, unique=True, editable=False)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["path"]

    def __str__(self) -> str:
        """ "Home > Garden": parents from the path (no query), capitalised for display."""
        parents = self.path.split("/")[:-1] if self.path else []
        return " > ".join([*(label(p.replace("-", " ")) for p in parents), label(self.name)])

    def clean(self) -> None:
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk and self.pk is not None:
                raise ValidationError(
                    {"parent": "A tag cannot be inside itself or its own children."}
                )
            ancestor = ancestor.parent

    def build_path(self) -> str:
        return f"{self.parent.path}/{self.slug}" if self.parent_id else self.slug


class ContentItem(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        ARCHIVED = "archived", "Archived"

    external_id = models.CharField(
        max_length=200, unique=True, null=True, blank=True,
        help_text="The id in your catalogue or CRM; imports update items by it.",
    )  # fmt: skip
    title = models.CharField(max_length=300)
    slug = models.SlugField(max_length=220, unique=True)
    kind = models.ForeignKey(ContentKind, on_delete=models.PROTECT, related_name="items")
    body = models.TextField(blank=True, help_text="HTML; scripts and event handlers are removed.")
    summary = models.TextField(
        blank=True, help_text="Plain text for email and previews; derived from the body when empty."
    )
    url = models.URLField(max_length=1000, blank=True, help_text="The item's own page.")
    image_url = models.URLField(max_length=1000, blank=True)
    cta_label = models.CharField("call-to-action label", max_length=100, blank=True)
    cta_url = models.URLField("call-to-action URL", max_length=1000, blank=True)
    locale = models.CharField(
        max_length=20,
        blank=True,
        help_text="Language code such as 'en' or 'de-CH'; empty: every locale.",
    )
    priority = models.IntegerField(default=0, help_text="Higher shows first.")
    tags = models.ManyToManyField(Tag, blank=True, related_name="items")
    metadata = models.JSONField(
        default=dict, blank=True, help_text="A JSON object: price, brand, …"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    publish_at = models.DateTimeField(null=True, blank=True, help_text="Shown from then on.")
    expire_at = models.DateTimeField(null=True, blank=True, help_text="Hidden from then on.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-priority", "-updated_at"]
        indexes = [
            models.Index(fields=["status", "publish_at", "expire_at"]),
            models.Index(fields=["kind", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expire_at__isnull=True)
                | Q(publish_at__isnull=True)
                | Q(expire_at__gt=models.F("publish_at")),
                name="content_item_expires_after_publish",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs) -> None:
        self.prepare()
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return self.url or reverse("admin:content_contentitem_preview", args=[self.pk])

    def clean(self) -> None:
        if not isinstance(self.metadata, dict):
            raise ValidationError(
                {"metadata": 'Metadata must be a JSON object such as {"price": 10}.'}
            )
        if self.publish_at and self.expire_at and self.expire_at <= self.publish_at:
            raise ValidationError({"expire_at": "The item must expire after it is published."})
        if self.external_id == "":
            self.external_id = None

    def prepare(self) -> None:
        """Sanitize the body and fill the summary; called before every write of this row."""
        self.body = sanitize_html(self.body)
        if not self.summary.strip():
            self.summary = summarize(self.body)
        if self.external_id == "":
            self.external_id = None

    def is_live(self, now=None) -> bool:
        now = now or timezone.now()
        return (
            self.status == self.Status.PUBLISHED
            and (self.publish_at is None or self.publish_at <= now)
            and (self.expire_at is None or self.expire_at > now)
        )


class ContentRevision(models.Model):
    """A snapshot of an item after each save, for comparing and restoring."""

    item = models.ForeignKey(ContentItem, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    data = models.JSONField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["item", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "number"], name="content_revision_number_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.item} — revision {self.number}"


class Slot(models.Model):
    """A named place on a page or in an email where personalized content goes."""

    class Rotation(models.TextChoices):
        PRIORITY = "priority", "Highest priority first"
        NEWEST = "newest", "Newest first"
        RANDOM = "random", "Shuffled per visitor and day"

    key = models.SlugField(
        max_length=100, unique=True, help_text='Used in templates: {% slot "key" %}.'
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    allowed_kinds = models.ManyToManyField(
        ContentKind, blank=True, related_name="+", help_text="Empty: every kind."
    )
    max_items = models.PositiveSmallIntegerField(default=1, validators=[MinValueValidator(1)])
    default_items = models.ManyToManyField(
        ContentItem, blank=True, related_name="default_in_slots",
        help_text="Shown when no rule matches, and whenever personalization is not possible.",
    )  # fmt: skip
    frequency_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="At most this many impressions of one item to one visitor…"
    )
    frequency_cap_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="…within this many days.",
    )
    rotation = models.CharField(max_length=20, choices=Rotation.choices, default=Rotation.PRIORITY)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key

    def clean(self) -> None:
        if (self.frequency_cap is None) != (self.frequency_cap_days is None):
            raise ValidationError(
                {"frequency_cap_days": "A frequency cap needs a number of impressions and days."}
            )


class SlotRule(models.Model):
    """A targeting rule of a slot: when its condition matches, show what its strategy picks."""

    class Strategy(models.TextChoices):
        ITEMS = "items", "Chosen items"
        NEWEST_TAGGED = "newest_tagged", "Newest items with the tags"
        RECOMMENDATIONS = "recommendations", "Recommendations limited to the kinds and tags"

    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="rules")
    position = models.PositiveIntegerField(default=0, help_text="Rules are tried in this order.")
    name = models.CharField(max_length=200, blank=True)
    condition = models.JSONField(
        default=dict, blank=True,
        help_text='A targeting condition, e.g. {"device": "mobile", "visit_count": {"$gte": 3}}; '
        "{} matches everyone.",
    )  # fmt: skip
    strategy = models.CharField(max_length=30, choices=Strategy.choices, default=Strategy.ITEMS)
    items = models.ManyToManyField(ContentItem, blank=True, related_name="+")
    tags = models.ManyToManyField(Tag, blank=True, related_name="+")
    kinds = models.ManyToManyField(ContentKind, blank=True, related_name="+")
    active_from = models.DateTimeField(null=True, blank=True)
    active_until = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["slot", "position", "pk"]

    def __str__(self) -> str:
        return self.name or f"rule {self.position}"

    def clean(self) -> None:
        # The condition language belongs to personalization, which registers its checks.
        errors = condition_errors(self.condition)
        if errors:
            raise ValidationError({"condition": errors})
        if self.active_from and self.active_until and self.active_until <= self.active_from:
            raise ValidationError({"active_until": "The rule must end after it starts."})

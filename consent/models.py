"""Purposes a visitor can consent to, versioned policy texts, and the append-only consent log."""

import hashlib
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class Purpose(models.Model):
    class LegalBasis(models.TextChoices):
        CONSENT = "consent", "Consent (Art. 6(1)(a))"
        CONTRACT = "contract", "Contract (Art. 6(1)(b))"
        LEGAL_OBLIGATION = "legal_obligation", "Legal obligation (Art. 6(1)(c))"
        LEGITIMATE_INTEREST = "legitimate_interest", "Legitimate interest (Art. 6(1)(f))"

    key = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(help_text="What visitors are told in the banner.")
    legal_basis = models.CharField(
        max_length=30, choices=LegalBasis.choices, default=LegalBasis.CONSENT
    )
    is_required = models.BooleanField(
        default=False, help_text="Always on (strictly necessary); visitors cannot refuse it."
    )
    retention_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Data kept for this purpose is deleted after so many days."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.name


class PolicyVersion(models.Model):
    """A version of the privacy policy text visitors agree to."""

    version = models.PositiveIntegerField(unique=True)
    text = models.TextField()
    text_hash = models.CharField(max_length=64, editable=False)
    published_at = models.DateTimeField(default=timezone.now)
    requires_fresh_consent = models.BooleanField(
        default=False,
        help_text="Consent given under earlier versions stops counting: visitors are asked again.",
    )

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"policy v{self.version}"

    def save(self, *args, **kwargs) -> None:
        self.text_hash = hashlib.sha256(self.text.encode()).hexdigest()
        super().save(*args, **kwargs)


class ConsentRecord(models.Model):
    """One decision of one visitor about one purpose. Never updated: the latest record counts."""

    class Source(models.TextChoices):
        BANNER = "banner", "Banner"
        API = "api", "API"
        IMPORT = "import", "Import"
        ADMIN = "admin", "Admin"
        GPC = "gpc", "Global Privacy Control signal"

    # Null once the visitor is erased: the record stays as proof, linked only by `subject_hash`.
    visitor = models.ForeignKey(
        "personalization.Visitor", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="consent_records",
    )  # fmt: skip
    subject_hash = models.CharField(
        max_length=64, blank=True, db_index=True,
        help_text="Salted hash of the erased visitor's id: proof without the person.",
    )  # fmt: skip
    purpose = models.ForeignKey(Purpose, on_delete=models.PROTECT, related_name="records")
    granted = models.BooleanField()
    policy = models.ForeignKey(
        PolicyVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="records"
    )
    policy_hash = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices)
    ip_hash = models.CharField(max_length=64, blank=True, help_text="Salted hash, not the IP.")
    user_agent_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["visitor", "purpose", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.visitor_id} {'granted' if self.granted else 'withdrew'} {self.purpose_id}"


RESPONSE_DAYS = 30  # Art. 12(3): a data-subject request is answered within one month


def _response_due() -> datetime:
    return timezone.now() + timedelta(days=RESPONSE_DAYS)


class DataSubjectRequest(models.Model):
    """A data subject's request to see (access) or erase their data, and how it was handled."""

    class Type(models.TextChoices):
        ACCESS = "access", "Access and portability (Art. 15/20)"
        ERASURE = "erasure", "Erasure (Art. 17)"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        REJECTED = "rejected", "Rejected"

    OPEN = (Status.RECEIVED, Status.IN_PROGRESS)

    type = models.CharField(max_length=20, choices=Type.choices)
    subject = models.CharField(
        max_length=200, blank=True,
        help_text="The visitor's external id or cookie id; only its hash is kept after erasure.",
    )  # fmt: skip
    subject_hash = models.CharField(max_length=64, db_index=True, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED)
    received_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(default=_response_due, help_text="Received + 30 days.")
    completed_at = models.DateTimeField(null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    notes = models.TextField(blank=True, help_text="Emptied on erasure: write no identifiers.")
    include_staff = models.BooleanField(
        "include staff accounts", default=False,
        help_text="Erasure anonymizes the subject's user account; a staff account only when this "
        "is ticked (it loses its admin access). The last active superuser is never erased.",
    )  # fmt: skip
    progress = models.JSONField(default=dict, blank=True, editable=False)
    result = models.TextField(blank=True, editable=False, help_text="The export (JSON).")

    class Meta:
        ordering = ["-received_at"]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.get_type_display()} request #{self.pk}"

    @property
    def is_overdue(self) -> bool:
        return self.status in self.OPEN and self.due_at < timezone.now()


class PrivacyAuditEntry(models.Model):
    """Who exported or erased whose data, when and how; holds hashes, never identifiers."""

    class Action(models.TextChoices):
        REQUESTED = "requested", "Request received"
        EXPORTED = "exported", "Data exported"
        ERASURE_QUEUED = "erasure_queued", "Erasure queued"
        ERASED = "erased", "Data erased"
        REJECTED = "rejected", "Request rejected"

    class Channel(models.TextChoices):
        ADMIN = "admin", "Admin"
        API = "api", "API"
        COMMAND = "command", "Command line"
        TASK = "task", "Background task"

    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    api_key = models.ForeignKey(
        "tailor.ApiKey", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    request = models.ForeignKey(
        DataSubjectRequest, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="audit_entries",
    )  # fmt: skip
    subject_hash = models.CharField(max_length=64, db_index=True)
    detail = models.JSONField(default=dict, blank=True, help_text="Counts; never identifiers.")

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "privacy audit entries"

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.at:%Y-%m-%d %H:%M}"

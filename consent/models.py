"""Purposes a visitor can consent to, versioned policy texts, and the append-only consent log."""

import hashlib

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

    visitor = models.ForeignKey(
        "personalization.Visitor", on_delete=models.CASCADE, related_name="consent_records"
    )
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

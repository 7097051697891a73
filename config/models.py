"""API keys for machine clients (email systems, shops, CRMs): hashed at rest, scoped, revocable."""

import hashlib
import secrets

from django.db import models
from django.utils import timezone

SCOPES = {
    "events:write": "send events",
    "decide:read": "ask slots for decisions",
    "blocks:read": "fetch personalized email blocks",
    "profiles:read": "read visitor profiles, segments and recommendations",
    "privacy:admin": "record consent, export and erase data subjects",
    "segments:write": "create, change and delete segments",
    "insights:read": "read aggregated insights (rollups, uplift)",
    "runs:read": "read batch runs (features, segments, clusters, recommendations, scores)",
}
KEY_PREFIX = "tl"


def hash_secret(secret: str) -> str:
    # Keys are 256 random bits, so one round of SHA-256 is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKey(models.Model):
    name = models.CharField(max_length=100, help_text="Who uses it, e.g. 'newsletter system'.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    hashed_secret = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(
        default=list, help_text="Scope names; `create_api_key --help` lists them."
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def generate() -> tuple[str, str, str]:
        """A new (full key, prefix, secret); the full key is `tl_<prefix>_<secret>`."""
        prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        return f"{KEY_PREFIX}_{prefix}_{secret}", prefix, secret

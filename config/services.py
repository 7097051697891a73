"""Writes of cross-cutting records: API keys."""

from django.utils import timezone

from config.errors import ApplicationError
from config.models import SCOPES, ApiKey, hash_secret


def api_key_create(*, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """Create a key; returns it with the full secret key, which is stored only hashed."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ApplicationError(f"unknown scope(s): {', '.join(unknown)}", {"scopes": unknown})
    full, prefix, secret = ApiKey.generate()
    key = ApiKey.objects.create(
        name=name, prefix=prefix, hashed_secret=hash_secret(secret), scopes=scopes
    )
    return key, full


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    """Revoke a key at once; revoking twice keeps the first time."""
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])
    return key

"""API-key authentication and scope permissions for machine clients of `/api/v1/`."""

from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from rest_framework import authentication, exceptions, permissions
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from config.client_ip import client_ip
from config.models import KEY_PREFIX, ApiKey, hash_secret

# last_used_at is written at most this often per key, not on every request.
LAST_USED_RESOLUTION_SECONDS = 60


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer tl_<prefix>_<secret>`; `request.auth` becomes the ApiKey."""

    keyword = "Bearer"

    def authenticate(self, request: Request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        keyword, _, token = header.partition(" ")
        if keyword != self.keyword or not token:
            return None
        parts = token.strip().split("_", 2)
        if len(parts) != 3 or parts[0] != KEY_PREFIX:
            raise exceptions.AuthenticationFailed("Malformed API key.")
        key = ApiKey.objects.filter(prefix=parts[1], revoked_at__isnull=True).first()
        if key is None or key.hashed_secret != hash_secret(parts[2]):
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        now = timezone.now()
        if (
            key.last_used_at is None
            or (now - key.last_used_at).total_seconds() > LAST_USED_RESOLUTION_SECONDS
        ):
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return (None, key)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


def api_key(request: Request) -> ApiKey | None:
    return request.auth if isinstance(request.auth, ApiKey) else None


# What a person signed in with a session needs for each scope an API key can hold: the Django
# permissions of the models the scope reads or writes. One table, so that the API never lets a
# session through that the admin would refuse; `tests/config/test_api_session_permissions.py`
# checks that every scope is here and every permission exists.
SCOPE_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "events:write": ("personalization.add_event",),
    "decide:read": ("personalization.view_visitor", "content.view_slot"),
    "blocks:read": ("personalization.view_visitor", "content.view_slot"),
    "profiles:read": ("personalization.view_visitor", "personalization.view_event"),
    "privacy:admin": (
        "consent.view_datasubjectrequest",
        "consent.add_datasubjectrequest",
        "consent.change_datasubjectrequest",
    ),
    "insights:read": ("insights.view_insights",),
    "runs:read": tuple(
        f"personalization.view_{model}"
        for model in ("featurerun", "segmentrun", "clusterrun", "modelrun", "scorerun")
    ),
    "segments:write": (
        "personalization.view_segment",
        "personalization.add_segment",
        "personalization.change_segment",
        "personalization.delete_segment",
    ),
}


class HasScope(permissions.BasePermission):
    """An API key holding `scope`, or a session user with the scope's Django permissions.

    Sessions reach a view only through DRF's SessionAuthentication, which checks the CSRF
    token of unsafe methods; API keys carry no cookie, so they need none.
    """

    scope = ""
    message = "This API key lacks the scope needed here."

    def has_permission(self, request, view) -> bool:
        key = api_key(request)
        if key is not None:
            return self.scope in key.scopes
        user = getattr(request, "user", None)
        if not (user and user.is_authenticated and user.is_active):
            return False
        if user.has_perms(SCOPE_PERMISSIONS[self.scope]):
            return True
        self.message = "Your account lacks the permissions needed here."
        return False


def scope(name: str) -> type[HasScope]:
    """A permission class requiring the API-key scope `name` (or its permissions, signed in)."""
    if name not in SCOPE_PERMISSIONS:
        raise ImproperlyConfigured(f"scope {name!r} has no entry in config.auth.SCOPE_PERMISSIONS")
    return type(f"HasScope_{name.replace(':', '_')}", (HasScope,), {"scope": name})


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Per-key request rate (`API_KEY_RATE`); anonymous clients are limited per client IP.

    The client IP is `config.client_ip`'s: X-Forwarded-For counts only from TRUSTED_PROXIES.
    """

    scope = "api_key"

    def get_rate(self) -> str | None:
        # Read the setting on each request rather than once at import, so that it can change.
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_ident(self, request) -> str:
        # DRF's own reading believes any X-Forwarded-For; this one only trusted proxies.
        return client_ip(request)

    def get_cache_key(self, request, view):
        key = api_key(request)
        ident = f"key-{key.pk}" if key else f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

"""The consent cookie: a browser's choice remembered without a visitor profile.

A browser that refuses every optional purpose gets no visitor row and no visitor cookie, yet its
choice must stick so that the banner does not ask again on every page. The choice lives in one
small signed, timestamped cookie (strictly necessary, so it needs no consent of its own):
``{"v": <policy version>, "p": {"analytics": false, ...}}``. It is HttpOnly: scripts read the
state from ``GET /api/v1/consent`` instead.
"""

from collections.abc import Mapping

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

from consent.selectors import policy_fresh_since

COOKIE_SALT = "tailor.consent"
_MEMO = "_tailor_consent_cookie"


def consent_cookie_value(*, choices: Mapping[str, bool], policy_version: int | None) -> str:
    """The signed cookie value that stores `choices` (purpose key → granted)."""
    payload = {"v": policy_version or 0, "p": {key: bool(value) for key, value in choices.items()}}
    return signing.dumps(payload, salt=COOKIE_SALT)


def _parse(value: str) -> dict[str, bool] | None:
    try:
        payload = signing.loads(value, salt=COOKIE_SALT, max_age=settings.TAILOR_CONSENT_COOKIE_AGE)
    except signing.BadSignature:  # tampered with, or older than the cookie's lifetime
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("p"), dict):
        return None
    version = payload.get("v")
    if not isinstance(version, int) or version < policy_fresh_since():
        return None  # given under a policy that a later version asks again about
    return {str(key): value for key, value in payload["p"].items() if isinstance(value, bool)}


def consent_from_cookie(request: HttpRequest) -> dict[str, bool] | None:
    """The choices (purpose key → granted) the request's consent cookie holds, if still valid."""
    if not hasattr(request, _MEMO):
        value = request.COOKIES.get(settings.TAILOR_CONSENT_COOKIE)
        setattr(request, _MEMO, _parse(value) if value else None)
    return getattr(request, _MEMO)


def consent_cookie_set(
    response: HttpResponse,
    *,
    request: HttpRequest,
    choices: Mapping[str, bool],
    policy_version: int | None,
) -> None:
    """Remember `choices` in the browser: HttpOnly, SameSite=Lax, Secure under HTTPS."""
    response.set_cookie(
        settings.TAILOR_CONSENT_COOKIE,
        consent_cookie_value(choices=choices, policy_version=policy_version),
        max_age=settings.TAILOR_CONSENT_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


def visitor_cookie_delete(response: HttpResponse) -> None:
    """Make the browser drop the visitor cookie: nothing it may be used for is allowed any more."""
    response.delete_cookie(settings.TAILOR_VISITOR_COOKIE, samesite="Lax")

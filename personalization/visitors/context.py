"""The request context every decision can use: device, browser, campaign, country, local time."""

from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ua_parser import parse as parse_user_agent

UTM_PARAMETERS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
MOBILE_OS = {"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Firefox OS"}
TIMEZONE_COOKIE = "tailor_tz"


@lru_cache(maxsize=8192)
def describe_user_agent(user_agent: str) -> dict[str, Any]:
    """Device type, browser, OS and bot flag of a User-Agent string (cached: most repeat)."""
    if not user_agent.strip():
        return {"device": "bot", "browser": "", "os": "", "is_bot": True}
    result = parse_user_agent(user_agent)
    browser = result.user_agent.family if result.user_agent else ""
    os_family = result.os.family if result.os else ""
    device = result.device
    if device and device.family == "Spider":
        kind = "bot"
    elif device and ("Tablet" in (device.brand or "") or device.family in {"iPad", "Kindle"}):
        kind = "tablet"
    elif os_family in MOBILE_OS or "Mobi" in user_agent:
        kind = "mobile"
    else:
        kind = "desktop"
    return {"device": kind, "browser": browser, "os": os_family, "is_bot": kind == "bot"}


def _local_now(request: HttpRequest, now: datetime) -> datetime:
    # The tracker stores the browser's time zone in a cookie; the site's zone otherwise.
    name = request.COOKIES.get(TIMEZONE_COOKIE, "")
    try:
        zone = ZoneInfo(name) if name else timezone.get_default_timezone()
    except (ZoneInfoNotFoundError, ValueError):
        zone = timezone.get_default_timezone()
    return now.astimezone(zone)


def request_context(request: HttpRequest, now: datetime | None = None) -> dict[str, Any]:
    """Build the context attributes of one request (no database access)."""
    now = now or timezone.now()
    context = dict(describe_user_agent(request.META.get("HTTP_USER_AGENT", "")))
    referrer = request.META.get("HTTP_REFERER", "")
    context["referrer_host"] = (urlsplit(referrer).hostname or "") if referrer else ""
    for name in UTM_PARAMETERS:
        context[name] = request.GET.get(name, "")[:200]
    country = request.META.get(settings.TAILOR_COUNTRY_HEADER, "")
    context["country"] = country.strip().upper()[:2] if country and country.upper() != "XX" else ""
    local = _local_now(request, now)
    context["hour"] = local.hour
    context["weekday"] = local.isoweekday()  # 1 = Monday … 7 = Sunday
    context["logged_in"] = bool(getattr(request, "user", None) and request.user.is_authenticated)
    context["path"] = request.path
    return context

"""`{% tailor_consent_banner %}`: the consent banner with the request's purposes and choices."""

import logging

from django import template
from django.conf import settings
from django.template.loader import render_to_string

from consent.purposes import MARKETING
from consent.request import request_consent_summary

register = template.Library()
logger = logging.getLogger(__name__)


@register.simple_tag(takes_context=True)
def tailor_consent_banner(context: template.Context) -> str:
    """Render the banner: open at once until the browser has decided, re-openable after."""
    request = context.get("request")
    if request is None:
        return ""
    try:
        summary = request_consent_summary(request)
        optional = [
            # Global Privacy Control refuses marketing: the banner shows it off and locked.
            {**p, "gpc_locked": summary["gpc"] and p["key"] == MARKETING}
            for p in summary["purposes"]
            if not p["required"]
        ]
        return render_to_string(
            "consent/banner.html",
            {
                **summary,
                "required_purposes": [p for p in summary["purposes"] if p["required"]],
                "optional_purposes": optional,
                "csrf_cookie_name": settings.CSRF_COOKIE_NAME,
            },
            request=request,
        )
    except Exception:  # the page edge: a banner that cannot render must not break the page
        logger.exception("Could not render the consent banner for %s", request.path)
        return ""

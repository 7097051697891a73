"""Tailor's template library: `{% load tailor %}`."""

from django import template
from django.utils.safestring import SafeString, mark_safe

from content.html import sanitize_html

register = template.Library()


@register.filter
def sanitized(html: str) -> SafeString:
    """Render stored HTML safely: it is sanitized again on the way out, whatever wrote it."""
    return mark_safe(sanitize_html(html or ""))  # noqa: S308 - nh3 has just removed unsafe markup

"""Filters of the experiment results page: `{% load experiment_results %}`."""

from django import template

register = template.Library()


@register.filter
def percent(value, digits: int = 1) -> str:
    """0.1234 → "12.3 %"; a dash for None."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.{int(digits)}f} %"


@register.filter
def signed_percent(value, digits: int = 1) -> str:
    """0.1234 → "+12.3 %"; a dash for None."""
    if value is None:
        return "—"
    return f"{float(value) * 100:+.{int(digits)}f} %"

"""Filters for the insights templates: figures as people read them, table cells by column."""

from django import template
from django.conf import settings

from config.formatting import money

register = template.Library()


def _money(value) -> str:
    return money(value, getattr(settings, "TAILOR_CURRENCY", "EUR"))


@register.filter
def pct(value, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f} %"


@register.filter
def signed_pct(value) -> str:
    if value is None:
        return "—"
    return f"{value * 100:+.1f} %"


@register.filter
def figure(value, kind: str) -> str:
    if value is None:
        return "—"
    if kind == "rate":
        return pct(value, 2)
    if kind == "money":
        return _money(value)
    return f"{int(value):,}"


@register.filter
def column(row, name: str) -> str:
    from insights.tables import cell

    value = cell(row, name)
    if value is None:
        return "—"
    if name in {"ctr", "conversion_rate", "coverage"}:
        return pct(value)
    if name in {"revenue", "revenue_per_visitor"}:
        return _money(value)
    return f"{value:,}" if isinstance(value, int) else str(value)


@register.filter
def pair(first, second) -> list:
    return [x for x in (first, second) if x is not None]

"""Template filters for numbers as people read them: `{% load tailor_format %}`.

`{{ item|price }}`, `{{ run.duration_seconds|duration }}`, `{{ n|thousands }}`,
`{{ n|counted:"treatment" }}` ("1 treatment", "2 treatments"), `{{ tag.name|tag_label }}`.
"""

from django import template
from django.conf import settings

from config import formatting

register = template.Library()


@register.filter
def price(item) -> str:
    """An item's price with two decimals and its currency, or "" when it has none."""
    return formatting.item_price(
        getattr(item, "metadata", None), getattr(settings, "TAILOR_CURRENCY", "EUR")
    )


@register.filter
def duration(seconds) -> str:
    return formatting.duration(seconds)


@register.filter
def thousands(value, decimals=None) -> str:
    return formatting.number(value, None if decimals is None else int(decimals))


@register.filter
def counted(amount, words: str) -> str:
    """`{{ n|counted:"treatment" }}` or `{{ n|counted:"person,people" }}`."""
    singular, _, plural_form = words.partition(",")
    return formatting.count(amount, singular, plural_form or None)


@register.filter
def tag_label(name: str) -> str:
    """A tag's name for display: first letter capitalised, the rest as written ("iPhone" stays)."""
    return formatting.label(name)


@register.filter
def money(amount) -> str:
    """An amount in the site's currency (`TAILOR_CURRENCY`) with two decimals."""
    return formatting.money(amount, getattr(settings, "TAILOR_CURRENCY", "EUR"))


@register.simple_tag
def points_interval(low, high) -> str:
    """`{% points_interval v.low v.high %}`: "-2.5 to +4.0 points", or "not enough data yet"
    when the interval reaches past ±100 points."""
    return formatting.interval_points(low, high)

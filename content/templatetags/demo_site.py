"""`{% load demo_site %}`: what the demo website's layout needs besides Tailor's own tags."""

from django import template

from content.cache import content_version
from content.models import Tag

register = template.Library()
_sections: tuple[int, list[Tag]] | None = None


@register.simple_tag
def site_sections() -> list[Tag]:
    """The top-level tags, for the site's navigation; kept per process until content changes."""
    global _sections
    version = content_version()
    if _sections is None or _sections[0] != version:
        _sections = (version, list(Tag.objects.filter(parent__isnull=True).order_by("name")))
    return _sections[1]

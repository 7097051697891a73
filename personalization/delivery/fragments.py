"""An item's HTML rendered once per process and content version, not once per page.

A card or block shows an item the same way to everyone: its template sees only `item` and
what the caller passes by name (the slot, a rail, a tracked link), never the request, the
user or the visitor. So its HTML is kept in the process and reused by every page until the
content changes (`content.cache.content_version`, which any save of content, kinds or tags
bumps and every process sees within a second). The item's own `updated_at` is part of the
key too: a page may hold an item read before a save that the version has not shown yet.

A tracked link is different for each visitor: the template is rendered with a placeholder in
its place, and each page puts its own link, escaped, where the placeholder is. A template
reloaded while the server runs (`DEBUG`) is a new compiled template, hence a new key (the
engine's cached loader gives the same one otherwise).

Memory: at most `LIMIT` renderings per process; past it the oldest go first.
"""

from collections.abc import Sequence
from typing import Any

from django.template.loader import select_template
from django.utils import timezone, translation
from django.utils.html import escape

from content.cache import content_version
from content.models import ContentItem

LIMIT = 4096
# The place of the link in a rendering: NUL is never escaped, so it comes out as it went in.
_LINK = "\x00tailor-link\x00"


class FragmentMemo:
    """Renderings of items by template, for the current content version."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._version: int | None = None
        self._entries: dict[tuple[Any, ...], str] = {}

    def render(
        self, template_names: Sequence[str], item: ContentItem, *, link: str = "", **data: Any
    ) -> str:
        """`item` rendered with the first of `template_names` that exists, given `data`."""
        version = content_version()
        if version != self._version:
            self._entries.clear()
            self._version = version
        template = select_template(template_names)
        key = (
            getattr(template, "template", template), item.pk, item.updated_at, bool(link),
            tuple(sorted(data.items())), translation.get_language(),
            timezone.get_current_timezone_name(),
        )  # fmt: skip
        html = self._entries.get(key)
        if html is None:
            html = template.render({"item": item, "link": _LINK if link else "", **data})
            while len(self._entries) >= self.limit:
                del self._entries[next(iter(self._entries))]
            self._entries[key] = html
        return html.replace(_LINK, escape(link)) if link else html


item_render = FragmentMemo().render

"""Items chosen for a page, rendered with their kinds' block templates (slots and rails).

A block template gets `item` and, when the rendering tracks clicks (the decide API), `link`:
the item's signed `/t/` link, which its anchors use instead of the item's own URLs.
"""

import logging
from collections.abc import Iterator, Mapping

from django.template.loader import select_template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from content.models import ContentItem
from personalization.decisions.engine import Decision
from personalization.decisions.request import request_state

logger = logging.getLogger(__name__)


class ItemsRendering:
    """Items chosen for a page: render as HTML blocks, or iterate over them with `as`."""

    css_class = "tailor-items"

    def __init__(
        self,
        items: list[ContentItem],
        request,
        *,
        links: Mapping[int, str] | None = None,
        **data: str,
    ) -> None:
        self.items = items
        self.request = request
        self.links = links or {}  # item id → tracked link
        self.data = data

    def __iter__(self) -> Iterator[ContentItem]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __html__(self) -> str:
        parts = []
        for item in self.items:
            try:
                block = select_template(item.kind.template_names)
                context = {"item": item, "link": self.links.get(item.pk, ""), **self.data}
                parts.append(block.render(context, self.request))
            except Exception:  # the page edge: one broken block must not break the page
                logger.exception("Could not render item %s (%s)", item.pk, self.data)
        attributes = format_html_join(" ", 'data-{}="{}"', self.data.items())
        return format_html(
            '<div class="{}" {}>{}</div>',
            self.css_class,
            attributes,
            mark_safe("".join(parts)),  # noqa: S308
        )

    __str__ = __html__


class SlotRendering(ItemsRendering):
    """A slot's decision: renders as HTML, and iterates over its items with `as`."""

    css_class = "tailor-slot"

    def __init__(
        self, decision: Decision, request, *, links: Mapping[int, str] | None = None
    ) -> None:
        super().__init__(
            decision.items, request, links=links, slot=decision.slot, reason=decision.reason
        )
        self.decision = decision

    def _expose(self) -> None:
        # An experiment's exposure counts when its variation is rendered, not when assigned.
        if self.request is not None and self.decision.exposures:
            request_state(self.request).note(self.decision.source, self.decision.exposures)

    def __iter__(self) -> Iterator[ContentItem]:
        self._expose()
        return super().__iter__()

    def __html__(self) -> str:
        self._expose()
        return super().__html__()

    __str__ = __html__

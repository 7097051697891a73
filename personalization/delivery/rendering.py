"""Items chosen for a page, rendered with their kinds' block templates (slots and rails).

A block template gets `item`, the names the rendering was given (`slot` and `reason`, or
`rail`) and, when the rendering tracks clicks (the decide API), `link`: the item's signed `/t/`
link, which its anchors use instead of the item's own URLs. It never sees the request: each
item's HTML is rendered once per process and content version (`fragments`).
"""

import logging
from collections.abc import Iterator, Mapping

from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from content.models import ContentItem
from personalization.decisions.engine import Decision
from personalization.decisions.request import request_state
from personalization.delivery.fragments import item_render

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
                link = self.links.get(item.pk, "")
                parts.append(item_render(item.kind.template_names, item, link=link, **self.data))
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

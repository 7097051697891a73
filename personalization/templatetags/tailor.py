"""Tailor's template library: `{% load tailor %}`.

`{% slot "homepage-hero" %}` renders the slot's items with their block templates;
`{% slot "homepage-hero" as items %}` gives the items to loop over instead;
`{% if_segment "vip" %}…{% else %}…{% endif_segment %}` shows a part to a segment only.
None of them ever breaks a page: on any error the slot's default content shows.
"""

import logging
from collections.abc import Iterator

from django import template
from django.template.loader import select_template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from content.html import sanitize_html
from content.models import ContentItem
from personalization.decisions import Decision
from personalization.request import request_decide, request_in_segment

logger = logging.getLogger(__name__)
register = template.Library()


@register.filter
def sanitized(html: str) -> SafeString:
    """Render stored HTML safely: it is sanitized again on the way out, whatever wrote it."""
    return mark_safe(sanitize_html(html or ""))  # noqa: S308 - nh3 has just removed unsafe markup


class SlotRendering:
    """A slot's decision: renders as HTML, and iterates over its items with `as`."""

    def __init__(self, decision: Decision, request) -> None:
        self.decision = decision
        self.request = request

    def __iter__(self) -> Iterator[ContentItem]:
        return iter(self.decision.items)

    def __len__(self) -> int:
        return len(self.decision.items)

    def __html__(self) -> str:
        parts = []
        for item in self.decision.items:
            try:
                block = select_template(item.kind.template_names)
                parts.append(block.render({"item": item, "slot": self.decision.slot}, self.request))
            except Exception:  # the page edge: one broken block must not break the page
                logger.exception("Could not render item %s in slot %r", item.pk, self.decision.slot)
        return format_html(
            '<div class="tailor-slot" data-slot="{}" data-reason="{}">{}</div>',
            self.decision.slot, self.decision.reason, mark_safe("".join(parts)),  # noqa: S308
        )  # fmt: skip

    __str__ = __html__


@register.simple_tag(takes_context=True)
def slot(context, key: str) -> SlotRendering:
    """The slot's personalized items for this request (default content on any failure)."""
    return SlotRendering(request_decide(context.get("request"), key), context.get("request"))


class IfSegmentNode(template.Node):
    def __init__(self, key, inside: template.NodeList, otherwise: template.NodeList) -> None:
        self.key, self.inside, self.otherwise = key, inside, otherwise

    def render(self, context) -> str:
        request = context.get("request")
        matched = request is not None and request_in_segment(request, self.key.resolve(context))
        return (self.inside if matched else self.otherwise).render(context)


@register.tag("if_segment")
def if_segment(parser, token) -> IfSegmentNode:
    """`{% if_segment "key" %}…{% else %}…{% endif_segment %}`."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("if_segment takes one argument: the segment key")
    inside = parser.parse(("else", "endif_segment"))
    otherwise = template.NodeList()
    if parser.next_token().contents == "else":
        otherwise = parser.parse(("endif_segment",))
        parser.delete_first_token()
    return IfSegmentNode(parser.compile_filter(bits[1]), inside, otherwise)

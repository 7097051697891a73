"""Tailor's template library: `{% load tailor %}`.

`{% slot "homepage-hero" %}` renders the slot's items with their block templates;
`{% slot "homepage-hero" as items %}` gives the items to loop over instead;
`{% recommendations limit=6 kinds="product" as recs %}` and `{% similar_items item limit=4 %}`
give rails; `{% last_viewed as item %}` the item the visitor viewed last;
`{% if_segment "vip" %}…{% else %}…{% endif_segment %}` shows a part to a segment only;
`{% tailor_toolbar %}` is the developer toolbar (only with DEBUG on).
None of them ever breaks a page: on any error the slot's default content shows.
"""

import logging
from collections.abc import Iterator

from django import template
from django.conf import settings
from django.template.loader import render_to_string, select_template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from content.html import sanitize_html
from content.models import ContentItem
from experiments.hooks import exposures_note, request_in_holdout, template_variation
from personalization.decisions.engine import Decision
from personalization.decisions.request import request_attributes, request_decide, request_in_segment
from personalization.delivery.devtools import toolbar_context
from personalization.recommendations import related
from personalization.recommendations.serving import recommended_items
from personalization.visitors.selectors import visitor_last_viewed_item

logger = logging.getLogger(__name__)
register = template.Library()


@register.filter
def sanitized(html: str) -> SafeString:
    """Render stored HTML safely: it is sanitized again on the way out, whatever wrote it."""
    return mark_safe(sanitize_html(html or ""))  # noqa: S308 - nh3 has just removed unsafe markup


class ItemsRendering:
    """Items chosen for a page: render as HTML blocks, or iterate over them with `as`."""

    css_class = "tailor-items"

    def __init__(self, items: list[ContentItem], request, **data: str) -> None:
        self.items = items
        self.request = request
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
                parts.append(block.render({"item": item, **self.data}, self.request))
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

    def __init__(self, decision: Decision, request) -> None:
        super().__init__(decision.items, request, slot=decision.slot, reason=decision.reason)
        self.decision = decision

    def _expose(self) -> None:
        # An experiment's exposure counts when its variation is rendered, not when assigned.
        exposures_note(self.request, self.decision.exposures)

    def __iter__(self) -> Iterator[ContentItem]:
        self._expose()
        return super().__iter__()

    def __html__(self) -> str:
        self._expose()
        return super().__html__()

    __str__ = __html__


@register.simple_tag(takes_context=True)
def slot(context, key: str) -> SlotRendering:
    """The slot's personalized items for this request (default content on any failure)."""
    return SlotRendering(request_decide(context.get("request"), key), context.get("request"))


@register.simple_tag(takes_context=True)
def recommendations(context, limit: int = 6, kinds: str = "") -> ItemsRendering:
    """`{% recommendations limit=6 kinds="product" as recs %}`: items for this visitor.

    Nothing without a visitor who allows personalization, and nothing on any error.
    """
    request = context.get("request")
    items: list[ContentItem] = []
    try:
        attributes = request_attributes(request) if request is not None else None
        if attributes is not None and not request_in_holdout(request):
            items = recommended_items(
                visitor=request.visitor, affinity=attributes.get("affinity") or {},
                kinds=[k.strip() for k in kinds.split(",") if k.strip()],
            )[: int(limit)]  # fmt: skip
    except Exception:  # the page edge: no recommendations rather than a broken page
        logger.exception("Could not recommend for this request")
    return ItemsRendering(items, request, rail="recommendations")


@register.simple_tag(takes_context=True)
def similar_items(context, item: ContentItem, limit: int = 4) -> ItemsRendering:
    """`{% similar_items item limit=4 %}`: published items sharing the most tags with `item`."""
    request = context.get("request")
    try:
        similar = [scored.item for scored in related.similar_items(item=item, k=int(limit))]
    except Exception:  # the page edge
        logger.exception("Could not find items similar to %s", getattr(item, "pk", item))
        similar = []
    return ItemsRendering(similar, request, rail="similar")


class IfSegmentNode(template.Node):
    def __init__(self, key, inside: template.NodeList, otherwise: template.NodeList) -> None:
        self.key, self.inside, self.otherwise = key, inside, otherwise

    def render(self, context) -> str:
        request = context.get("request")
        matched = (
            request is not None
            and request_in_segment(request, self.key.resolve(context))
            and not request_in_holdout(request)  # the holdout sees what everyone else sees
        )
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


@register.simple_tag(takes_context=True)
def last_viewed(context) -> ContentItem | None:
    """`{% last_viewed as item %}`: the published item the visitor viewed last, if they allow it."""
    request = context.get("request")
    try:
        if request is None or request_attributes(request) is None:
            return None
        return visitor_last_viewed_item(request.visitor)
    except Exception:  # the page edge: no "because you viewed" rather than a broken page
        logger.exception("Could not find the last viewed item")
        return None


@register.simple_tag(takes_context=True)
def tailor_toolbar(context) -> str:
    """With DEBUG on: view the site as a demo visitor, and why each slot chose what it chose."""
    request = context.get("request")
    if not settings.DEBUG or request is None:
        return ""
    return render_to_string("tailor/toolbar.html", toolbar_context(request), request)


@register.simple_tag(takes_context=True)
def experiment(context, key: str) -> str | None:
    """`{% experiment "key" as variation %}`: the visitor's variation key in a template.

    The control's key when the visitor is not in the experiment (no consent, targeting,
    coverage, not running) and on any error; None for an experiment that does not exist.
    The exposure is recorded when the tag renders.
    """
    request = context.get("request")
    try:
        return template_variation(request, str(key))
    except Exception:  # the page edge: the control rather than a broken page
        logger.exception("Could not assign experiment %r", key)
        try:
            from experiments.assignment import running_experiments

            return running_experiments().control_keys.get(str(key))
        except Exception:
            logger.exception("Could not find the control of experiment %r", key)
            return None

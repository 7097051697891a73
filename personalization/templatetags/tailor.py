"""Tailor's template library: `{% load tailor %}`.

`{% slot "homepage-hero" %}` renders the slot's items with their block templates;
`{% slot "homepage-hero" as items %}` gives the items to loop over instead;
`{% recommendations limit=6 kinds="product" as recs %}` and `{% similar_items item limit=4 %}`
give rails; `{% last_viewed as item %}` the item the visitor viewed last;
`{% if_segment "vip" %}…{% else %}…{% endif_segment %}` shows a part to a segment only;
`{% experiment "key" as variation %}` the visitor's variation of a template test;
`{% render_item item "site/card.html" %}` renders an item once per content version, for every page;
`{% tailor_toolbar %}` is the preview toolbar (only for staff who may preview).
None of them ever breaks a page: on any error the slot's default content shows.
"""

import functools
import logging
from collections.abc import Callable
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

from content.html import sanitize_html
from content.models import ContentItem
from personalization.decisions import registry as decisions_registry
from personalization.decisions.engine import decide
from personalization.decisions.request import RequestState, request_state
from personalization.delivery.fragments import item_render
from personalization.delivery.preview import may_preview, toolbar_context
from personalization.delivery.rendering import ItemsRendering, SlotRendering
from personalization.recommendations import related
from personalization.recommendations.serving import recommended_items
from personalization.visitors.selectors import visitor_last_viewed_item

logger = logging.getLogger(__name__)
register = template.Library()


@register.filter
def sanitized(html: str) -> SafeString:
    """Render stored HTML safely: it is sanitized again on the way out, whatever wrote it."""
    return mark_safe(sanitize_html(html or ""))  # noqa: S308 - nh3 has just removed unsafe markup


def page_edge(fallback: Callable[..., Any]):
    """The one catching edge of a tag: on any failure, log it with the visitor and render
    `fallback(context, *args)` instead, so that personalization never breaks a page."""

    def wrap(tag: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(tag)
        def guarded(context, *args: Any, **kwargs: Any) -> Any:
            try:
                return tag(context, *args, **kwargs)
            except Exception:  # the page edge
                visitor = getattr(context.get("request"), "visitor", None)
                logger.exception(
                    "{%% %s %%} failed for visitor %s with %r", tag.__name__,
                    getattr(visitor, "pk", None), args,
                )  # fmt: skip
                return fallback(context, *args, **kwargs)

        return guarded

    return wrap


def _state(context) -> RequestState | None:
    request = context.get("request")
    return request_state(request) if request is not None else None


@register.simple_tag(takes_context=True)
def slot(context, key: str) -> SlotRendering:
    """The slot's personalized items for this request (default content on any failure)."""
    state = _state(context)
    decision = state.decide(key) if state is not None else decide(key, None)
    return SlotRendering(decision, context.get("request"))


def _no_items(rail: str) -> Callable[..., ItemsRendering]:
    return lambda context, *args, **kwargs: ItemsRendering([], context.get("request"), rail=rail)


@register.simple_tag(takes_context=True)
@page_edge(_no_items("recommendations"))
def recommendations(context, limit: int = 6, kinds: str = "") -> ItemsRendering:
    """`{% recommendations limit=6 kinds="product" as recs %}`: items for this visitor.

    Nothing without a visitor who allows personalization, and nothing on any error.
    """
    state = _state(context)
    items: list[ContentItem] = []
    if state is not None and state.attributes is not None and not state.in_holdout():
        items = recommended_items(
            visitor=state.visitor, affinity=state.attributes.get("affinity") or {},
            kinds=[k.strip() for k in kinds.split(",") if k.strip()],
        )[: int(limit)]  # fmt: skip
    return ItemsRendering(items, context.get("request"), rail="recommendations")


@register.simple_tag(takes_context=True)
@page_edge(_no_items("similar"))
def similar_items(context, item: ContentItem, limit: int = 4) -> ItemsRendering:
    """`{% similar_items item limit=4 %}`: published items sharing the most tags with `item`."""
    similar = [scored.item for scored in related.similar_items(item=item, k=int(limit))]
    return ItemsRendering(similar, context.get("request"), rail="similar")


class IfSegmentNode(template.Node):
    def __init__(self, key, inside: template.NodeList, otherwise: template.NodeList) -> None:
        self.key, self.inside, self.otherwise = key, inside, otherwise

    def render(self, context) -> str:
        matched = _shown_to_segment(context, self.key.resolve(context))
        return (self.inside if matched else self.otherwise).render(context)


@page_edge(lambda context, key: False)
def _shown_to_segment(context, key: str) -> bool:
    state = _state(context)
    return (
        state is not None
        and state.in_segment(key)
        and not state.in_holdout()  # the holdout sees what everyone else sees
    )


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
@page_edge(lambda context, item, template_name, **data: "")
def render_item(context, item: ContentItem, template_name: str, **data: str) -> SafeString:
    """`{% render_item item "site/card.html" %}`: the item as the template shows it.

    The template sees `item` and the names given (`{% render_item item "card.html" rail="x" %}`),
    never the request: its HTML is rendered once per process and content version and shared by
    every page (`fragments`). Nothing on any error.
    """
    return mark_safe(item_render([template_name], item, **data))  # noqa: S308 - a template's output


@register.simple_tag(takes_context=True)
@page_edge(lambda context: None)
def last_viewed(context) -> ContentItem | None:
    """`{% last_viewed as item %}`: the published item the visitor viewed last, if they allow it."""
    state = _state(context)
    if state is None or state.attributes is None:
        return None
    return visitor_last_viewed_item(state.visitor)


@register.simple_tag(takes_context=True)
@page_edge(lambda context: "")
def tailor_toolbar(context) -> str:
    """For staff who may preview: what the page is previewed as, and why each slot chose."""
    request = context.get("request")
    if request is None or not may_preview(getattr(request, "user", None)):
        return ""
    return render_to_string("tailor/toolbar.html", toolbar_context(request), request)


def _control(context, key: str) -> str | None:
    try:
        return decisions_registry.control_key(str(key))
    except Exception:  # the page edge, second line: no variation rather than a broken page
        logger.exception("Could not find the control of %r", key)
        return None


@register.simple_tag(takes_context=True)
@page_edge(_control)
def experiment(context, key: str) -> str | None:
    """`{% experiment "key" as variation %}`: the visitor's variation key in a template.

    The control's key when the visitor is not in the test (no consent, targeting, coverage,
    not running) and on any error; None for a test that does not exist. The exposure is
    recorded when the tag renders.
    """
    state = _state(context)
    return state.variation(str(key)) if state is not None else _control(context, key)

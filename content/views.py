"""The demo website's content pages: one item with similar items, and one tag's items."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from content.models import Tag
from content.selectors import items_published, items_with_tags, tag_subtree

PAGE_SIZE = 24


@require_safe
def item_page(request: HttpRequest, slug: str) -> HttpResponse:
    """A published item; the page view is stored against it (for visitors who allow analytics)."""
    item = get_object_or_404(items_published().prefetch_related("tags"), slug=slug)
    state = getattr(request, "tailor", None)  # personalization's, when its middleware runs
    if state is not None:
        state.item = item  # the page view names the item it shows
    return render(request, "site/item.html", {"item": item, "tags": list(item.tags.all())})


@require_safe
def tag_page(request: HttpRequest, slug: str) -> HttpResponse:
    """Published items tagged with the tag or a tag below it, by priority, a page at a time."""
    tag = get_object_or_404(Tag, slug=slug)
    items = items_with_tags(items_published(), [tag]).order_by("-priority", "title", "pk")
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    children = tag_subtree([tag]).exclude(pk=tag.pk).filter(parent=tag)
    return render(
        request,
        "site/tag.html",
        {"tag": tag, "page": page, "children": list(children), "ancestors": _ancestors(tag)},
    )


def _ancestors(tag: Tag) -> list[Tag]:
    slugs = tag.path.split("/")[:-1]
    found = {t.slug: t for t in Tag.objects.filter(slug__in=slugs)}
    return [found[s] for s in slugs if s in found]

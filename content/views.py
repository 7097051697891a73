"""The demo website's content pages: one item with similar items, and one tag's items."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from content.models import ContentKind, Tag
from content.selectors import items_published, items_with_tags, tag_subtree

PAGE_SIZE = 24
# Kinds that are pages of their own and so belong on a tag page; banners and email blocks are
# pieces of other pages and emails, shown through slots.
PAGE_KINDS = ("product", "article", "offer", "video")


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
    """Published items tagged with the tag or a tag below it, by priority, a page at a time.

    Only kinds that are pages (`PAGE_KINDS`); `?kind=product` narrows to one of them.
    """
    tag = get_object_or_404(Tag, slug=slug)
    items = items_with_tags(items_published(), [tag]).filter(kind__key__in=PAGE_KINDS)
    kinds = list(ContentKind.objects.filter(items__in=items).distinct().order_by("name"))
    chosen = next((k for k in kinds if k.key == request.GET.get("kind")), None)
    if chosen is not None:
        items = items.filter(kind=chosen)
    items = items.select_related("kind").order_by("-priority", "title", "pk")
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    children = tag_subtree([tag]).exclude(pk=tag.pk).filter(parent=tag)
    context = {
        "tag": tag, "page": page, "children": list(children), "ancestors": _ancestors(tag),
        "kinds": kinds if len(kinds) > 1 else [], "chosen": chosen,
    }  # fmt: skip
    return render(request, "site/tag.html", context)


def _ancestors(tag: Tag) -> list[Tag]:
    slugs = tag.path.split("/")[:-1]
    found = {t.slug: t for t in Tag.objects.filter(slug__in=slugs)}
    return [found[s] for s in slugs if s in found]

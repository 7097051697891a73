"""Reads of content that other apps use: what is live now, and by tag subtree."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from content.cache import content_version
from content.models import ContentItem, Tag

# Published items by pk, as this process last read them at one content version.
_published: dict[str, Any] = {"version": None, "items": {}}
PUBLISHED_REMEMBERED = 10_000
# When the next published item's window opens, as this process last read it.
_opening: dict[str, Any] = {"version": None, "at": None}


def live_q(now: datetime | None = None, prefix: str = "") -> Q:
    """The condition for items that are published and inside their publish window at `now`."""
    now = now or timezone.now()
    return (
        Q(**{f"{prefix}status": ContentItem.Status.PUBLISHED})
        & (Q(**{f"{prefix}publish_at__isnull": True}) | Q(**{f"{prefix}publish_at__lte": now}))
        & (Q(**{f"{prefix}expire_at__isnull": True}) | Q(**{f"{prefix}expire_at__gt": now}))
    )


def items_published(
    *, now: datetime | None = None, locale: str | None = None
) -> QuerySet[ContentItem]:
    """Items live now; with a locale, those in it, in its language, or in every locale."""
    items = ContentItem.objects.filter(live_q(now)).select_related("kind")
    if locale:
        language = locale.split("-")[0].lower()
        items = items.filter(Q(locale="") | Q(locale__iexact=locale) | Q(locale__iexact=language))
    return items


def item_live(pk: int, now: datetime | None = None) -> ContentItem | None:
    """The item `pk` (with its kind) if it is live now, else None.

    For pages that name one item per visitor ("because you viewed"): this process keeps the
    published items it has read until content changes (`content.cache`), and checks the
    publishing window at every call, so a page costs no query for an item read before.
    """
    version = content_version()
    items = _published["items"]
    if _published["version"] != version or len(items) >= PUBLISHED_REMEMBERED:
        items = _published["items"] = {}
        _published["version"] = version
    if pk not in items:
        items[pk] = (
            ContentItem.objects.filter(pk=pk, status=ContentItem.Status.PUBLISHED)
            .select_related("kind")
            .first()
        )
    item = items[pk]
    return item if item is not None and item.is_live(now) else None


def next_window_opening(now: datetime | None = None) -> datetime | None:
    """When the publishing window of the next published item opens (None: none is scheduled).

    What is live changes at that moment without any write, so copies of live items that a
    process keeps are good until then (expiries are checked item by item). One query per
    content version and per opening passed.
    """
    now = now or timezone.now()
    version = content_version()
    at = _opening["at"]
    if _opening["version"] != version or (at is not None and at <= now):
        at = _opening["at"] = ContentItem.objects.filter(
            status=ContentItem.Status.PUBLISHED, publish_at__gt=now
        ).aggregate(first=Min("publish_at"))["first"]
        _opening["version"] = version
    return at


def tag_subtree(tags: Iterable[Tag | str]) -> QuerySet[Tag]:
    """The tags given (objects or slugs) and all their descendants."""
    slugs = [t.slug if isinstance(t, Tag) else t for t in tags]
    roots = list(Tag.objects.filter(slug__in=slugs).values_list("path", flat=True))
    if not roots:
        return Tag.objects.none()
    condition = Q()
    for path in roots:
        condition |= Q(path=path) | Q(path__startswith=f"{path}/")
    return Tag.objects.filter(condition)


def items_with_tags(
    items: QuerySet[ContentItem], tags: Iterable[Tag | str]
) -> QuerySet[ContentItem]:
    """Items tagged with any of the tags or any tag below them in the tree."""
    tagged = ContentItem.tags.through.objects.filter(tag__in=tag_subtree(tags))
    return items.filter(pk__in=tagged.values("contentitem_id"))

"""Reads of content that other apps use: what is live now, and by tag subtree."""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from content.models import ContentItem, Tag


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

"""The items a newest-tagged rule chooses from, read once per process while they stay the same.

A newest-tagged rule shows the newest live items carrying its tags (or tags below them). Which
items those are changes only when content changes (`content.cache.content_version`) or when a
tagged item's publish window opens or closes. So the list is read once and kept with the span
of time it holds for: from the last such moment at or before the time it was read for, to the
first one after. A decision for a time inside that span costs no query, whoever the visitor:
a page, or every recipient of an email batch. Reading it again costs two queries (the
window's edges, the items).

Memory: one list of at most `CANDIDATE_LIMIT` items per tag set of newest-tagged rules, for
at most `REMEMBERED` tag sets (a site has a few such rules; past that, lists are read again).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, Min, Q

from content.cache import content_version
from content.models import ContentItem
from content.selectors import items_published, items_with_tags
from personalization.recommendations.serving import CANDIDATE_LIMIT

REMEMBERED = 128  # lists kept per process; past that, every list is read again


@dataclass(frozen=True)
class _Candidates:
    version: int
    since: datetime | None  # the list holds from this moment (None: since ever)…
    until: datetime | None  # …until this one (None: until content changes)
    items: tuple[ContentItem, ...]

    def holds(self, version: int, now: datetime) -> bool:
        return (
            self.version == version
            and (self.since is None or self.since <= now)
            and (self.until is None or now < self.until)
        )


_remembered: dict[tuple[str, ...], _Candidates] = {}


def _span(tag_slugs: tuple[str, ...], now: datetime) -> tuple[datetime | None, datetime | None]:
    """The moments around `now` at which a published item with the tags goes live or expires."""
    tagged = items_with_tags(
        ContentItem.objects.filter(status=ContentItem.Status.PUBLISHED), tag_slugs
    )
    edges = tagged.aggregate(
        opened=Max("publish_at", filter=Q(publish_at__lte=now)),
        closed=Max("expire_at", filter=Q(expire_at__lte=now)),
        opens=Min("publish_at", filter=Q(publish_at__gt=now)),
        closes=Min("expire_at", filter=Q(expire_at__gt=now)),
    )
    before = [edges[key] for key in ("opened", "closed") if edges[key] is not None]
    after = [edges[key] for key in ("opens", "closes") if edges[key] is not None]
    return (max(before) if before else None), (min(after) if after else None)


def newest_tagged(tag_slugs: tuple[str, ...], now: datetime) -> tuple[ContentItem, ...]:
    """The newest items live at `now` with any of the tags or a tag below them, newest first
    (at most `CANDIDATE_LIMIT`, with their kinds)."""
    version = content_version()
    key = tuple(sorted(tag_slugs))
    found = _remembered.get(key)
    if found is not None and found.holds(version, now):
        return found.items
    since, until = _span(key, now)
    items = tuple(
        items_with_tags(items_published(now=now), key).order_by("-publish_at", "-created_at")[
            :CANDIDATE_LIMIT
        ]
    )
    if len(_remembered) >= REMEMBERED:
        _remembered.clear()
    _remembered[key] = _Candidates(version, since, until, items)
    return items

"""Recommended items on pages and in email blocks, best first for one visitor.

The current model run's stored list comes first, then the visitor's tag affinities; a visitor
with neither (cold start) gets their segments' popular items. Candidates are cached per process
and content version, so serving costs the visitor's interactions and their stored list.
"""

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime

from django.utils import timezone

from content.cache import content_version
from content.models import ContentItem
from content.selectors import items_with_tags
from personalization.recommendations.selectors import (
    stored_candidates,
    stored_ranks,
    visitor_cold_start_ranks,
)
from personalization.visitors.models import Visitor
from personalization.visitors.selectors import visitor_interactions

logger = logging.getLogger(__name__)

# How many candidates a strategy that queries (newest, recommendations) considers.
CANDIDATE_LIMIT = 200


# Candidates shared by every visitor: (kinds, tags) → the content version they were loaded at
# and the items with their tag slugs. Publishing windows are checked at use.
_candidates: dict[tuple[frozenset[str], frozenset[str]], tuple[int, list]] = {}
CANDIDATE_POOL = 1000


def _candidate_pool(kinds: frozenset[str], tag_slugs: frozenset[str]) -> list:
    version = content_version()
    cached = _candidates.get((kinds, tag_slugs))
    if cached is not None and cached[0] == version:
        return cached[1]
    items = ContentItem.objects.filter(status=ContentItem.Status.PUBLISHED).select_related("kind")
    if kinds:
        items = items.filter(kind__key__in=kinds)
    if tag_slugs:
        items = items_with_tags(items, tag_slugs)
    pool = [
        (item, frozenset(t.slug for t in item.tags.all()))
        for item in items.prefetch_related("tags").order_by("-priority", "-pk")[:CANDIDATE_POOL]
    ]
    _candidates[(kinds, tag_slugs)] = (version, pool)
    return pool


def recommended_items(
    *,
    visitor: Visitor,
    affinity: Mapping[str, float],
    kinds: Iterable[str] = (),
    tag_slugs: Iterable[str] = (),
    now: datetime | None = None,
    limit: int = CANDIDATE_LIMIT,
) -> list[ContentItem]:
    """Published items of the kinds and tags the visitor has not interacted with, best first.

    The current model run's list comes first; then the visitor's affinity to each item's tags;
    for a visitor with neither, the cold-start ranking (`visitor_cold_start_ranks`: two more
    queries); then priority. The candidates are cached per process and content version, so a
    call costs two queries: the items the visitor interacted with (shared with the page's other
    readers of them), the list.
    """
    now = now or timezone.now()
    seen = visitor_interactions(visitor).seen
    pool = _candidate_pool(frozenset(kinds), frozenset(tag_slugs))
    stored = stored_ranks(visitor.pk) if visitor is not None and visitor.pk else {}
    popular = visitor_cold_start_ranks(visitor=visitor, stored=stored, affinity=affinity)
    unranked, unpopular = (len(stored) + 1,), len(popular) + 1
    pooled = {item.pk for item, _ in pool}
    if stored.keys() - pooled:  # listed items beyond the shared pool (large catalogues)
        pool = pool + stored_candidates(stored.keys() - pooled, kinds, tag_slugs)
    ranked = sorted(
        ((item, tags) for item, tags in pool if item.pk not in seen and item.is_live(now)),
        key=lambda pair: (
            stored.get(pair[0].pk, unranked)[0],
            -sum(affinity.get(t, 0.0) for t in pair[1]),
            popular.get(pair[0].pk, unpopular),
            -pair[0].priority,
        ),
    )
    return [item for item, _ in ranked[:limit]]

"""Recommendations and similar items: the current model run's lists first, then these fallbacks.

Visitors and items with stored lists from the current model run (`compute_recommendations`)
get those, filtered at serve time (published now, not interacted with since, the rule's kinds
and tags; frequency caps in `decide`), reported as "hybrid". Visitors without a list and
without tag affinities get the cold-start ranking (`visitor_cold_start_ranks`: their segments'
popular items, then the most popular ones, from the current run), as "popularity". The rest get:

* `recommendations_for` ("affinity"): the decision engine's candidates (`recommended_items`
  in `personalization.recommendations.serving`): published items the visitor has not
  interacted with, ranked by the visitor's time-decayed affinity to each item's tags, then
  priority. Two queries for the candidates, one for the features, consent from its cache.
* `similar_items` ("tag_overlap"): published items sharing the most of the item's tags, a tag
  counting as shared when the other item has it or a tag below it in the taxonomy; then items
  of the same kind; ties by priority. Five or six queries; memory grows with the items that share a
  tag with this one.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from consent.purposes import PERSONALIZATION
from consent.selectors import allows
from content.cache import content_version
from content.models import ContentItem
from content.selectors import items_published, live_q, next_window_opening, tag_subtree
from personalization.features.models import VisitorFeatures
from personalization.recommendations.algorithms.hybrid import HYBRID
from personalization.recommendations.selectors import (
    POPULARITY,
    RECOMMENDATIONS_VERSION,
    stored_ranks,
    stored_similar,
    visitor_cold_start_ranks,
)
from personalization.recommendations.serving import recommended_items
from personalization.visitors.models import Visitor

AFFINITY = "affinity"
TAG_OVERLAP = "tag_overlap"
NO_PERSONALIZATION = "no personalization consent: no recommendations"


@dataclass(frozen=True)
class Scored:
    """An item and how well it fits: affinity (0 and up) or tags shared."""

    item: ContentItem
    score: float
    algorithm: str = AFFINITY


def recommendations_for(
    *, visitor: Visitor, k: int, now: datetime | None = None
) -> tuple[list[Scored], str]:
    """The visitor's top `k` items by tag affinity, and a note when none may be given."""
    if not allows(visitor, PERSONALIZATION):
        return [], NO_PERSONALIZATION
    features = VisitorFeatures.objects.filter(visitor=visitor).first()
    affinity = dict(features.tag_affinities or {}) if features is not None else {}
    items = recommended_items(visitor=visitor, affinity=affinity, now=now or timezone.now())
    stored = stored_ranks(visitor.pk)  # the current model run's list, ranked first above
    popular = visitor_cold_start_ranks(visitor=visitor, stored=stored, affinity=affinity)
    return [_scored(item, stored, popular, affinity) for item in items[:k]], ""


def _scored(
    item: ContentItem,
    stored: dict[int, tuple[int, float, str]],
    popular: dict[int, int],
    affinity: dict[str, float],
) -> Scored:
    """An item's score by what ranked it: the stored list, the cold start, or tag affinity."""
    if item.pk in stored:
        return Scored(item, round(stored[item.pk][1], 6), stored[item.pk][2])
    if popular:
        if item.pk in popular:
            return Scored(item, round(1 / popular[item.pk], 6), POPULARITY)
        return Scored(item, 0.0)
    return Scored(item, round(sum(affinity.get(tag.slug, 0.0) for tag in item.tags.all()), 6))


# (item pk, k) → (content version, recommendations version, until, items), per process.
_similar: dict[tuple[int, int], tuple[int, int, datetime, list[Scored]]] = {}
SIMILAR_SECONDS = 600.0
SIMILAR_REMEMBERED = 10_000


def similar_items(*, item: ContentItem, k: int, now: datetime | None = None) -> list[Scored]:
    """Up to `k` published items like `item`: most tags shared (subtree aware), then same kind.

    The same for every visitor, so this process remembers the answer while content and the
    current model run are unchanged, until the next publishing window opens (that item may
    belong) and for `SIMILAR_SECONDS` at most; one that is no longer live is never served.
    """
    now = now or timezone.now()
    versions = (content_version(), RECOMMENDATIONS_VERSION.current())
    cached = _similar.get((item.pk, k))
    if (
        cached is not None
        and cached[:2] == versions
        and cached[2] > now
        and all(scored.item.is_live(now) for scored in cached[3])
    ):
        return list(cached[3])
    found = _similar_items(item=item, k=k, now=now)
    if len(_similar) >= SIMILAR_REMEMBERED:
        _similar.clear()
    until = now + timedelta(seconds=SIMILAR_SECONDS)
    opening = next_window_opening(now)
    _similar[(item.pk, k)] = (*versions, min(until, opening or until), found)
    return list(found)


def _similar_items(*, item: ContentItem, k: int, now: datetime) -> list[Scored]:
    stored = stored_similar(item.pk, k=k, now=now)
    if len(stored) >= k:
        return [Scored(other, round(score, 6), HYBRID) for other, score in stored]
    own = list(item.tags.all())
    under: dict[int, set[int]] = defaultdict(set)  # a tag → the item's tags it falls under
    for tag_id, path in tag_subtree(own).values_list("id", "path") if own else ():
        for tag in own:
            if path == tag.path or path.startswith(tag.path + "/"):
                under[tag_id].add(tag.pk)
    shared: dict[int, set[int]] = defaultdict(set)
    ranks: dict[int, tuple[int, int]] = {}  # other item → (kind, priority)
    if under:
        rows = (
            ContentItem.tags.through.objects.filter(tag_id__in=list(under))
            .filter(live_q(now, prefix="contentitem__"))
            .exclude(contentitem_id=item.pk)
            .values_list(
                "contentitem_id", "tag_id", "contentitem__kind_id", "contentitem__priority"
            )
        )
        for other, tag_id, kind_id, priority in rows:
            shared[other] |= under[tag_id]
            ranks[other] = (kind_id, priority)
    best = sorted(
        shared,
        key=lambda pk: (-len(shared[pk]), ranks[pk][0] != item.kind_id, -ranks[pk][1], -pk),
    )[:k]
    if len(best) < k:
        best += list(
            items_published(now=now)
            .filter(kind_id=item.kind_id)
            .exclude(pk__in=[item.pk, *shared])
            .order_by("-priority", "-pk")
            .values_list("pk", flat=True)[: k - len(best)]
        )
    found = items_published(now=now).in_bulk(best)
    return [
        Scored(found[pk], float(len(shared.get(pk, ()))), TAG_OVERLAP) for pk in best if pk in found
    ]

"""Reads of visitors and their data."""

import uuid
from collections.abc import Collection
from dataclasses import dataclass

from django.db.models import Case, Max, When

from config.sql import CompiledQuery
from content.models import ContentItem
from content.selectors import items_published
from personalization.visitors.models import Event, Visitor

COOKIE_SALT = "tailor.visitor"


def visitor_resolve(identifier: str) -> Visitor | None:
    """The visitor named by an external id or cookie id; a merged profile gives its survivor."""
    visitor = Visitor.objects.filter(external_id=identifier).first()
    if visitor is None:
        try:
            visitor = Visitor.objects.filter(uid=uuid.UUID(identifier)).first()
        except ValueError:
            return None
    while visitor is not None and visitor.merged_into_id is not None:
        visitor = Visitor.objects.get(pk=visitor.merged_into_id)
    return visitor


def visitor_ids_merged_into(visitor_ids: Collection[int]) -> list[int]:
    """Pks of the profiles merged directly into any of these (one step: callers walk deeper)."""
    return list(Visitor.objects.filter(merged_into_id__in=visitor_ids).values_list("pk", flat=True))


@dataclass(frozen=True)
class Interactions:
    """The items a visitor has interacted with, and the one they viewed last."""

    seen: frozenset[int]
    last_viewed: int | None


INTERACTIONS_MEMO = "_tailor_interactions"
_INTERACTIONS = CompiledQuery(
    lambda visitor_id: (
        Event.objects.filter(visitor_id=visitor_id, item__isnull=False)
        .values("item_id")
        .annotate(viewed=Max(Case(When(type=Event.Type.VIEW, then="occurred_at"))))
        .values_list("item_id", "viewed")
    )
)


def visitor_interactions(visitor: Visitor) -> Interactions:
    """Items the visitor interacted with and viewed last: one grouped query per Visitor object.

    A page's recommendation rail and its "because you viewed" both ask; the Visitor object lives
    for one request, so the answer is remembered on it.
    """
    memo = visitor.__dict__.get(INTERACTIONS_MEMO)
    if memo is None:
        rows = _INTERACTIONS.rows(visitor.pk)
        seen, last_viewed, last_at = set(), None, None
        for item_id, viewed in rows:
            seen.add(item_id)
            if viewed is not None and (last_at is None or viewed > last_at):
                last_viewed, last_at = item_id, viewed
        memo = Interactions(seen=frozenset(seen), last_viewed=last_viewed)
        visitor.__dict__[INTERACTIONS_MEMO] = memo
    return memo


def visitor_last_viewed_item(visitor: Visitor) -> ContentItem | None:
    """The item the visitor viewed last, if it is still published."""
    item_id = visitor_interactions(visitor).last_viewed
    if item_id is None:
        return None
    return items_published().filter(pk=item_id).first()


def visitor_recent_events(visitor: Visitor, limit: int = 20) -> list[Event]:
    return list(
        Event.objects.filter(visitor=visitor)
        .select_related("item")
        .order_by("-occurred_at")[:limit]
    )

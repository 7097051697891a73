"""Reads of visitors and their data."""

import logging
import uuid
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Max, Q, When

from config.sql import CompiledQuery
from content.models import ContentItem
from content.selectors import item_live
from personalization.visitors.models import Event, Visitor

logger = logging.getLogger(__name__)

COOKIE_SALT = "tailor.visitor"
# Merges chain rarely and shortly; the bound caps the queries a corrupt chain can cost.
MERGE_HOPS_MAX = 100
_MERGE_FIELDS = ("pk", "merged_into_id")


def survivor_walk(pk: int, links: Mapping[int, int | None]) -> tuple[int, bool]:
    """Follow visitor `pk`'s merge chain through `links` (id → merged into, of loaded visitors).

    Returns the last id reached and whether the chain ends there: False when it goes on to a
    visitor not among `links` (erased, or not loaded). A cycle or a chain longer than
    `MERGE_HOPS_MAX` ends at the last distinct visitor on it, with a warning.
    """
    current, seen = pk, {pk}
    while (target := links[current]) is not None:
        if target in seen or len(seen) > MERGE_HOPS_MAX:
            logger.warning(
                "Visitor %s: merge chain is a cycle or longer than %s hops; using visitor %s",
                pk, MERGE_HOPS_MAX, current,
            )  # fmt: skip
            break
        if target not in links:
            return current, False
        current = target
        seen.add(target)
    return current, True


def _survivors(visitors: Iterable[Visitor], *, fields: tuple[str, ...] = ()) -> dict[int, Visitor]:
    """Each visitor's pk → its survivor, loading one level of merging per query (with `fields`)."""
    start = {visitor.pk: visitor for visitor in visitors}
    loaded = dict(start)
    pending = {v.merged_into_id for v in start.values() if v.merged_into_id} - loaded.keys()
    for _ in range(MERGE_HOPS_MAX):
        if not pending:
            break
        level = Visitor.objects.filter(pk__in=pending)
        found = {v.pk: v for v in (level.only(*fields) if fields else level)}
        loaded |= found
        pending = {v.merged_into_id for v in found.values() if v.merged_into_id} - loaded.keys()
    links = {pk: visitor.merged_into_id for pk, visitor in loaded.items()}
    survivors = {pk: survivor_walk(pk, links) for pk in start}
    return {pk: loaded[last] for pk, (last, ends) in survivors.items() if ends}


def visitors_survivors(visitor_ids: Iterable[int]) -> dict[int, int]:
    """Visitor id → the id of the profile holding its data now, following merges to the end.

    Every reader of a visitor's data must land on the same profile, so this is the one place
    that follows `merged_into`. Unmerged ids map to themselves; ids of no visitor (or of a
    chain ending at an erased one) are left out. One query for the ids, then one per level of
    merging for all of them together, at most `MERGE_HOPS_MAX`; a cycle or a longer chain
    resolves to the last distinct visitor on it and logs a warning.
    """
    ids = set(visitor_ids)
    if not ids:
        return {}
    visitors = Visitor.objects.filter(pk__in=ids).only(*_MERGE_FIELDS)
    survivors = _survivors(visitors, fields=_MERGE_FIELDS)
    return {pk: survivor.pk for pk, survivor in survivors.items()}


def visitors_survivor_profiles(visitors: Iterable[Visitor]) -> dict[int, Visitor]:
    """Each loaded visitor's pk → its survivor's full row, as `visitors_survivors` resolves it.

    For callers that hold the rows: no query when none of them was merged.
    """
    return _survivors(visitors)


def visitor_survivor(visitor: Visitor) -> Visitor | None:
    """The profile that holds `visitor`'s data now: itself unless merged; None once erased."""
    if visitor.merged_into_id is None:
        return visitor
    return _survivors([visitor]).get(visitor.pk)


COOKIE_ID_NOT_EXTERNAL = (
    "reads as a UUID, which makes it a cookie id: an external id must not look like one"
)


def cookie_id_parse(identifier: str) -> uuid.UUID | None:
    """The cookie id an identifier names, when it reads as a UUID; None for an external id.

    The one rule that keeps the two kinds of id apart: whatever `uuid.UUID` reads (with or
    without hyphens or braces, any case) is a cookie id, looked up by `uid` only, and is never
    accepted as an external id. Otherwise a client could create a profile whose external id is
    someone's cookie id and be found in their place.
    """
    try:
        return uuid.UUID(identifier.strip())
    except (AttributeError, TypeError, ValueError):
        return None


def external_id_problem(identifier: str) -> str | None:
    """Why `identifier` cannot be an external id (it reads as a cookie id), or None."""
    return COOKIE_ID_NOT_EXTERNAL if cookie_id_parse(identifier) is not None else None


def visitor_resolve(identifier: str) -> Visitor | None:
    """The visitor named by a cookie id or an external id; a merged profile gives its survivor."""
    uid = cookie_id_parse(identifier)
    by = {"uid": uid} if uid is not None else {"external_id": identifier}
    visitor = Visitor.objects.filter(**by).first()
    return visitor_survivor(visitor) if visitor is not None else None


def visitor_find(identifier: str) -> Visitor | None:
    """The current profile named by an external id, a cookie id, or an email address."""
    if "@" not in identifier:
        return visitor_resolve(identifier)
    by_email = Q(user__email__iexact=identifier) | Q(traits__email__iexact=identifier)
    found = Visitor.objects.filter(by_email).order_by("-last_seen", "pk").first()
    return visitor_survivor(found) if found is not None else None


def visitors_search(query: str, limit: int = 20) -> list[Visitor]:
    """Current profiles whose external id, cookie id or email (the user's or the `email` trait)
    starts with `query`, for staff picking a visitor; [] for a query under 2 characters."""
    query = query.strip()
    if len(query) < 2:
        return []
    found = (
        Q(external_id__istartswith=query)
        | Q(user__email__istartswith=query)
        | Q(traits__email__istartswith=query)
    )
    uid = cookie_id_parse(query)
    if uid is not None:
        found |= Q(uid=uid)
    rows = Visitor.objects.filter(found, merged_into__isnull=True).select_related("user")
    return list(rows.order_by("-last_seen", "pk")[:limit])


def visitors_resolve_many(identifiers: Iterable[str]) -> dict[str, Visitor]:
    """Cookie or external id → visitor (a merged profile: its survivor); unknown ids left out.

    The same rule as `visitor_resolve`, in one query (and one per level of merging).
    """
    wanted = set(identifiers)
    uids = {key: uid for key in wanted if (uid := cookie_id_parse(key)) is not None}
    external = wanted - uids.keys()
    rows = list(Visitor.objects.filter(Q(external_id__in=external) | Q(uid__in=uids.values())))
    by_external = {v.external_id: v for v in rows if v.external_id in external}
    by_uid = {v.uid: v for v in rows}
    found = {key: by_uid[uid] for key, uid in uids.items() if uid in by_uid}
    found |= {key: by_external[key] for key in external if key in by_external}
    survivors = visitors_survivor_profiles(found.values())
    return {key: survivors[v.pk] for key, v in found.items() if v.pk in survivors}


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


def interactions_fold(rows: Iterable[tuple[int, Any]]) -> Interactions:
    """Interactions from (item id, when last viewed or None) rows, one per item."""
    seen, last_viewed, last_at = set(), None, None
    for item_id, viewed in rows:
        seen.add(item_id)
        if viewed is not None and (last_at is None or viewed > last_at):
            last_viewed, last_at = item_id, viewed
    return Interactions(seen=frozenset(seen), last_viewed=last_viewed)


def visitor_interactions(visitor: Visitor) -> Interactions:
    """Items the visitor interacted with and viewed last: one grouped query per Visitor object.

    A page's recommendation rail and its "because you viewed" both ask; the Visitor object lives
    for one request, so the answer is remembered on it (`visitors_interactions_prefetch` and the
    visitor's snapshot remember it there too).
    """
    memo = visitor.__dict__.get(INTERACTIONS_MEMO)
    if memo is None:
        memo = interactions_fold(_INTERACTIONS.rows(visitor.pk))
        visitor.__dict__[INTERACTIONS_MEMO] = memo
    return memo


def interactions_remember(visitor: Visitor, interactions: Interactions) -> None:
    """Have `visitor_interactions(visitor)` answer `interactions` without a query."""
    visitor.__dict__[INTERACTIONS_MEMO] = interactions


def visitors_interactions_prefetch(visitors: Iterable[Visitor]) -> None:
    """`visitor_interactions` of many visitors in one grouped query, remembered on each."""
    by_id = {visitor.pk: visitor for visitor in visitors if visitor.pk is not None}
    if not by_id:
        return
    rows: dict[int, list[tuple[int, Any]]] = {pk: [] for pk in by_id}
    for visitor_id, item_id, viewed in (
        Event.objects.filter(visitor_id__in=list(by_id), item__isnull=False)
        .values("visitor_id", "item_id")
        .annotate(viewed=Max(Case(When(type=Event.Type.VIEW, then="occurred_at"))))
        .values_list("visitor_id", "item_id", "viewed")
    ):
        rows[visitor_id].append((item_id, viewed))
    for pk, visitor in by_id.items():
        interactions_remember(visitor, interactions_fold(rows[pk]))


def visitor_last_viewed_item(visitor: Visitor) -> ContentItem | None:
    """The item the visitor viewed last, if it is still published."""
    item_id = visitor_interactions(visitor).last_viewed
    if item_id is None:
        return None
    return item_live(item_id)


def visitor_recent_events(visitor: Visitor, limit: int = 20) -> list[Event]:
    return list(
        Event.objects.filter(visitor=visitor)
        .select_related("item")
        .order_by("-occurred_at")[:limit]
    )

"""Writing buffered page views: the events, and each visitor's last seen and sessions, in bulk.

Both ways below store the same rows. On PostgreSQL a batch costs three statements whatever its
size: the visitors and every profile they were merged into locked in one (a recursive query
follows the merges; the rows come back locked, in id order), their new counts in one
`UPDATE … FROM unnest(…)`, the events in one `INSERT … SELECT FROM unnest(…)` (`event_store`):
no model instances, no `bulk_update`. Elsewhere (SQLite for `make run`) it is the ORM: merges
looked up level by level (`visitors_survivors`), the visitors locked, `bulk_update` and
`bulk_create`. Sessions are counted the same way by both (`_new_session`).
"""

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from personalization.visitors.event_store import EventRow, event_of, events_insert_each
from personalization.visitors.models import Event, Visitor
from personalization.visitors.selectors import MERGE_HOPS_MAX, survivor_walk, visitors_survivors
from personalization.visitors.snapshots import snapshots_invalidate

__all__ = ["PageView", "page_views_write"]

# Tries of a batch whose visitors were merged while it was being locked (each try rolls back
# and starts again from a fresh look at the merges); after the last, such views are dropped.
MERGED_MEANWHILE_TRIES = 3


@dataclass(frozen=True)
class PageView:
    """A page view waiting in the write buffer."""

    visitor_id: int
    item_id: int | None
    path: str
    context: dict[str, Any]
    occurred_at: datetime


@dataclass(slots=True)
class _Seen:
    """What a visitor's row says of their visits, as the batch's views change it."""

    last_seen: datetime
    sessions: int


@dataclass
class _Batch:
    """The events of a batch of page views, and the visitors it changes."""

    rows: list[EventRow] = field(default_factory=list)
    contexts: list[dict[str, Any]] = field(default_factory=list)
    new_sessions: set[int] = field(default_factory=set)

    def invalidated(self) -> set[int]:
        """Visitors whose snapshots go stale: new sessions, and views of items."""
        return self.new_sessions | {row[1] for row in self.rows if row[3] is not None}


def _new_session(visitor: _Seen, at: datetime) -> bool:
    """A visit starts a new session when it is the first, or 30 minutes or more after the last."""
    gap = timedelta(minutes=settings.TAILOR_SESSION_GAP_MINUTES)
    return visitor.sessions == 0 or at - visitor.last_seen >= gap


def _batch_of(views: list[PageView], owners: dict[int, int], seen: dict[int, _Seen]) -> _Batch:
    """The events of `views` in time order, each on its visitor's profile (`owners`: visitor
    id → the id of the profile holding its data; views of others are dropped), counting
    sessions in `seen` as they go."""
    batch = _Batch()
    for view in sorted(views, key=lambda v: v.occurred_at):
        owner = owners.get(view.visitor_id)
        if owner is None:
            continue
        visitor = seen[owner]
        if _new_session(visitor, view.occurred_at):
            visitor.sessions += 1
            batch.new_sessions.add(owner)
        visitor.last_seen = max(visitor.last_seen, view.occurred_at)
        batch.rows.append(
            (f"pv-{uuid.uuid4().hex}", owner, Event.Type.VIEW.value, view.item_id, None,
             {"path": view.path}, view.occurred_at)
        )  # fmt: skip
        batch.contexts.append(
            {**view.context, "session": visitor.sessions, "visit_count": visitor.sessions}
        )
    return batch


def page_views_write(views: list[PageView]) -> int:
    """Store page views in bulk: the events, and each visitor's last seen and sessions.

    The visitors (and the profiles they were merged into) are locked in one statement in id
    order, `FOR NO KEY UPDATE`: concurrent flushes of the same visitors' views wait for each
    other, never in a cycle, and rows being inserted that point at those visitors
    (impressions, exposures, events) are not blocked. A view of a visitor erased meanwhile is
    dropped; one of a visitor merged meanwhile goes to the profile it was merged into.
    Returns the number of events stored.
    """
    if connection.vendor != "postgresql":
        return _page_views_write_orm(views)
    for _ in range(MERGED_MEANWHILE_TRIES - 1):
        with transaction.atomic():
            written = _page_views_write_sql(views, last=False)
            if written is None:
                transaction.set_rollback(True)  # releases the locks before the next try
        if written is not None:
            return written
    with transaction.atomic():
        return _page_views_write_sql(views, last=True) or 0


@transaction.atomic
def _page_views_write_orm(views: list[PageView]) -> int:
    """`page_views_write` through the ORM: the merged profiles among the visitors, one query
    per level of merging (none without merges), then the lock, the update and the insert."""
    ids = {view.visitor_id for view in views}
    merged = dict(
        Visitor.objects.filter(pk__in=ids, merged_into__isnull=False).values_list(
            "pk", "merged_into_id"
        )
    )
    survivors = visitors_survivors(set(merged.values()))
    survivor_of = {pk: survivors.get(target) for pk, target in merged.items()}
    locked = Visitor.objects.select_for_update(no_key=True).only("pk", "last_seen", "sessions")
    wanted = (ids - set(merged)) | {pk for pk in survivor_of.values() if pk is not None}
    visitors = {v.pk: v for v in locked.order_by("pk").filter(pk__in=wanted)}
    owners = {pk: owner for pk in ids if (owner := survivor_of.get(pk, pk)) in visitors}
    seen = {pk: _Seen(v.last_seen, v.sessions) for pk, v in visitors.items()}
    batch = _batch_of(views, owners, seen)
    for pk, visitor in visitors.items():
        visitor.last_seen, visitor.sessions = seen[pk].last_seen, seen[pk].sessions
    Visitor.objects.bulk_update(list(visitors.values()), ["last_seen", "sessions"])
    Event.objects.bulk_create(
        event_of(row, source=Event.SERVER, context=context, received_at=row[6])
        for row, context in zip(batch.rows, batch.contexts, strict=True)
    )
    snapshots_invalidate(batch.invalidated())
    return len(batch.rows)


def _page_views_write_sql(views: list[PageView], *, last: bool) -> int | None:
    """`page_views_write` in three statements on PostgreSQL, inside a transaction.

    None, having written nothing, when a visitor was merged into a profile the lock did not
    take (the merge committed while the statement ran): the caller rolls back and tries again.
    On the `last` try such views are dropped instead.
    """
    ids = {view.visitor_id for view in views}
    links, seen = _visitors_lock_with_merges(ids)
    owners = {}
    for pk in ids & links.keys():
        owner, ends = survivor_walk(pk, links)
        if not ends and not last:
            return None
        if ends:
            owners[pk] = owner
    batch = _batch_of(views, owners, seen)
    changed = set(owners.values())
    _visitors_seen_set({pk: seen[pk] for pk in changed})
    events_insert_each(
        batch.rows, source=Event.SERVER, contexts=batch.contexts,
        received=[row[6] for row in batch.rows],
    )  # fmt: skip
    snapshots_invalidate(batch.invalidated())
    return len(batch.rows)


def _visitors_lock_with_merges(ids: set[int]) -> tuple[dict[int, int | None], dict[int, _Seen]]:
    """Lock these visitors and every profile they were merged into, at any depth (up to
    `MERGE_HOPS_MAX` hops), in one statement in id order; erased ones are left out.

    Returns each locked visitor's `merged_into` id and its visits, as they are once locked
    (a merge that committed meanwhile shows in them).
    """
    quote = connection.ops.quote_name
    table = quote(Visitor._meta.db_table)
    # Every name is the model's quoted table; values are parameters.
    sql = (
        f"WITH RECURSIVE chain(id, merged_into_id, hops) AS ("  # noqa: S608
        f"SELECT id, merged_into_id, 0 FROM {table} WHERE id = ANY(%s) "
        f"UNION ALL SELECT v.id, v.merged_into_id, c.hops + 1 FROM chain AS c "
        f"JOIN {table} AS v ON v.id = c.merged_into_id WHERE c.hops < %s) "
        f"SELECT id, merged_into_id, last_seen, sessions FROM {table} "
        "WHERE id = ANY(ARRAY(SELECT id FROM chain)) ORDER BY id FOR NO KEY UPDATE"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [sorted(ids), MERGE_HOPS_MAX])
        rows = cursor.fetchall()
    links = {pk: merged_into for pk, merged_into, _, _ in rows}
    return links, {pk: _Seen(last_seen, sessions) for pk, _, last_seen, sessions in rows}


def _visitors_seen_set(seen: dict[int, _Seen]) -> None:
    """Set these visitors' last seen and sessions, in one statement."""
    if not seen:
        return
    table = connection.ops.quote_name(Visitor._meta.db_table)
    ids = list(seen)
    sql = (
        f"UPDATE {table} AS v SET last_seen = d.last_seen, sessions = d.sessions "  # noqa: S608
        "FROM unnest(%s::bigint[], %s::timestamptz[], %s::integer[]) "
        "AS d(id, last_seen, sessions) WHERE v.id = d.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [ids, [seen[pk].last_seen for pk in ids], [seen[pk].sessions for pk in ids]]
        )

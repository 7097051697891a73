"""Writing a batch of events and widening their visitors' first and last seen, in bulk.

On PostgreSQL a batch is one `INSERT … SELECT FROM ROWS FROM (unnest(…), …)`: a handful of
array parameters (one per column that differs between events, JSON columns as one JSON array;
the source, context and time of arrival are the same for the whole batch, or with
`events_insert_each` the context and arrival are one per event, as for page views) rather than
a literal per value, no staging table. An event whose (source, event id) is taken is skipped by
the table's key trigger (`partitions` says why), and `RETURNING` says which events were new, so
nothing has to look for the ids stored before. Elsewhere (SQLite for `make run`) it is
`bulk_create` with the same conflict handling. Cost: one statement per batch for the events and
one for the visitors, whatever the number of events; memory holds the batch.
"""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Greatest, Least

from personalization.visitors.models import Event, Visitor

__all__ = ["EventRow", "events_insert", "events_insert_each", "visitors_seen_widen"]

# (event_id, visitor_id, type, item_id, value, properties, occurred_at)
EventRow = tuple[str, int, str, int | None, Any, dict[str, Any], datetime]
_COLUMNS = ("event_id", "visitor_id", "type", "item_id", "value", "properties", "occurred_at")
_SHARED = ("source", "context", "received_at")
_TYPES = {
    "event_id": "text", "visitor_id": "bigint", "type": "text", "item_id": "bigint",
    "value": "numeric", "properties": "text", "occurred_at": "timestamptz", "source": "text",
    "context": "text", "received_at": "timestamptz",
}  # fmt: skip
# JSON columns travel as one JSON array for the batch (an array of text would be escaped value
# by value on the client).
_JSON = {"properties", "context"}


def _insert_sql(each: tuple[str, ...]) -> str:
    """The INSERT of a batch: the `each` columns one array each (a value per event), the other
    columns one parameter for the whole batch (before the arrays, in `_SHARED` order)."""
    quote = connection.ops.quote_name
    table = quote(Event._meta.db_table)
    shared = [column for column in _SHARED if column not in each]
    arrays = ", ".join(
        "jsonb_array_elements(%s::jsonb)" if column in _JSON else f"unnest(%s::{_TYPES[column]}[])"
        for column in each
    )
    names = ", ".join(quote(column) for column in (*each, *shared))
    aliases = ", ".join(quote(column) for column in each)
    values = [f"u.{quote(column)}" for column in each]
    values += ["%s::jsonb" if column in _JSON else "%s" for column in shared]
    # Every name is a quoted table or column name of the model; values are parameters.
    return (
        f"INSERT INTO {table} ({names}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM ROWS FROM ({arrays}) AS u({aliases}) "
        "RETURNING event_id"
    )


def _insert(columns: dict[str, Sequence[Any]], shared: dict[str, Any]) -> set[str]:
    """Run `_insert_sql` with a sequence of values per column in `columns` (one per event) and
    one value for each column of `shared`; returns the ids inserted."""
    per_event = [json.dumps(list(v)) if c in _JSON else list(v) for c, v in columns.items()]
    batch = [json.dumps(shared[c]) if c in _JSON else shared[c] for c in _SHARED if c in shared]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(tuple(columns)), [*batch, *per_event])
        return {event_id for (event_id,) in cursor.fetchall()}


def event_of(
    row: EventRow, *, source: str, context: dict[str, Any], received_at: datetime
) -> Event:
    """The (unsaved) event of a row as `events_insert` stores it."""
    event_id, visitor_id, kind, item_id, value, properties, occurred_at = row
    return Event(
        event_id=event_id, source=source, visitor_id=visitor_id, type=kind, item_id=item_id,
        value=value, properties=properties, context=context, occurred_at=occurred_at,
        received_at=received_at,
    )  # fmt: skip


def events_insert(
    rows: Sequence[EventRow], *, source: str, context: dict[str, Any], received_at: datetime
) -> set[str]:
    """Insert the events whose id `source` has not used yet; returns the ids inserted."""
    if not rows:
        return set()
    if connection.vendor != "postgresql":
        events = [
            event_of(row, source=source, context=context, received_at=received_at) for row in rows
        ]
        return _events_bulk_create(events, source=source)
    columns = dict(zip(_COLUMNS, zip(*rows, strict=True), strict=True))
    return _insert(columns, {"source": source, "context": context, "received_at": received_at})


def events_insert_each(
    rows: Sequence[EventRow],
    *,
    source: str,
    contexts: Sequence[dict[str, Any]],
    received: Sequence[datetime],
) -> set[str]:
    """`events_insert` of events each with its own context and time of arrival (`contexts[i]`
    and `received[i]` are those of `rows[i]`); returns the ids inserted."""
    if not rows:
        return set()
    if connection.vendor != "postgresql":
        events = [
            event_of(row, source=source, context=context, received_at=at)
            for row, context, at in zip(rows, contexts, received, strict=True)
        ]
        return _events_bulk_create(events, source=source)
    columns = dict(zip(_COLUMNS, zip(*rows, strict=True), strict=True))
    return _insert(columns | {"context": contexts, "received_at": received}, {"source": source})


def _events_bulk_create(events: list[Event], *, source: str) -> set[str]:
    ids = [event.event_id for event in events]
    taken = set(Event.objects.filter(source=source, event_id__in=ids).values_list("event_id"))
    new = [event for event in events if (event.event_id,) not in taken]
    Event.objects.bulk_create(new, batch_size=2_000, ignore_conflicts=True)
    return {event.event_id for event in new}


def visitors_seen_widen(spans: dict[int, tuple[datetime, datetime]]) -> None:
    """Widen the visitors' first and last seen to cover (first, last) of their new events."""
    if not spans:
        return
    if connection.vendor != "postgresql":
        # One look up the (visitor, -occurred_at) index per visitor.
        timeline = Event.objects.filter(visitor=OuterRef("pk")).values("occurred_at")
        Visitor.objects.filter(pk__in=spans).update(
            first_seen=Least(F("first_seen"), Subquery(timeline.order_by("occurred_at")[:1])),
            last_seen=Greatest(F("last_seen"), Subquery(timeline.order_by("-occurred_at")[:1])),
        )
        return
    quote = connection.ops.quote_name
    table = quote(Visitor._meta.db_table)
    ids = list(spans)
    sql = (
        f"UPDATE {table} AS v SET first_seen = LEAST(v.first_seen, d.first), "  # noqa: S608
        "last_seen = GREATEST(v.last_seen, d.last) "
        "FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS d(id, first, last) "
        "WHERE v.id = d.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids, [spans[i][0] for i in ids], [spans[i][1] for i in ids]])

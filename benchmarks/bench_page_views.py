"""Buffered page views and impressions written, per row, beside a plain insert of the same rows.

Run from the repository root: `.venv/bin/python benchmarks/bench_page_views.py`. `make bench`
gives it a throwaway PostgreSQL through DATABASE_URL; without one it uses SQLite. Either way it
works in a test database of its own, created here and destroyed at the end.

A web process writes what its buffers hold in batches of `TAILOR_WRITE_BUFFER_SIZE` (200 in
production). Here each batch is 200 page views of visitors drawn at random among 600 (each view
with a request context as the middleware builds it, half of them of an item), and 200
impressions. The baseline is `bulk_create` of the same events (impressions) in a transaction
of its own, in the same run: the ratio is the price of sessions, merges, erasure and snapshot
invalidation. On PostgreSQL the page views are also written the way SQLite writes them (the
ORM: model instances, `bulk_update`, as every database did before), and the impressions by
`INSERT … SELECT FROM unnest(…)` instead of COPY, for comparison.
"""

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from support import best_of, test_database

from content.models import ContentItem, ContentKind
from personalization.visitors import page_views
from personalization.visitors.models import Event, Impression, Visitor
from personalization.visitors.services import (
    ImpressionRow,
    PageView,
    impressions_write,
    page_views_write,
)

VISITORS = 600
ITEMS = 200
BATCH = 200
BATCHES = 10
START = datetime(2026, 1, 5, 9, tzinfo=UTC)
CONTEXT = {
    "device": "desktop", "browser": "Chrome", "os": "Linux", "is_bot": False,
    "referrer_host": "", "utm_source": "", "utm_medium": "", "utm_campaign": "",
    "utm_term": "", "utm_content": "", "country": "DE", "hour": 9, "weekday": 1,
    "logged_in": False, "path": "/",
}  # fmt: skip


class Batches:
    """Batches of page views and impressions, each at later times than the one before."""

    def __init__(self, visitors: list[int], items: list[int]) -> None:
        self.visitors, self.items = visitors, items
        self.rng = random.Random(7)
        self.clock = START

    def page_views(self) -> list[PageView]:
        views = []
        for _ in range(BATCH):
            self.clock += timedelta(seconds=self.rng.randint(1, 40))
            item = self.rng.choice(self.items) if self.rng.random() < 0.5 else None
            path = f"/items/{item}/" if item else "/"
            views.append(
                PageView(self.rng.choice(self.visitors), item, path, {**CONTEXT, "path": path},
                         self.clock)
            )  # fmt: skip
        return views

    def impressions(self) -> list[ImpressionRow]:
        self.clock += timedelta(seconds=1)
        return [
            ImpressionRow(self.rng.choice(self.visitors), self.rng.choice(self.items),
                          "homepage-hero", self.clock, None, "default", True)
            for _ in range(BATCH)
        ]  # fmt: skip


def events_of(views: list[PageView]) -> list[Event]:
    return [
        Event(
            event_id=f"base-{n}-{view.occurred_at.timestamp()}", visitor_id=view.visitor_id,
            type="view", item_id=view.item_id, properties={"path": view.path},
            context={**view.context, "session": 1, "visit_count": 1},
            occurred_at=view.occurred_at, received_at=view.occurred_at,
        )
        for n, view in enumerate(views)
    ]  # fmt: skip


@transaction.atomic
def events_bulk_create(views: list[PageView]) -> None:
    Event.objects.bulk_create(events_of(views))


@transaction.atomic
def impressions_bulk_create(rows: list[ImpressionRow]) -> None:
    Impression.objects.bulk_create(Impression(**row._asdict()) for row in rows)


@transaction.atomic
def impressions_unnest(rows: list[ImpressionRow]) -> None:
    """What `impressions_write` does (foreign keys checked at the insert, in a savepoint), with
    `INSERT … SELECT FROM unnest(…)` in place of COPY: the alternative it was measured against."""
    types = ("bigint", "bigint", "text", "timestamptz", "integer", "text", "boolean")
    arrays = ", ".join(f"%s::{kind}[]" for kind in types)
    columns = ", ".join(ImpressionRow._fields)
    table = Impression._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays})",
            [list(column) for column in zip(*rows, strict=True)],
        )
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def per_row(write: Callable[[Any], object], make: Callable[[], Any]) -> float:
    """The best time of one batch, in microseconds per row (batches made outside the timing)."""
    batches = [make() for _ in range(BATCHES)]

    def run() -> None:
        write(batches.pop())

    return best_of(run, repeat=BATCHES) / BATCH * 1e6


def main() -> None:
    kind, _ = ContentKind.objects.get_or_create(key="product", defaults={"name": "Product"})
    items = ContentItem.objects.bulk_create(
        ContentItem(external_id=f"i{n}", title=f"Item {n}", slug=f"i{n}", kind=kind)
        for n in range(ITEMS)
    )
    Visitor.objects.bulk_create(
        Visitor(sessions=3, first_seen=START - timedelta(days=9), last_seen=START)
        for _ in range(VISITORS)
    )
    visitors = list(Visitor.objects.values_list("pk", flat=True))
    batches = Batches(visitors, [item.pk for item in items])
    orm = page_views._page_views_write_orm
    groups: list[list[tuple[str, Callable[[Any], object], Callable[[], Any]]]] = [
        [
            ("page views: bulk_create of the events", events_bulk_create, batches.page_views),
            ("page views: page_views_write", page_views_write, batches.page_views),
        ],
        [
            ("impressions: bulk_create", impressions_bulk_create, batches.impressions),
            ("impressions: impressions_write", impressions_write, batches.impressions),
        ],
    ]
    if connection.vendor == "postgresql":
        groups[0].append(("page views: the ORM path (SQLite's)", orm, batches.page_views))
        groups[1].append(
            ("impressions: INSERT FROM unnest", impressions_unnest, batches.impressions)
        )
    results = [[(label, per_row(write, make)) for label, write, make in group] for group in groups]
    print(f"{BATCH} rows a batch, {VISITORS} visitors, {ITEMS} items, on {connection.vendor}")
    width = max(len(label) for group in results for label, _ in group)
    print(f"{'':{width}}  {'µs/row':>7}  {'x bulk_create':>13}")
    for group in results:
        for label, micros in group:
            print(f"{label:{width}}  {micros:7.1f}  {micros / group[0][1]:13.2f}")


if __name__ == "__main__":
    with test_database():
        main()

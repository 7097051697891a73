"""Events per second through `POST /api/v1/events` and `import_events`, beside a plain insert.

Run from the repository root: `.venv/bin/python benchmarks/bench_events.py`. `make bench` gives it
a throwaway PostgreSQL through DATABASE_URL; without one it uses SQLite. Either way it works in a
test database of its own, created here and destroyed at the end.

Each path is compared with `Event.objects.bulk_create` of the same rows (fresh event ids, the
same batch size) into the same table, with visitors and items already resolved: the ratio is
the price of validation, consent, idempotency and (for the API) HTTP and JSON. Queries grow
with the number of batches, never with the events inside one.
"""

import csv
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402
from support import test_database  # noqa: E402

from config.services import api_key_create  # noqa: E402
from consent.services import consent_grant_bulk  # noqa: E402
from content.models import ContentItem, ContentKind  # noqa: E402
from personalization.visitors.event_import import IMPORT_BATCH_SIZE  # noqa: E402
from personalization.visitors.models import Event, Visitor  # noqa: E402

EVENTS = 20_000
API_BATCH = 500
VISITORS = 2_000
ITEMS = 500
TYPES = ["view"] * 6 + ["click"] * 3 + ["add_to_cart", "purchase"]
START = datetime(2025, 1, 1, tzinfo=UTC)


def synthetic_events(prefix: str) -> list[dict[str, Any]]:
    """EVENTS events by VISITORS visitors on ITEMS items; `prefix` makes the event ids fresh."""
    rng = random.Random(prefix)
    events = []
    for n in range(EVENTS):
        kind = rng.choice(TYPES)
        events.append(
            {
                "event_id": f"{prefix}-{n}",
                "visitor_id": f"bench-v{rng.randrange(VISITORS)}",
                "type": kind,
                "item_id": f"bench-i{rng.randrange(ITEMS)}",
                "value": f"{rng.randint(5, 300)}.90" if kind == "purchase" else None,
                "occurred_at": (START + timedelta(seconds=n * 37)).isoformat(),
            }
        )
    return events


def catalogue_and_audience() -> None:
    """Items, and visitors who all allow analytics (so that every event is stored)."""
    kind, _ = ContentKind.objects.get_or_create(key="product", defaults={"name": "Product"})
    ContentItem.objects.bulk_create(
        ContentItem(external_id=f"bench-i{n}", title=f"Item {n}", slug=f"bench-i{n}", kind=kind)
        for n in range(ITEMS)
    )
    Visitor.objects.bulk_create(Visitor(external_id=f"bench-v{n}") for n in range(VISITORS))
    consent_grant_bulk(
        visitor_ids=Visitor.objects.values_list("pk", flat=True), purposes=["analytics"]
    )


def baseline(events: list[dict[str, Any]], batch_size: int) -> None:
    """The same rows straight into the table, ids resolved beforehand: the floor."""
    visitors = dict(Visitor.objects.values_list("external_id", "pk"))
    items = dict(ContentItem.objects.values_list("external_id", "pk"))
    Event.objects.bulk_create(
        [
            Event(
                event_id=event["event_id"],
                visitor_id=visitors[event["visitor_id"]],
                type=event["type"],
                item_id=items[event["item_id"]],
                value=Decimal(event["value"]) if event["value"] else None,
                occurred_at=datetime.fromisoformat(event["occurred_at"]),
            )
            for event in events
        ],
        batch_size=batch_size,
    )


def through_api(events: list[dict[str, Any]]) -> str:
    client = APIClient()
    _, secret = api_key_create(name="bench", scopes=["events:write"])
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    accepted = 0
    for start in range(0, len(events), API_BATCH):
        batch = [
            {key: value for key, value in event.items() if value is not None}
            for event in events[start : start + API_BATCH]
        ]
        response = client.post("/api/v1/events", {"events": batch}, format="json")
        if response.status_code != 202 or response.json()["errors"]:
            raise SystemExit(f"the API refused events: {response.status_code} {response.content}")
        accepted += response.json()["accepted"]
    return f"{accepted} accepted"


def write_csv(path: Path, events: list[dict[str, Any]]) -> Path:
    columns = ["visitor_id", "event_type", "item_id", "timestamp", "value", "event_id"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for e in events:
            writer.writerow(
                [e["visitor_id"], e["type"], e["item_id"], e["occurred_at"], e["value"] or "",
                 e["event_id"]]
            )  # fmt: skip
    return path


def through_import(path: Path) -> str:
    out = StringIO()
    call_command("import_events", str(path), stdout=out, stderr=StringIO())
    return out.getvalue().strip()


@contextmanager
def counting_queries() -> Iterator[list[int]]:
    """Count the queries run, without the SQL logging of CaptureQueriesContext skewing times."""
    count = [0]

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any):
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield count


def timed(func: Callable[[], Any]) -> tuple[float, int, Any]:
    with counting_queries() as count:
        started = time.perf_counter()
        outcome = func()
        seconds = time.perf_counter() - started
    return seconds, count[0], outcome


def fresh(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same rows under new event ids, so that the baseline inserts them all."""
    return [{**event, "event_id": f"base-{event['event_id']}"} for event in events]


def main() -> None:
    catalogue_and_audience()
    api_events, file_events = synthetic_events("api"), synthetic_events("import")
    with tempfile.TemporaryDirectory() as folder:
        path = write_csv(Path(folder) / "events.csv", file_events)
        # (label, run, index of the baseline row it is compared with)
        plan: list[tuple[str, Callable[[], Any], int]] = [
            (
                f"bulk_create, batches of {API_BATCH}",
                lambda: baseline(fresh(api_events), API_BATCH),
                0,
            ),
            (f"API, batches of {API_BATCH}, API key", lambda: through_api(api_events), 0),
            (
                f"bulk_create, batches of {IMPORT_BATCH_SIZE:,}",
                lambda: baseline(fresh(file_events), IMPORT_BATCH_SIZE),
                2,
            ),
            ("import_events, CSV", lambda: through_import(path), 2),
            ("import_events again: all duplicates", lambda: through_import(path), 2),
        ]
        results = [(label, *timed(run), base) for label, run, base in plan]

    print(f"{EVENTS:,} events, {VISITORS:,} visitors, {ITEMS} items, on {connection.vendor}")
    width = max(len(label) for label, *_ in results)
    print(f"{'':{width}}  {'seconds':>8}  {'events/s':>9}  {'x bulk_create':>13}  {'queries':>7}")
    for label, seconds, queries, _, base in results:
        print(
            f"{label:{width}}  {seconds:8.2f}  {EVENTS / seconds:9,.0f}  "
            f"{seconds / results[base][1]:13.1f}  {queries:7d}"
        )
    for label, _, _, summary, _ in results:
        if summary:
            print(f"{label}: {summary}")


if __name__ == "__main__":
    with test_database():
        main()

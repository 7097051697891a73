"""Events API ingest into a table that already holds 10 million events, beside an empty one.

Run from the repository root: `scripts/with-services.sh .venv/bin/python benchmarks/run.py
events_partitioned` (PostgreSQL only: the table is partitioned by month there, and the rows are
made with `generate_series`, in SQL). It works in a test database of its own.

Measured in the same run, through `POST /api/v1/events` with an API key, batches of 500:
- the baseline: 20,000 events (January 2025) into an empty events table;
- the same number of new events after 10 million were loaded, spread over 13 months from
  January 2024 to mid-January 2025: the month being written already holds some 380,000 events
  that interleave with the new ones, and the idempotency keys of all 10 million are there.
Each figure is the best of REPEATS runs with fresh event ids; the empty table is measured before
the load and again after it (truncated), and the better of the two counts. The ratio (events/s
into the full table ÷ into the empty one) is the figure to watch: 0.8 or more.
"""

import os
import time
from datetime import UTC, datetime, timedelta

import bench_events  # sets Django up
from bench_events import EVENTS, catalogue_and_audience, synthetic_events, through_api
from django.db import connection
from support import test_database

from personalization.visitors.partitions import event_partitions, event_partitions_maintain

FILL = int(os.environ.get("BENCH_EVENTS_FILL", 10_000_000))  # smaller only to try the script
CHUNK = 1_000_000
REPEATS = 2
FILL_START = datetime(2024, 1, 1, tzinfo=UTC)
FILL_END = datetime(2025, 1, 15, tzinfo=UTC)


def _sql(sql: str, params: list | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def months() -> None:
    """Partitions from January 2024 to April 2025, as the nightly task would have made them."""
    at = FILL_START
    while at <= bench_events.START:
        event_partitions_maintain(now=at)
        at += timedelta(days=90)


def fill() -> float:
    """FILL events over 13 months, loaded like a bulk load: triggers off, keys set-based."""
    started = time.perf_counter()
    seconds = int((FILL_END - FILL_START).total_seconds())
    _sql("SET session_replication_role = replica")  # no per-row triggers or FK checks
    for first in range(1, FILL + 1, CHUNK):
        _sql(
            "INSERT INTO personalization_event (event_id, source, visitor_id, type, item_id, "
            "value, properties, context, occurred_at, received_at) "
            "SELECT 'fill-' || g, 'api-key:' || (g %% 7), v.first + (g * 7919) %% 2000, "
            "(ARRAY['view','view','view','click','add_to_cart','purchase'])[1 + g %% 6], "
            "i.first + (g * 104729) %% 500, CASE WHEN g %% 6 = 5 THEN 10 + g %% 90 END, '{}', "
            "'{\"source\": \"api-key\"}', %s + ((g::bigint * 7907) %% %s) * interval '1 second', "
            "%s FROM generate_series(%s::bigint, %s::bigint) g, "
            "(SELECT min(id) AS first FROM personalization_visitor) v, "
            "(SELECT min(id) AS first FROM content_contentitem) i",
            [FILL_START, seconds, FILL_END, first, min(first + CHUNK - 1, FILL)],
        )
        print(f"  loaded {min(first + CHUNK - 1, FILL):,} events", flush=True)
    _sql("SET session_replication_role = DEFAULT")
    _sql(
        "INSERT INTO personalization_event_key (source, event_id) "
        "SELECT source, event_id FROM personalization_event"
    )
    _sql("ANALYZE personalization_event")
    _sql("ANALYZE personalization_event_key")
    return time.perf_counter() - started


def best_ingest(label: str) -> float:
    """The best time of REPEATS API ingests of EVENTS fresh events."""
    times = []
    for n in range(REPEATS):
        events = synthetic_events(f"{label}{n}")
        started = time.perf_counter()
        through_api(events)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    if connection.vendor != "postgresql":
        print("needs PostgreSQL (the events table is partitioned there only): skipped")
        return
    catalogue_and_audience()
    months()
    before = best_ingest("empty")
    _sql("TRUNCATE personalization_event")  # the trigger releases the keys too
    loaded = fill()
    full = best_ingest("full")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM personalization_event WHERE occurred_at >= %s",
                       [datetime(2025, 1, 1, tzinfo=UTC)])  # fmt: skip
        (same_month,) = cursor.fetchone()
    # The empty table once more, after: the load of a shared machine drifts during the fill.
    _sql("TRUNCATE personalization_event")
    after = best_ingest("empty-again")
    empty = min(before, after)
    print(f"{EVENTS:,} events per run through the API, batches of 500, best of {REPEATS}; "
          f"{len(event_partitions())} monthly partitions")  # fmt: skip
    print(f"loading {FILL:,} events took {loaded:.0f} s; "
          f"the month written to holds {same_month:,} events after the runs")  # fmt: skip
    print(f"{'':28}  {'seconds':>8}  {'events/s':>9}")
    print(f"{'into an empty table':28}  {empty:8.2f}  {EVENTS / empty:9,.0f}  "
          f"(best of before the load {before:.2f} s and after it {after:.2f} s)")  # fmt: skip
    print(f"{f'into {FILL:,} events':28}  {full:8.2f}  {EVENTS / full:9,.0f}")
    print(f"ingest into {FILL:,} events vs empty: {empty / full:.2f}x (target >= 0.8x)")


if __name__ == "__main__":
    with test_database():
        main()

"""Time the batched erasure of a visitor with 100,000 events beside a plain bulk delete of them.

Run from the repository root: `.venv/bin/python benchmarks/bench_erasure.py`. `make bench` gives
it a throwaway PostgreSQL through DATABASE_URL; without one it uses SQLite. Either way it works
in a test database of its own, created here and destroyed at the end.

The subject is re-seeded before every run, so that each erases the same rows. The baselines
delete only the events, in one statement (`_raw_delete`, and `QuerySet.delete()`, which takes
the same fast path while nothing cascades from events); the erasure also deletes or anonymizes
the subject's other rows, writes its progress after every batch (`ERASE_BATCH_SIZE` rows) and
runs each batch in its own transaction, so that a crash can resume and locks stay short. Peak
memory is measured with tracemalloc in separate runs (it slows what it traces).
"""

import os
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

from consent.gdpr.audit import COMMAND  # noqa: E402
from consent.gdpr.erase import ERASE_BATCH_SIZE, subject_erase  # noqa: E402
from consent.gdpr.requests import subject_request_create  # noqa: E402
from consent.models import ConsentRecord, DataSubjectRequest, Purpose  # noqa: E402
from personalization.features.models import VisitorFeatures  # noqa: E402
from personalization.visitors.models import Event, Visitor  # noqa: E402

EVENTS = 100_000
INSERT_BATCH = 10_000
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def seed(run: int) -> Visitor:
    """A visitor with EVENTS events, consent records and features (ids unique per run)."""
    visitor = Visitor.objects.create(external_id=f"bench-subject-{run}", traits={"plan": "gold"})
    purposes = Purpose.objects.filter(key__in=["analytics", "personalization"])
    ConsentRecord.objects.bulk_create(
        ConsentRecord(visitor=visitor, purpose=p, granted=True, source="import") for p in purposes
    )
    VisitorFeatures.objects.create(visitor=visitor, computed_at=NOW, event_count=EVENTS)
    events: Iterator[Event] = (
        Event(
            event_id=f"bench-{run}-{n}",
            visitor=visitor,
            type="view",
            properties={"path": f"/page/{n % 500}"},
            occurred_at=NOW - timedelta(minutes=n),
            received_at=NOW,
        )
        for n in range(EVENTS)
    )
    while batch := list(islice(events, INSERT_BATCH)):
        Event.objects.bulk_create(batch)
    return visitor


@contextmanager
def counting_queries() -> Iterator[list[int]]:
    """Count the queries run, without the SQL logging of CaptureQueriesContext skewing times."""
    count = [0]

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any):
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield count


def erase(visitor: Visitor) -> None:
    request = subject_request_create(
        type=DataSubjectRequest.Type.ERASURE, identifier=visitor.external_id, actor=COMMAND
    )
    counts = subject_erase(request_id=request.pk)
    assert counts["personalization.Event"] == EVENTS, counts


def raw_delete(visitor: Visitor) -> None:
    rows = Event.objects.filter(visitor=visitor)
    assert rows._raw_delete(rows.db) == EVENTS


def queryset_delete(visitor: Visitor) -> None:
    deleted, _ = Event.objects.filter(visitor=visitor).delete()
    assert deleted == EVENTS


def measure(run: Callable[[Visitor], None], runs: list[int]) -> tuple[float, int, float]:
    """(seconds, queries) of one run, then the peak traced memory of another, both on fresh rows."""
    runs[0] += 1
    visitor = seed(runs[0])
    with counting_queries() as count:
        started = time.perf_counter()
        run(visitor)
        seconds = time.perf_counter() - started
    runs[0] += 1
    visitor = seed(runs[0])
    tracemalloc.start()
    run(visitor)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert not Event.objects.exists()
    return seconds, count[0], peak


def main() -> None:
    runs = [0]
    started = time.perf_counter()
    seed(0)
    Event.objects.all()._raw_delete(connection.alias)
    # The first use of the cache imports its client (seconds here); a running worker has.
    cache.get("bench-erasure-warm-up")
    seeded = time.perf_counter() - started  # one seed, timed: warms the tables as well

    results = [
        ("Event _raw_delete (baseline)", measure(raw_delete, runs)),
        ("Event QuerySet.delete()", measure(queryset_delete, runs)),
        (f"subject_erase, batches of {ERASE_BATCH_SIZE:,}", measure(erase, runs)),
    ]

    print(f"1 visitor with {EVENTS:,} events on {connection.vendor} (seeded in {seeded:.1f} s)")
    base = results[0][1][0]
    header = f"{'seconds':>8}  {'events/s':>10}  {'x baseline':>10}  {'queries':>7}  peak MiB"
    print(f"{'':36}  {header}")
    for label, (seconds, queries, peak) in results:
        print(
            f"{label:36}  {seconds:8.2f}  {EVENTS / seconds:10,.0f}  {seconds / base:10.1f}  "
            f"{queries:7d}  {peak / 2**20:8.1f}"
        )


if __name__ == "__main__":
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        main()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()

"""Time the erasure of a visitor with 100,000 events beside a plain bulk delete of them.

Run from the repository root: `.venv/bin/python benchmarks/bench_erasure.py`. `make bench` gives
it a throwaway PostgreSQL through DATABASE_URL; without one it uses SQLite. Either way it works
in a test database of its own, created here and destroyed at the end.

The subject is re-seeded before every run, so that each erases the same rows, and the
seeding's garbage is collected before the clock starts (a collection of its 100,000 objects
would otherwise land in whichever run comes next). The baselines delete only the events, in one
statement (`_raw_delete`, and `QuerySet.delete()`, which takes the same fast path while nothing
cascades from events); the erasure also deletes or anonymizes the subject's other rows, each
model in its own transaction with the progress it writes, so that a crash can resume, under a
time limit per statement so that row locks stay short; the last variant erases in batches of
`ERASE_BATCH_SIZE`, as a model too large for one statement would. Peak memory is measured
with tracemalloc in separate runs (it slows what it traces). Each variant is timed in ROUNDS
rounds that interleave them, and the median is compared: one run each swung by half on this shared
machine.
"""

import gc
import os
import statistics
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

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

from config.bulk import rows_upsert  # noqa: E402
from consent.gdpr.audit import COMMAND  # noqa: E402
from consent.gdpr.erase import ERASE_BATCH_SIZE, subject_erase  # noqa: E402
from consent.gdpr.requests import subject_request_create  # noqa: E402
from consent.models import ConsentRecord, DataSubjectRequest, Purpose  # noqa: E402
from personalization.features.models import VisitorFeatures  # noqa: E402
from personalization.visitors.models import Event, Visitor  # noqa: E402

EVENTS = 100_000
INSERT_BATCH = 10_000
ROUNDS = 5
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
    if run and _copy_events(template=seed_events_of(0), to=visitor, suffix=f"-{run}"):
        return visitor
    while batch := list(islice(events, INSERT_BATCH)):
        rows_upsert(Event, batch)  # COPY on PostgreSQL
    return visitor


def seed_events_of(run: int) -> str:
    return f"bench_events_{run}"


def _copy_events(*, template: str, to: Visitor, suffix: str) -> bool:
    """The events of the first seed again, for another visitor, in one INSERT … SELECT from a
    copy kept aside: a second a seed instead of ten. False before that copy exists."""
    with connection.cursor() as cursor:
        if template not in connection.introspection.table_names(cursor):
            return False
        quote = connection.ops.quote_name
        fields = [f for f in Event._meta.concrete_fields if not f.primary_key]
        # The new visitor, and event ids made unique with the suffix; every other column as is.
        changed = {"visitor_id": ("%s", to.pk), "event_id": (f"{quote('event_id')} || %s", suffix)}
        columns = ", ".join(quote(f.column) for f in fields)
        selected = ", ".join(changed.get(f.column, (quote(f.column),))[0] for f in fields)
        params = [changed[f.column][1] for f in fields if f.column in changed]
        table, source = quote(Event._meta.db_table), quote(template)
        # Table and column names from the model and this script, never input.
        cursor.execute(f"INSERT INTO {table} ({columns}) SELECT {selected} FROM {source}", params)
    return True


def keep_events_aside(visitor: Visitor, template: str) -> None:
    """A copy of the visitor's events that later seeds insert from."""
    table = connection.ops.quote_name(Event._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE {connection.ops.quote_name(template)} AS "
            f"SELECT * FROM {table} WHERE visitor_id = %s",
            [visitor.pk],
        )


@contextmanager
def counting_queries() -> Iterator[list[int]]:
    """Count the queries run, without the SQL logging of CaptureQueriesContext skewing times."""
    count = [0]

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any):
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield count


def erase(visitor: Visitor, batch_size: int | None = None) -> None:
    request = subject_request_create(
        type=DataSubjectRequest.Type.ERASURE, identifier=visitor.external_id, actor=COMMAND
    )
    counts = subject_erase(request_id=request.pk, batch_size=batch_size)
    assert counts["personalization.Event"] == EVENTS, counts


def erase_in_batches(visitor: Visitor) -> None:
    erase(visitor, batch_size=ERASE_BATCH_SIZE)


def raw_delete(visitor: Visitor) -> None:
    rows = Event.objects.filter(visitor=visitor)
    assert rows._raw_delete(rows.db) == EVENTS


def queryset_delete(visitor: Visitor) -> None:
    deleted, _ = Event.objects.filter(visitor=visitor).delete()
    assert deleted == EVENTS


def timed(run: Callable[[Visitor], None], runs: list[int]) -> tuple[float, int]:
    """(seconds, queries) of one run on fresh rows."""
    runs[0] += 1
    visitor = seed(runs[0])
    gc.collect()
    with counting_queries() as count:
        started = time.perf_counter()
        run(visitor)
        seconds = time.perf_counter() - started
    assert not Event.objects.exists()
    return seconds, count[0]


def traced(run: Callable[[Visitor], None], runs: list[int]) -> float:
    """The peak traced memory of one run on fresh rows."""
    runs[0] += 1
    visitor = seed(runs[0])
    gc.collect()
    tracemalloc.start()
    run(visitor)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main() -> None:
    runs = [0]
    started = time.perf_counter()
    # A running worker has imported the cache client and the registry and built its queries
    # once: so does this erasure of a first subject, timed only as the seed it needs.
    warm_up = seed(0)
    seeded = time.perf_counter() - started
    keep_events_aside(warm_up, seed_events_of(0))
    erase(warm_up)

    variants = [
        ("Event _raw_delete (baseline)", raw_delete),
        ("Event QuerySet.delete()", queryset_delete),
        ("subject_erase", erase),
        (f"subject_erase, batches of {ERASE_BATCH_SIZE:,}", erase_in_batches),
    ]
    # Rounds interleave the variants, so that a burst of load on the machine hits them alike.
    samples: dict[str, list[tuple[float, int]]] = {label: [] for label, _ in variants}
    for _ in range(ROUNDS):
        for label, run in variants:
            samples[label].append(timed(run, runs))
    peaks = {label: traced(run, runs) for label, run in variants}

    print(
        f"1 visitor with {EVENTS:,} events on {connection.vendor} (one seed {seeded:.1f} s); "
        f"median of {ROUNDS} interleaved rounds (fastest to slowest)"
    )
    base = statistics.median(seconds for seconds, _ in samples[variants[0][0]])
    header = f"{'seconds':>8}  {'range':>11}  {'x baseline':>10}  {'queries':>7}  peak MiB"
    print(f"{'':36}  {header}")
    for label, _ in variants:
        times = sorted(seconds for seconds, _ in samples[label])
        median = statistics.median(times)
        queries = samples[label][-1][1]
        print(
            f"{label:36}  {median:8.3f}  {times[0]:5.3f}-{times[-1]:5.3f}  {median / base:10.1f}  "
            f"{queries:7d}  {peaks[label] / 2**20:8.1f}"
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

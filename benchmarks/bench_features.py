"""Time `features_compute_all` on 5,000 visitors with ~20 events each beside one aggregate query.

Run from the repository root: `.venv/bin/python benchmarks/bench_features.py`. `make bench` gives
it a throwaway PostgreSQL through DATABASE_URL; without one it uses SQLite. Either way it works
in a test database of its own, created here and destroyed at the end.

The baseline is one GROUP BY over the same events (count, last time, sum of values per visitor,
fetched through the ORM): the least any per-visitor computation has to read. On PostgreSQL
features read the events once more for the population statistics, then per chunk one statement
checks consent, reads the chunk's events, finds sessions, sums money, event types and decayed
interests per tag and kind, scores and upserts a row per visitor; so the ratio is the
price of those features. On SQLite the chunk's events are streamed through Python instead.
Queries grow with chunks (visitors / chunk size), not with visitors; peak memory with the chunk
size.

Both sides are timed alike: after the seed the tables are vacuumed and analysed (as autovacuum
would leave them) and read once, then each side runs ROUNDS times, in turn, and the median
counts. Every features run starts cold: no stored features, no cached consent.
"""

import os
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Max, Sum  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

from consent.models import ConsentRecord, PolicyVersion, Purpose  # noqa: E402
from consent.selectors import state_cache_key  # noqa: E402
from content.models import ContentItem, ContentKind  # noqa: E402
from content.services import tags_ensure  # noqa: E402
from personalization.features.models import VisitorFeatures  # noqa: E402
from personalization.features.services import features_compute_all  # noqa: E402
from personalization.visitors.models import Event, Visitor  # noqa: E402

VISITORS = 5_000
EVENTS_PER_VISITOR = 20
ITEMS = 300
CHUNK_SIZE = 2_000
ROUNDS = 5
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TAG_PATHS = [
    "sports/football", "sports/running", "sports/cycling", "outdoors/hiking", "outdoors/camping",
    "tech/phones", "tech/laptops", "tech/audio", "home/kitchen", "home/garden", "sale", "new",
]  # fmt: skip
TYPES = ["view"] * 70 + ["click"] * 15 + ["add_to_cart"] * 7 + ["search"] * 5 + ["purchase"] * 3


def seed(rng: random.Random) -> list[int]:
    """Items, visitors (19 in 20 allowing personalization) and their events; returns visitor ids."""
    kinds = [ContentKind.objects.get_or_create(key=k, defaults={"name": k})[0] for k in "abc"]
    tags = list(tags_ensure(TAG_PATHS).values())
    items = []
    for n in range(ITEMS):
        item = ContentItem.objects.create(
            title=f"Item {n}", slug=f"item-{n}", kind=kinds[n % 3], status="published"
        )
        item.tags.set(rng.sample(tags, rng.randint(1, 3)))
        items.append(item)
    visitors = Visitor.objects.bulk_create(
        [Visitor(first_seen=NOW - timedelta(days=rng.uniform(1, 200))) for _ in range(VISITORS)],
        batch_size=2_000,
    )
    purposes = {p.key: p for p in Purpose.objects.filter(key__in=["analytics", "personalization"])}
    policy = PolicyVersion.objects.order_by("-version").first()
    ConsentRecord.objects.bulk_create(
        [
            ConsentRecord(
                visitor=v,
                purpose=p,
                granted=key == "analytics" or n % 20 != 0,
                policy=policy,
                source=ConsentRecord.Source.IMPORT,
            )
            for n, v in enumerate(visitors)
            for key, p in purposes.items()
        ],
        batch_size=5_000,
    )
    events = []
    for visitor in visitors:
        moment = NOW - timedelta(days=rng.uniform(0, 150))
        for _ in range(rng.randint(EVENTS_PER_VISITOR // 2, EVENTS_PER_VISITOR * 3 // 2)):
            # Mostly minutes apart within a visit, now and then days apart (a new session).
            moment += (
                timedelta(minutes=rng.expovariate(1 / 8))
                if rng.random() < 0.8
                else (timedelta(days=rng.expovariate(1 / 4)))
            )
            kind = rng.choice(TYPES)
            value = Decimal(f"{rng.lognormvariate(3.5, 1):.2f}") if kind == "purchase" else None
            events.append(
                Event(
                    event_id=f"bench-{len(events)}",
                    visitor=visitor,
                    type=kind,
                    item=None if kind == "search" else rng.choice(items),
                    value=value,
                    occurred_at=min(moment, NOW),
                    received_at=NOW,
                )
            )
    Event.objects.bulk_create(events, batch_size=5_000)
    return [v.pk for v in visitors]


@contextmanager
def counting_queries() -> Iterator[list[int]]:
    """Count the queries run, without the SQL logging of CaptureQueriesContext skewing times."""
    count = [0]

    def wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any):
        count[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield count


def fresh(visitor_ids: list[int]) -> None:
    """Forget stored features and cached consent, so that every run starts cold."""
    VisitorFeatures.objects.all().delete()
    cache.delete_many([state_cache_key(pk) for pk in visitor_ids])


def baseline() -> int:
    rows = Event.objects.values("visitor").annotate(
        n=Count("pk"), last=Max("occurred_at"), total=Sum("value")
    )
    return len(list(rows.order_by()))


def settle() -> None:
    """Leave the seeded tables as a live database has them: vacuumed, analysed, read once."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    baseline()


def timed(action: Callable[[], Any]) -> tuple[float, int]:
    with counting_queries() as count:
        started = time.perf_counter()
        action()
        return time.perf_counter() - started, count[0]


def main() -> None:
    seed_started = time.perf_counter()
    ids = seed(random.Random(7))
    events = Event.objects.count()
    seeded = time.perf_counter() - seed_started
    settle()

    base_runs, runs, summary = [], [], {}
    for _ in range(ROUNDS):
        base_runs.append(timed(baseline))
        fresh(ids)
        runs.append(
            timed(lambda: summary.update(features_compute_all(chunk_size=CHUNK_SIZE, now=NOW)))
        )
    base_seconds, base_queries = statistics.median(t for t, _ in base_runs), base_runs[0][1]
    seconds, queries = statistics.median(t for t, _ in runs), runs[0][1]

    fresh(ids)
    tracemalloc.start()
    features_compute_all(chunk_size=CHUNK_SIZE, now=NOW)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    print(
        f"{VISITORS:,} visitors, {events:,} events on {connection.vendor} "
        f"(seeded in {seeded:.1f} s); chunks of {CHUNK_SIZE:,}; median of {ROUNDS} rounds"
    )
    print(
        f"computed {summary['computed']:,}, skipped for consent {summary['skipped_consent']:,}, "
        f"{summary['chunks']} chunks"
    )
    print(f"{'':34}  {'seconds':>8}  {'visitors/s':>10}  {'x baseline':>10}  {'queries':>7}")
    for label, secs, n in [
        ("aggregate GROUP BY baseline", base_seconds, base_queries),
        ("features_compute_all", seconds, queries),
    ]:
        print(
            f"{label:34}  {secs:8.3f}  {VISITORS / secs:10,.0f}  {secs / base_seconds:10.1f}  "
            f"{n:7d}"
        )
    ratios = sorted(f / b for (f, _), (b, _) in zip(runs, base_runs, strict=True))
    print(f"ratio per round: {', '.join(f'{r:.1f}' for r in ratios)}")
    print(f"peak traced memory of features_compute_all: {peak / 2**20:.1f} MiB")


if __name__ == "__main__":
    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        main()
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()

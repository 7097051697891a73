"""Insights rollups on 10 million impressions beside a plain GROUP BY; the dashboard at that size.

Run from the repository root: `scripts/with-services.sh .venv/bin/python benchmarks/run.py
insights` (PostgreSQL: the rows are made with `generate_series`, in SQL). Rows: 10M impressions
over 30 days (4 slots, 8 rules, 500 items, 200k visitors), a click for one impression in 33
(with its slot), a purchase for one click in 10, 50k holdout exposures.

Measured in the same run:
- the baseline: one plain `GROUP BY day, slot, rule, item` with `count(*)` over the impressions;
- `insights_compute` from nothing (every rollup: delivery by day and by hour for two days,
  attribution of clicks and purchases, audiences, the holdout), then the same rollups for the
  delivery alone, and an incremental run after 10,000 new impressions;
- the dashboard (`/admin/insights/`, 28 days) and the API summary: best response time, and
  their query counts here and on an empty database (they must be the same).
"""

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from datetime import timedelta

from django.db import connection
from django.test import Client
from django.utils import timezone
from support import best_of, test_database

IMPRESSIONS = int(os.environ.get("BENCH_INSIGHTS_IMPRESSIONS", 10_000_000))
SMALL = max(IMPRESSIONS // 100, 1000)  # the dashboard's query count is compared at this size
VISITORS, ITEMS, DAYS = 200_000, 500, 30


def _sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def seed_catalogue() -> list[int]:
    """Items, slots and rules, the holdout, visitors and their exposures; the rule ids."""
    from content.models import ContentItem, ContentKind, Slot, SlotRule
    from experiments.models import Experiment, Variation

    kind, _ = ContentKind.objects.get_or_create(key="product", defaults={"name": "Product"})
    ContentItem.objects.bulk_create(
        ContentItem(title=f"Item {n}", slug=f"item-{n}", external_id=f"i-{n}", kind=kind,
                    status=ContentItem.Status.PUBLISHED) for n in range(ITEMS)
    )  # fmt: skip
    slots = [Slot.objects.create(key=f"slot-{n}", name=f"Slot {n}") for n in range(4)]
    rules = [SlotRule.objects.create(slot=s, position=p, name=f"rule {p}")
             for s in slots for p in (1, 2)]  # fmt: skip
    experiment = Experiment.objects.create(key="holdout", name="Holdout", is_holdout=True)
    control = Variation.objects.create(experiment=experiment, position=0, key="off",
                                       is_control=True)  # fmt: skip
    treated = Variation.objects.create(experiment=experiment, position=1, key="on")
    now = timezone.now()
    _sql("INSERT INTO personalization_visitor (uid, traits, first_seen, last_seen, sessions) "
         "SELECT md5(g::text)::uuid, '{}', %s, %s, 1 FROM generate_series(1, %s) g",
         [now, now, VISITORS])  # fmt: skip
    _sql("INSERT INTO experiments_exposure (visitor_id, experiment_id, variation_id, exposed_at) "
         "SELECT id, %s, CASE WHEN id %% 10 < 3 THEN %s ELSE %s END, "
         "%s - (id %% 30) * interval '1 day' FROM personalization_visitor WHERE id %% 4 = 0",
         [experiment.pk, control.pk, treated.pk, now])  # fmt: skip
    return [r.pk for r in rules]


def seed_impressions(first: int, last: int, rule_ids: list[int]) -> None:
    """Impressions number `first` to `last` over 30 days, then clicks and purchases of them."""
    from content.models import ContentItem

    after = impressions_last()
    first_item = ContentItem.objects.order_by("pk").first().pk
    rules = "ARRAY[" + ",".join(str(r) for r in rule_ids) + "]"
    with bulk_load("personalization_impression"):
        _sql(
            "INSERT INTO personalization_impression (visitor_id, item_id, slot, shown_at, rule_id, "
            "reason, counts_for_cap) SELECT v.first + (g * 7919) %% %s, %s + (g * 31) %% %s, "
            "'slot-' || (g %% 4), %s - ((g * 7907) %% 2592000) * interval '1 second', "
            f"CASE WHEN g %% 10 = 0 THEN NULL ELSE ({rules})[1 + 2 * (g %% 4) + (g / 4) %% 2] END, "
            "CASE WHEN g %% 10 = 0 THEN 'holdout' ELSE 'rule' END, false "
            "FROM generate_series(%s::bigint, %s::bigint) g, "
            "(SELECT min(id) AS first FROM personalization_visitor) v",
            [VISITORS, first_item, ITEMS, timezone.now(), first, last],
        )  # fmt: skip
    _sql("INSERT INTO personalization_event (event_id, source, visitor_id, type, item_id, value, "
         "properties, context, occurred_at, received_at) "
         "SELECT 'c' || id, 'server', visitor_id, 'click', item_id, NULL, "
         "jsonb_build_object('slot', slot), '{}', shown_at + interval '1 minute', "
         "shown_at + interval '1 minute' FROM personalization_impression "
         "WHERE id > %s AND id %% 33 = 0", [after])  # fmt: skip
    _sql("INSERT INTO personalization_event (event_id, source, visitor_id, type, item_id, value, "
         "properties, context, occurred_at, received_at) "
         "SELECT 'p' || id, 'server', visitor_id, 'purchase', item_id, 10 + id %% 90, '{}', '{}', "
         "occurred_at + interval '1 hour', occurred_at + interval '1 hour' "
         "FROM personalization_event WHERE type = 'click' AND event_id LIKE 'c%%' "
         "AND substr(event_id, 2)::bigint > %s AND id %% 10 = 0", [after])  # fmt: skip
    _sql("ANALYZE")


@contextmanager
def bulk_load(table: str) -> Iterator[None]:
    """Load a table as a restore does: its secondary indexes built once at the end, no triggers.

    Inserting millions of rows into five B-trees one row at a time (and queueing a deferred
    foreign-key check per row) takes far longer than building the indexes afterwards.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                       "AND indexname NOT LIKE %s", [table, "%pkey"])  # fmt: skip
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = origin")
            for _, definition in indexes:
                cursor.execute(definition)


def impressions_last() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM personalization_impression")
        return cursor.fetchone()[0]


def baseline() -> float:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT date_trunc('day', shown_at), slot, rule_id, item_id, count(*) "
            "FROM personalization_impression GROUP BY 1, 2, 3, 4"
        )
        cursor.fetchall()
    return time.perf_counter() - started


def _count_queries(call) -> int:
    """Queries a call makes (CaptureQueriesContext loses them: a request resets the log)."""
    made = []

    def count(execute, sql, params, many, context):
        made.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        call()
    return len(made)


def dashboard(client: Client) -> dict[str, float]:
    """Cold (charts drawn) and warm response times, and query counts, of the page and the API."""
    from django.core.cache import cache

    for url in ("/admin/insights/", "/api/v1/insights/summary"):
        assert client.get(url).status_code == 200, url
    cache.clear()
    started = time.perf_counter()
    client.get("/admin/insights/")
    cold = time.perf_counter() - started
    return {
        "cold": cold,
        "page": best_of(lambda: client.get("/admin/insights/"), repeat=5),
        "api": best_of(lambda: client.get("/api/v1/insights/summary"), repeat=5),
        "page_queries": _count_queries(lambda: client.get("/admin/insights/")),
        "api_queries": _count_queries(lambda: client.get("/api/v1/insights/summary")),
    }


def main() -> None:
    from django.contrib.auth import get_user_model

    from insights import queries
    from insights.services import _day_bounds, insights_compute
    from personalization.visitors.models import Impression

    with test_database():
        client = Client()
        client.force_login(get_user_model().objects.create_superuser("bench", "b@x.io", "pw"))
        rules = seed_catalogue()
        seed_impressions(1, SMALL, rules)
        insights_compute()
        small = dashboard(client)
        started = time.perf_counter()
        seed_impressions(SMALL + 1, IMPRESSIONS, rules)
        print(f"seeded {IMPRESSIONS:,} impressions in {time.perf_counter() - started:.0f} s")
        base = min(baseline() for _ in range(2))
        started = time.perf_counter()
        result = insights_compute()  # every day is touched: all of it is computed again
        full = time.perf_counter() - started
        started = time.perf_counter()
        today = timezone.localdate()
        for n in range(DAYS + 1):
            start, end = _day_bounds(today - timedelta(days=n))
            queries.delivery_period_write(granularity="day", start=start, end=end)
        delivery = time.perf_counter() - started
        last = Impression.objects.order_by("-pk").first()
        Impression.objects.bulk_create(
            Impression(visitor_id=last.visitor_id, item_id=last.item_id, slot=last.slot,
                       shown_at=timezone.now(), rule_id=last.rule_id) for _ in range(10_000)
        )  # fmt: skip
        started = time.perf_counter()
        insights_compute()
        incremental = time.perf_counter() - started
        full_size = dashboard(client)
    print(f"{'measure':<58}{'seconds':>10}{'rows/s':>14}")
    print(
        f"{'baseline: plain GROUP BY day, slot, rule, item':<58}{base:>10.2f}"
        f"{IMPRESSIONS / base:>14,.0f}"
    )
    print(
        f"{'insights_compute, every day touched (all rollups)':<58}{full:>10.2f}"
        f"{IMPRESSIONS / full:>14,.0f}   ({result.days} days, {result.hours} hours)"
    )
    print(
        f"{'delivery rollup by day alone (recompute 31 days)':<58}{delivery:>10.2f}"
        f"{IMPRESSIONS / delivery:>14,.0f}"
    )
    print(f"{'incremental run after 10,000 new impressions':<58}{incremental:>10.2f}")
    print(
        f"full compute / GROUP BY: {full / base:.1f}x; delivery alone / GROUP BY: "
        f"{delivery / base:.1f}x"
    )
    print(
        f"dashboard /admin/insights/: {full_size['page'] * 1000:.0f} ms warm, "
        f"{full_size['cold'] * 1000:.0f} ms with charts drawn; {full_size['page_queries']} "
        f"queries ({small['page_queries']} at {SMALL:,} impressions, "
        f"{small['page'] * 1000:.0f} ms warm)"
    )
    print(
        f"API /api/v1/insights/summary: {full_size['api'] * 1000:.0f} ms, "
        f"{full_size['api_queries']} queries ({small['api_queries']} at {SMALL:,} impressions)"
    )


if __name__ == "__main__":
    main()

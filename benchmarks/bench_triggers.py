"""Triggers: ingest throughput with 20 active event triggers against none, and webhook sends.

Run from the repository root: `scripts/with-services.sh .venv/bin/python benchmarks/run.py
triggers`. It needs the Redis broker (`CELERY_BROKER_URL`) so that the ingest listener queues
its task as in production; the messages go to a queue of the benchmark's own, emptied at the end.

1. `events_ingest` (the events API's and `import_events`' service) in batches of 500: the same
   events, under fresh ids, with no trigger and with 20 active event triggers (add to cart,
   purchase, view; conditions on value and properties), interleaved, best of three each.
   Target: at least 0.9x the throughput without triggers.
2. Deliveries to a receiver on loopback, sent one after the other as one worker does
   (`sending.delivery_send`: claim, consent, circuit, rate, sign, POST, log, judge), against a
   bare urllib3 POST of the same body to the same receiver.
3. `firings_fire` for 500 visitors with one slot's blocks in the payload: firings per second.
"""

import os
import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from support import test_database

from config.celery import app as celery_app
from consent.services import consent_grant_bulk
from content.models import ContentItem, ContentKind, Slot
from personalization.triggers import sending
from personalization.triggers.models import Delivery, Trigger
from personalization.triggers.selectors import triggers_cache_bump
from personalization.triggers.services import (
    Firing,
    delivery_test_create,
    endpoint_create,
    firings_fire,
)
from personalization.visitors.events import events_ingest
from personalization.visitors.models import Visitor
from tests.webhook_receiver import Receiver

EVENTS = 10_000
BATCH = 500
VISITORS = 2_000
ITEMS = 200
DELIVERIES = 500
TYPES = ["view"] * 6 + ["click"] * 3 + ["add_to_cart", "purchase"]
QUEUE = "bench-triggers"
START = datetime(2026, 1, 1, tzinfo=UTC)


def audience() -> None:
    kind, _ = ContentKind.objects.get_or_create(key="product", defaults={"name": "Product"})
    ContentItem.objects.bulk_create(
        ContentItem(
            external_id=f"i{n}", title=f"Item {n}", slug=f"i{n}", kind=kind,
            url=f"https://shop.example.com/i{n}",
        )
        for n in range(ITEMS)
    )  # fmt: skip
    Visitor.objects.bulk_create(Visitor(external_id=f"v{n}") for n in range(VISITORS))
    consent_grant_bulk(
        visitor_ids=Visitor.objects.values_list("pk", flat=True),
        purposes=["analytics", "personalization", "marketing"],
    )


def events(prefix: str) -> list[dict]:
    rng = random.Random(42)
    rows = []
    for n in range(EVENTS):
        kind = rng.choice(TYPES)
        rows.append({
            "event_id": f"{prefix}-{n}", "visitor_id": f"v{rng.randrange(VISITORS)}",
            "type": kind, "item_id": f"i{rng.randrange(ITEMS)}",
            "value": Decimal(rng.randint(5, 300)) if kind in ("purchase", "add_to_cart") else None,
            "properties": {"page": rng.choice(["home", "item", "tag"])},
            "occurred_at": START + timedelta(seconds=n),
        })  # fmt: skip
    return rows


def twenty_triggers(endpoint) -> None:
    specs = [("add_to_cart", {"value": {"$gte": 20 * n}}) for n in range(10)]
    specs += [("purchase", {"value": {"$gt": 100 + n}}) for n in range(5)]
    specs += [("view", {"properties.page": {"$in": ["item", f"p{n}"]}}) for n in range(5)]
    for n, (kind, condition) in enumerate(specs):
        trigger = Trigger.objects.create(
            key=f"t{n}", name=f"T{n}", kind=Trigger.Kind.EVENT, event_type=kind,
            condition=condition, cooldown_seconds=3600,
        )  # fmt: skip
        trigger.endpoints.set([endpoint])
    triggers_cache_bump()


def ingest_rate(prefix: str) -> float:
    rows = events(prefix)
    started = time.perf_counter()
    for start in range(0, len(rows), BATCH):
        events_ingest(events=rows[start : start + BATCH], visitor=None, source="import")
    return EVENTS / (time.perf_counter() - started)


def ingest(endpoint) -> tuple[float, float, int]:
    without, with_triggers = [], []
    for round_ in range(3):
        Trigger.objects.all().delete()
        triggers_cache_bump()
        without.append(ingest_rate(f"none{round_}"))
        twenty_triggers(endpoint)
        with_triggers.append(ingest_rate(f"twenty{round_}"))
    queued = celery_app.connection_for_write().default_channel.client.llen(QUEUE)
    return max(without), max(with_triggers), queued


def sends(endpoint, receiver: Receiver) -> tuple[float, float]:
    deliveries = [delivery_test_create(endpoint=endpoint) for _ in range(DELIVERIES)]
    now = datetime.now(UTC) + timedelta(seconds=1)
    started = time.perf_counter()
    for delivery in deliveries:
        sending.delivery_send(delivery_id=delivery.pk, now=now)
    tailor = DELIVERIES / (time.perf_counter() - started)
    sent = Delivery.objects.filter(status=Delivery.Status.SUCCEEDED).count()
    if sent != DELIVERIES:
        raise SystemExit(f"only {sent} of {DELIVERIES} deliveries succeeded")
    import urllib3

    pool = urllib3.HTTPConnectionPool("127.0.0.1", receiver.port, retries=False)
    body = deliveries[0].body.encode()
    started = time.perf_counter()
    for _ in range(DELIVERIES):
        pool.urlopen("POST", "/hooks/tailor", body=body, headers={"webhook-id": "bare"})
    return tailor, DELIVERIES / (time.perf_counter() - started)


def fire_rate(endpoint) -> float:
    slot = Slot.objects.create(key="win-back", name="Win back")
    slot.default_items.set(ContentItem.objects.all()[:1])
    trigger = Trigger.objects.create(key="fire", name="Fire", kind=Trigger.Kind.EVENT,
                                     event_type="bench")  # fmt: skip
    trigger.endpoints.set([endpoint])
    trigger.slots.set([slot])
    triggers_cache_bump()
    ids = list(Visitor.objects.values_list("pk", flat=True)[:DELIVERIES])
    started = time.perf_counter()
    made = firings_fire(firings=[Firing(trigger.pk, pk, {"n": pk}) for pk in ids])
    seconds = time.perf_counter() - started
    assert len(made) == len(ids), made
    return len(ids) / seconds


def main() -> None:
    if not os.environ.get("CELERY_BROKER_URL"):
        raise SystemExit("needs CELERY_BROKER_URL (scripts/with-services.sh gives one)")
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = QUEUE
    receiver = Receiver().start()
    try:
        audience()
        endpoint, _ = endpoint_create(name="bench", url=receiver.url, rate_per_second=100_000)
        without, with_triggers, queued = ingest(endpoint)
        tailor, bare = sends(endpoint, receiver)
        firings = fire_rate(endpoint)
    finally:
        receiver.stop()
        celery_app.connection_for_write().default_channel.client.delete(QUEUE)
    print(f"{EVENTS:,} events in batches of {BATCH} per run, best of three, interleaved")
    print(f"ingest, no trigger              {without:9,.0f} events/s")
    print(f"ingest, 20 active event triggers{with_triggers:9,.0f} events/s  "
          f"{with_triggers / without:.2f}x  ({queued} match tasks queued)")  # fmt: skip
    print(f"deliveries, Tailor (one worker) {tailor:9,.0f} /s")
    print(f"bare urllib3 POST, same body    {bare:9,.0f} /s  Tailor {tailor / bare:.2f}x")
    print(f"firings with a 1-slot block     {firings:9,.0f} /s ({DELIVERIES} visitors)")


if __name__ == "__main__":
    with test_database():
        main()

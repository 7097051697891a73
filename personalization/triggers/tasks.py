"""Thin Celery tasks for triggers and webhook deliveries; the work lives in this package.

Import this module from `personalization/tasks.py` (Celery discovers only `tasks.py`). Tasks a
task queues go to the queue it came from (`config.tasking.child_options`), so a worker set
apart for webhooks keeps them.
"""

from typing import Any

from celery import current_task, shared_task
from django.utils import timezone

from config.tasking import RETRIES, child_options
from personalization.triggers import detection, sending, services
from personalization.triggers.selectors import deliveries_due
from personalization.triggers.services import Firing

FIRE_BATCH = 500
DUE_BATCH = 1000
# Retries sooner than this ride on a countdown; later ones wait for the periodic sweep (a
# long countdown would sit in a worker's memory and, on Redis, outlive the visibility timeout).
COUNTDOWN_LIMIT = 60.0


def queue_options() -> dict[str, str]:
    """Where tasks queued now should go: the current task's queue, when inside one."""
    request = getattr(current_task, "request", None)
    return child_options(request) if request is not None and request.id else {}


def deliveries_queue(delivery_ids: list[int]) -> None:
    options = queue_options()
    for pk in delivery_ids:
        webhook_deliver.apply_async(kwargs={"delivery_id": pk}, **options)


def firings_queue(firings: list[Firing]) -> None:
    """Hand firings to workers in batches (cooldown, consent and deliveries happen there)."""
    options = queue_options()
    for start in range(0, len(firings), FIRE_BATCH):
        batch = [f.as_task() for f in firings[start : start + FIRE_BATCH]]
        triggers_fire.apply_async(kwargs={"firings": batch}, **options)


@shared_task(name="tailor.triggers_events_match", **RETRIES)
def triggers_events_match(*, source: str, event_ids: list[str]) -> dict[str, Any]:
    """Evaluate event triggers on stored events (queued by the ingest listener)."""
    firings = detection.events_detect(source=source, event_ids=event_ids)
    delivery_ids = services.firings_fire(firings=firings)
    deliveries_queue(delivery_ids)
    return {"events": len(event_ids), "fired": len(firings), "deliveries": len(delivery_ids)}


@shared_task(name="tailor.triggers_fire", **RETRIES)
def triggers_fire(*, firings: list[list[Any]]) -> dict[str, int]:
    """Fire what detection found (segments, scores): cooldown, consent, then deliveries."""
    delivery_ids = services.firings_fire(firings=[Firing.from_task(f) for f in firings])
    deliveries_queue(delivery_ids)
    return {"firings": len(firings), "deliveries": len(delivery_ids)}


@shared_task(name="tailor.triggers_watches_due", **RETRIES)
def triggers_watches_due() -> dict[str, int]:
    """Fire not-followed triggers whose wait is over (periodic, every minute)."""
    now = timezone.now()
    checked = fired = 0
    while True:
        firings, taken = detection.watches_due(now=now, limit=DUE_BATCH)
        checked += taken
        delivery_ids = services.firings_fire(firings=firings, now=now)
        fired += len(delivery_ids)
        deliveries_queue(delivery_ids)
        if taken < DUE_BATCH:
            return {"checked": checked, "deliveries": fired}


@shared_task(bind=True, name="tailor.webhook_deliver", **RETRIES)
def webhook_deliver(self, *, delivery_id: int) -> dict[str, Any]:
    """Send one delivery; a soon retry is queued here, a later one waits for the sweep."""
    outcome = sending.delivery_send(delivery_id=delivery_id)
    if outcome is None:
        return {"delivery": delivery_id, "skipped": "not due, or another worker has it"}
    retry_in = outcome.retry_in
    if retry_in is not None and retry_in <= COUNTDOWN_LIMIT and not self.request.is_eager:
        webhook_deliver.apply_async(
            kwargs={"delivery_id": delivery_id}, countdown=retry_in,
            **child_options(self.request),
        )  # fmt: skip
    return {"delivery": delivery_id, "status": outcome.status, "retry_in": retry_in}


@shared_task(name="tailor.webhook_deliveries_due", **RETRIES)
def webhook_deliveries_due() -> dict[str, int]:
    """Queue every delivery that is due (periodic): retries, lost claims; expire old logs."""
    ids = deliveries_due(now=timezone.now(), limit=DUE_BATCH)
    deliveries_queue(ids)
    return {"queued": len(ids), "expired": services.deliveries_expire()}

"""Thin Celery tasks for visitors' events: retention and the monthly partitions."""

from celery import shared_task
from django.utils import timezone

from config.tasking import RETRIES
from personalization.visitors import partitions, retention


@shared_task(name="tailor.delete_expired_events", **RETRIES)
def delete_expired_events() -> int:
    """Delete events past EVENT_RETENTION_DAYS (whole months where partitioned); how many went."""
    return retention.events_delete_expired()


@shared_task(name="tailor.maintain_event_partitions", **RETRIES)
def maintain_event_partitions() -> list[str]:
    """Create the coming months' event partitions and move early or late events into theirs."""
    return partitions.event_partitions_maintain(now=timezone.now())

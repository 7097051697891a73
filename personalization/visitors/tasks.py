"""Thin Celery tasks for visitors' events: retention."""

from celery import shared_task

from config.tasking import RETRIES
from personalization.visitors import retention


@shared_task(name="tailor.delete_expired_events", **RETRIES)
def delete_expired_events() -> int:
    """Delete events past EVENT_RETENTION_DAYS in batches; returns how many went."""
    return retention.events_delete_expired()

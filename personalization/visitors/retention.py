"""Deleting events past their retention period (EVENT_RETENTION_DAYS).

Cost: one indexed select of at most `batch_size` ids and one delete by id per batch, each in its
own short transaction, so locks stay short and memory holds one batch of ids whatever the table
holds; the number of queries grows with expired rows / `batch_size`.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from personalization.visitors.models import Event
from personalization.visitors.snapshots import snapshots_invalidate_all


def events_delete_expired(*, now: datetime | None = None, batch_size: int = 10_000) -> int:
    """Delete events that occurred more than EVENT_RETENTION_DAYS before `now`; returns how many."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    cutoff = (now or timezone.now()) - timedelta(days=settings.EVENT_RETENTION_DAYS)
    expired = Event.objects.filter(occurred_at__lt=cutoff).order_by()
    deleted = 0
    while True:
        ids = list(expired.values_list("pk", flat=True)[:batch_size])
        if not ids:
            if deleted:
                snapshots_invalidate_all()  # snapshots hold interactions from these events
            return deleted
        count, _ = Event.objects.filter(pk__in=ids).delete()
        deleted += count

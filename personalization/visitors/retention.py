"""Deleting events past their retention period (EVENT_RETENTION_DAYS).

On PostgreSQL whole months older than the cutoff are dropped as partitions
(`partitions.event_partitions_drop_before`): a statement per month whatever it holds, plus one
set-based delete of their narrow idempotency keys. What is left past the cutoff (the month that
straddles it, and the DEFAULT partition; on SQLite, everything) is deleted row-wise: one indexed
select of at most `batch_size` ids and one delete by id per batch, each in its own short
transaction, so locks stay short and memory holds one batch of ids whatever the table holds;
the number of those queries grows with the expired rows outside dropped months / `batch_size`.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from personalization.visitors.models import Event
from personalization.visitors.partitions import event_partitions_drop_before
from personalization.visitors.snapshots import snapshots_invalidate_all


def events_delete_expired(*, now: datetime | None = None, batch_size: int = 10_000) -> int:
    """Delete events that occurred more than EVENT_RETENTION_DAYS before `now`; returns how many."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    cutoff = (now or timezone.now()) - timedelta(days=settings.EVENT_RETENTION_DAYS)
    return events_delete_before(cutoff, batch_size=batch_size)


def events_delete_before(cutoff: datetime, *, batch_size: int = 10_000) -> int:
    """Delete events that occurred before `cutoff`: whole months first; returns how many."""
    deleted = event_partitions_drop_before(cutoff)
    expired = Event.objects.filter(occurred_at__lt=cutoff).order_by()
    while True:
        ids = list(expired.values_list("pk", flat=True)[:batch_size])
        if not ids:
            if deleted:
                snapshots_invalidate_all()  # snapshots hold interactions from these events
            return deleted
        # The time bound keeps the delete to the months that can hold these ids.
        count, _ = Event.objects.filter(occurred_at__lt=cutoff, pk__in=ids).delete()
        deleted += count

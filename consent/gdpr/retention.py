"""Per-purpose retention: data kept for a purpose is deleted once older than its retention.

Registered models name the purposes their rows serve and the timestamp that ages them (events:
analytics, by `occurred_at`; features: personalization, by `computed_at`). A row serving several
purposes is kept as long as the longest of their retention periods. Cost: per batch one indexed
select of at most `batch_size` pks and one delete, each in its own short transaction; memory
holds one batch of pks. A model may bring its own way to expire rows (`expirer`: events on
PostgreSQL drop whole months).
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from consent.models import Purpose
from consent.registry import declarations

RETENTION_BATCH_SIZE = 5_000


def consent_retention_apply(
    *, now: datetime | None = None, batch_size: int = RETENTION_BATCH_SIZE
) -> dict[str, int]:
    """Delete rows past their purposes' retention; returns rows deleted per model."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    now = now or timezone.now()
    retention = dict(
        Purpose.objects.filter(retention_days__isnull=False).values_list("key", "retention_days")
    )
    deleted: dict[str, int] = {}
    for declaration in declarations():
        days = [retention[key] for key in declaration.purposes if key in retention]
        if not declaration.retention_field or not days:
            continue
        model = declaration.model
        cutoff = now - timedelta(days=max(days))
        if declaration.expirer is not None:
            deleted[model._meta.label] = declaration.expirer(cutoff)
            continue
        expired = model._base_manager.filter(
            **{f"{declaration.retention_field}__lt": cutoff}
        ).order_by()
        label = model._meta.label
        deleted[label] = 0
        while pks := list(expired.values_list("pk", flat=True)[:batch_size]):
            with transaction.atomic():
                _, per_model = model._base_manager.filter(pk__in=pks).delete()
            deleted[label] += per_model.get(label, 0)
    return deleted

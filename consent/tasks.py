"""Thin Celery tasks for erasure, retention and withdrawal; the work lives in `consent.gdpr`."""

from celery import shared_task

from config.tasking import RETRIES
from consent.gdpr import erase, retention, withdrawal


@shared_task(name="tailor.erase_subject", **RETRIES)
def erase_subject(*, request_id: int, batch_size: int | None = None) -> dict[str, int]:
    """Erase an erasure request's subject; a retry finishes what a crashed run left. Idempotent.

    Takes and returns no identifier, so the broker and result backend never hold one.
    """
    return erase.subject_erase(request_id=request_id, batch_size=batch_size)


@shared_task(name="tailor.apply_consent_retention", **RETRIES)
def apply_consent_retention() -> dict[str, int]:
    """Delete data kept for each purpose past that purpose's retention; rows per model."""
    return retention.consent_retention_apply()


@shared_task(name="tailor.purge_withdrawn_data", **RETRIES)
def purge_withdrawn_data(*, visitor_id: int) -> dict[str, int]:
    """Delete what the visitor's withdrawn purposes no longer allow keeping; rows per model."""
    return withdrawal.withdrawn_data_purge(visitor_id=visitor_id)

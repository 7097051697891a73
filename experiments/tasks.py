"""Thin Celery tasks of experiments; the work lives in `experiments.bandits`."""

from celery import shared_task
from django.db import OperationalError

from experiments import bandits


@shared_task(
    name="tailor.update_bandits", acks_late=True, autoretry_for=(OperationalError,),
    retry_backoff=True, max_retries=5,
)  # fmt: skip
def update_bandits() -> dict[str, int]:
    """Move each running bandit's traffic towards its best variations (Thompson sampling)."""
    return bandits.bandits_update_all()

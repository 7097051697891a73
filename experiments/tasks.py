"""Thin Celery tasks of experiments; the work lives in `experiments.bandits`."""

from celery import shared_task

from config.tasking import RETRIES
from experiments import bandits


@shared_task(name="tailor.update_bandits", **RETRIES)
def update_bandits() -> dict[str, int]:
    """Move each running bandit's traffic towards its best variations (Thompson sampling)."""
    return bandits.bandits_update_all()

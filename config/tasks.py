"""Tasks that belong to no single app: worker liveness and housekeeping."""

from celery import shared_task
from django.contrib.sessions.models import Session
from django.db import OperationalError
from django.utils import timezone

from config import runs


@shared_task(name="tailor.ping")
def ping() -> str:
    """Answer "pong": operators and tests use it to see a worker take and finish a task."""
    return "pong"


@shared_task(
    name="tailor.clear_expired_sessions",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def clear_expired_sessions() -> int:
    """Delete expired login sessions; returns how many rows went."""
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@shared_task(
    name="tailor.reap_stale_runs",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
)
def reap_stale_runs() -> dict[str, list[int]]:
    """Fail runs whose worker was lost (no heartbeat) and start them again (idempotent)."""
    return runs.runs_reap()

"""What every app's Celery tasks share: their retry options and how a dispatcher fans out."""

from typing import Any

from celery import Celery
from celery.backends.base import DisabledBackend
from celery.signals import task_postrun, task_prerun, task_retry
from django.db import OperationalError

from config import metrics
from config.logs import request_id_set

# Late acks (a task lost with its worker runs again) and retries on transient database errors:
# every task is idempotent, so running one twice is safe.
RETRIES: dict[str, Any] = {
    "acks_late": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": 5,
}


def child_options(request: Any) -> dict[str, str]:
    """Options that keep a dispatcher's child tasks on its own queue.

    A worker set apart for batch work (its own queue) then keeps the chunks it dispatches.
    """
    queue = (request.delivery_info or {}).get("routing_key")
    return {"queue": queue} if queue else {}


def results_kept(app: Celery) -> bool:
    """Whether the app has a result backend: chords need one to know when a group is done."""
    return not isinstance(app.backend, DisabledBackend)


@task_retry.connect(weak=False, dispatch_uid="tailor.task_retry_counted")
def task_retry_counted(sender: Any = None, **kwargs: Any) -> None:
    """Count retries per task name for /metrics (`tailor_task_retries_total`)."""
    metrics.task_retried(getattr(sender, "name", "unknown"))


@task_prerun.connect(weak=False, dispatch_uid="tailor.task_log_id")
def task_log_id(task_id: str | None = None, **kwargs: Any) -> None:
    """Lines a task logs carry its id where a request's lines carry the request id."""
    request_id_set(task_id or "")


@task_postrun.connect(weak=False, dispatch_uid="tailor.task_log_id_clear")
def task_log_id_clear(**kwargs: Any) -> None:
    request_id_set("")

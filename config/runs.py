"""Leases on batch runs: heartbeats while a run works, a reaper for runs whose worker died.

A run (features, segments, clusters, recommendations) is worked on by Celery tasks: a
dispatcher, then chunks. Tasks are acknowledged late, but a worker killed mid-task (`kill -9`,
the out-of-memory killer, a lost machine) leaves its message invisible on Redis until the
broker's visibility timeout, and nothing else would ever mark the run failed. So:

- every run model inherits `LeasedRun`: `heartbeat_at` is refreshed by a `Heartbeat` thread
  while a task works on the run (every quarter of `TAILOR_RUN_STALE_SECONDS`) and when a chunk
  finishes; `chunks_finished` makes a chunk counted once however often it runs;
- `runs_reap` (the periodic task `tailor.reap_stale_runs`, every minute) marks failed every
  active run whose heartbeat is older than `TAILOR_RUN_STALE_SECONDS`, and starts it again with
  the same options (a new run, `retry_of` the old one) while it has had fewer than
  `TAILOR_RUN_MAX_ATTEMPTS` attempts. It locks the runs it reaps and skips locked ones, so
  two reapers never reap or retry a run twice.

Chunks of a run that was reaped find it failed and do nothing; a dispatcher whose message is
delivered again after its run was reaped does nothing either. Each package registers its kind
of run (`run_kind_register`) from `AppConfig.ready()`: the kernel imports no app.
"""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, models, transaction
from django.utils import timezone

from config import metrics

logger = logging.getLogger(__name__)


class LeasedRun(models.Model):
    """The lease fields every kind of run shares (an abstract model)."""

    heartbeat_at = models.DateTimeField(
        default=timezone.now, help_text="Last sign of life of the task working on the run."
    )
    attempt = models.PositiveSmallIntegerField(default=1)
    retry_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The run this one starts again after its worker was lost.",
    )  # fmt: skip
    task_options = models.JSONField(
        default=dict, blank=True, editable=False,
        help_text="What the dispatching task was asked, its id and queue: to start it again.",
    )  # fmt: skip
    chunks_finished = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        abstract = True


@dataclass(frozen=True)
class RunKind:
    """How the reaper finds a kind of run, fails it and starts it again."""

    name: str
    model: type[models.Model]
    active: tuple[str, ...]  # statuses of a run a task is working on
    fail: Callable[[int, str], object]  # (run id, error) → marks the run failed
    retry: Callable[[Any], object]  # (failed run) → queues a new run with its options


_kinds: dict[str, RunKind] = {}


def run_kind_register(kind: RunKind) -> None:
    """Have `runs_reap` watch this kind of run (idempotent)."""
    _kinds[kind.name] = kind


def run_kinds() -> dict[str, RunKind]:
    """Every registered kind of run by name, in the order they were registered."""
    return dict(_kinds)


def stale_seconds() -> float:
    return float(settings.TAILOR_RUN_STALE_SECONDS)


def heartbeat(model: type[models.Model], run_id: int) -> None:
    """Note that a task is working on the run now."""
    model.objects.filter(pk=run_id).update(heartbeat_at=timezone.now())


class Heartbeat:
    """Refresh a run's heartbeat from a thread while the block runs (a context manager).

    The thread dies with its process, which is the point: a killed worker stops beating. A
    heartbeat that cannot be written (the database is away) is logged and tried next time.
    """

    def __init__(self, model: type[models.Model], run_id: int) -> None:
        self.model, self.run_id = model, run_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True, name="run-heartbeat")

    def __enter__(self) -> "Heartbeat":
        heartbeat(self.model, self.run_id)
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        try:
            while not self._stop.wait(max(0.2, stale_seconds() / 4)):
                try:
                    heartbeat(self.model, self.run_id)
                except DatabaseError as exc:
                    name = self.model.__name__
                    logger.warning("Heartbeat of %s %s failed: %s", name, self.run_id, exc)
        finally:
            connection.close()  # this thread's own connection


def chunk_finish(
    model: type[models.Model], run_id: int, chunk: int | None, **counts: int
) -> tuple[bool, bool]:
    """Count a finished chunk once: (first time it was counted, every chunk is now counted).

    `counts` are added to the run's fields of those names the first time only. Call it inside
    the transaction that writes the chunk's results, so that both happen or neither. A chunk
    without an index (a message queued before chunks had one) is counted every time.
    """
    with transaction.atomic():
        run = model.objects.select_for_update().get(pk=run_id)
        done = list(run.chunks_finished)
        first = chunk is None or chunk not in done
        if first:
            if chunk is not None:
                done.append(chunk)
            run.chunks_finished = done
            run.chunks_done += 1
            for field, value in counts.items():
                setattr(run, field, getattr(run, field) + value)
        run.heartbeat_at = timezone.now()
        run.save(update_fields=["chunks_finished", "chunks_done", "heartbeat_at", *counts])
    return first, run.chunks_done >= run.chunks_total


def retry_options(run: Any) -> dict[str, Any]:
    """The options to queue a run's dispatcher again with, and the queue to put it on."""
    options = dict(run.task_options)
    queue = options.pop("queue", None)
    options.pop("delivery", None)
    return {"kwargs": {**options, "retry_of": run.pk}, **({"queue": queue} if queue else {})}


def attempt_of(model: type[models.Model], retry_of: int | None) -> tuple[int, int | None]:
    """The attempt number of a run that starts `retry_of` again (1 for a first run)."""
    if retry_of is None:
        return 1, None
    previous = model.objects.filter(pk=retry_of).values_list("attempt", flat=True).first()
    return (previous or 0) + 1, retry_of if previous is not None else None


def delivery(request: Any) -> str:
    """Which delivery of a task message this is: its id and retry number. A message delivered
    again after its worker was lost has the same; a Celery retry of a failed try does not."""
    return f"{request.id}#{request.retries or 0}"


def delivered_before(model: type[models.Model], request: Any) -> int | None:
    """The run this very delivery of a dispatching task already started (its message came
    back after its worker was lost): the reaper restarts that run, the message does nothing."""
    if not request.id:
        return None
    runs = model.objects.filter(task_options__delivery=delivery(request))
    return runs.values_list("pk", flat=True).first()


def runs_reap(*, now: datetime | None = None) -> dict[str, list[int]]:
    """Fail every active run without a heartbeat for `TAILOR_RUN_STALE_SECONDS`, and retry it.

    Idempotent; returns the ids reaped per kind.
    """
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=stale_seconds())
    reaped: dict[str, list[int]] = {}
    for kind in list(_kinds.values()):
        with transaction.atomic():
            stale = list(
                kind.model.objects.select_for_update(skip_locked=True)
                .filter(status__in=kind.active, heartbeat_at__lt=stale_before)
                .order_by("pk")
            )
            for run in stale:
                _reap(kind, run)
        if stale:
            reaped[kind.name] = [run.pk for run in stale]
    return reaped


def _reap(kind: RunKind, run: Any) -> None:
    seen = timezone.localtime(run.heartbeat_at).isoformat(timespec="seconds")
    retried = run.attempt < int(settings.TAILOR_RUN_MAX_ATTEMPTS)
    error = f"its worker was lost: no heartbeat since {seen}" + (
        f"; started again (attempt {run.attempt + 1})" if retried else "; out of attempts"
    )
    kind.fail(run.pk, error)
    metrics.run_ended(kind.name, "reaped")
    logger.error("%s run %s failed: %s", kind.name, run.pk, error)
    if retried:
        transaction.on_commit(lambda: kind.retry(run))


# Runs that are only chunks (features, segments): statuses running → finished | failed.
RUNNING, FINISHED, FAILED = "running", "finished", "failed"


def chunked_run_start(
    model: type[models.Model],
    *,
    chunks: int,
    visitors: int,
    options: dict[str, Any],
    retry_of: int | None = None,
) -> Any:
    """A running run of `chunks` chunks, attempt numbered after the run it starts again."""
    attempt, retry_of = attempt_of(model, retry_of)
    return model.objects.create(
        chunks_total=chunks, visitors=visitors, task_options=options, attempt=attempt,
        retry_of_id=retry_of,
    )  # fmt: skip


def chunked_run_work(
    model: type[models.Model], run_id: int, chunk: int | None, work: Callable[[], dict[str, Any]]
) -> tuple[dict[str, Any], bool]:
    """Do one chunk's work under the run's heartbeat and count it: (summary, run complete).

    A chunk of a run that is no longer running (failed: its worker was lost) does nothing.
    The run is complete when this chunk counted the last one for the first time.
    """
    status = model.objects.filter(pk=run_id).values_list("status", flat=True).first()
    if status != RUNNING:
        return {"skipped": status}, False
    with Heartbeat(model, run_id):
        summary = work()
        first, last = chunk_finish(model, run_id, chunk)
    return summary, first and last


def chunked_run_finish(model: type[models.Model], run_id: int, *, kind: str) -> bool:
    """Mark a running run finished; False when it was not running any more."""
    now = timezone.now()
    with transaction.atomic():
        run = model.objects.select_for_update().filter(pk=run_id, status=RUNNING).first()
        if run is None:
            return False
        run.status, run.finished_at = FINISHED, now
        run.duration_seconds = round((now - run.started_at).total_seconds(), 3)
        run.save(update_fields=["status", "finished_at", "duration_seconds"])
    metrics.run_ended(kind, FINISHED, run.duration_seconds)
    return True


def chunked_run_fail(model: type[models.Model], run_id: int, error: str, *, kind: str) -> None:
    """Mark a running run failed with the reason (idempotent)."""
    failed = model.objects.filter(pk=run_id, status=RUNNING).update(
        status=FAILED, error=error[:2000], finished_at=timezone.now()
    )
    if failed:
        metrics.run_ended(kind, FAILED)


def scored_run_finish(
    run: Any, *, kind: str, force: bool, make_current: Callable[..., None]
) -> bool:
    """Mark a locked, scored run finished and serve it unless it scores worse than the current
    run of its model (or `force`); True when it was made current.

    "Worse" is a lower score; a run without a score never beats a current run that has one.
    Call it inside the transaction that locked `run`.
    """
    run.status = type(run).Status.FINISHED
    run.finished_at = timezone.now()
    run.duration_seconds = round((run.finished_at - run.started_at).total_seconds(), 3)
    current = type(run).objects.filter(is_current=True).exclude(pk=run.pk).first()
    better = current is None or (
        run.score is not None and (current.score is None or run.score >= current.score)
    )
    run.save()
    metrics.run_ended(kind, FINISHED, run.duration_seconds)
    if force or better:
        make_current(run=run, forced=force and not better)
        return True
    logger.info("%s run %s scored %s, worse than current %s", kind, run.pk, run.score, current)
    return False

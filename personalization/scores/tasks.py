"""Thin Celery tasks for scores; the work lives in this package's `services`.

Import this module from `personalization/tasks.py` (Celery discovers only `tasks.py`).
"""

from typing import Any

from celery import chord, group, shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from config.runs import delivered_before, delivery, retry_options
from config.tasking import RETRIES, child_options, results_kept
from personalization.scores import services as scores
from personalization.scores.models import ScoreRun


@shared_task(bind=True, name="tailor.compute_scores", **RETRIES)
def compute_scores(
    self, *, chunk_size: int = 2000, force: bool = False, seed: int = 0,
    retry_of: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Train the score models once here, then score visitors in chunks across workers.

    On a worker the chunks go out as a chord of `compute_scores_chunk` tasks on this task's
    own queue and `finish_scores` decides whether the run becomes current (without a result
    backend, a group whose last chunk finishes the run). Eagerly, it all runs inline. Cost of
    dispatching: the training (see `services`), then visitors / chunk_size messages.
    """
    started = delivered_before(ScoreRun, self.request)
    if started is not None:
        return {"run": started, "skipped": "this message was delivered before"}
    options = child_options(self.request)
    asked = {"chunk_size": chunk_size, "force": force, "seed": seed,
             "delivery": delivery(self.request), **options}  # fmt: skip
    if self.request.is_eager:
        return scores.scores_compute_all(
            chunk_size=chunk_size, force=force, seed=seed, options=asked, retry_of=retry_of
        )
    now = timezone.now()
    run = scores.score_run_create(
        horizon=scores.horizon_days(), seed=seed, options=asked, retry_of=retry_of
    )
    ids = scores.scored_visitor_ids(chunk_size=chunk_size)
    scores.score_run_train(run=run, visitor_ids=ids, now=now, chunk_size=chunk_size)
    unfinished = not results_kept(self.app)
    header = [
        compute_scores_chunk.s(
            run_id=run.pk, visitor_ids=ids[start : start + chunk_size], now=now.isoformat(),
            chunk=start // chunk_size, finish=force if unfinished else None,
        ).set(**options)
        for start in range(0, len(ids), chunk_size)
    ]  # fmt: skip
    finish = finish_scores.si(run_id=run.pk, force=force).set(**options)
    if not header:
        result = finish.apply_async()
    elif unfinished:
        result = group(header).apply_async()
    else:
        result = chord(header)(finish.on_error(fail_scores.si(run_id=run.pk)))
    return {"run": run.pk, "chunks": len(header), "visitors": len(ids), "group_id": result.id}


@shared_task(name="tailor.compute_scores_chunk", **RETRIES)
def compute_scores_chunk(
    *, run_id: int, visitor_ids: list[int], now: str, chunk: int | None = None,
    finish: bool | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Score and store one chunk of visitors with the run's models (idempotent)."""
    summary = scores.scores_chunk_score(
        run_id=run_id, visitor_ids=visitor_ids, now=parse_datetime(now), chunk=chunk
    )
    if finish is not None and summary["last"]:
        scores.score_run_finish(run_id=run_id, force=finish)
    return summary


@shared_task(name="tailor.refresh_visitor_scores", **RETRIES)
def refresh_visitor_scores(*, visitor_id: int) -> int:
    """Score one visitor again with the current run (after a profile merge)."""
    return scores.visitor_scores_refresh(visitor_id=visitor_id)


@shared_task(name="tailor.finish_scores", **RETRIES)
def finish_scores(*, run_id: int, force: bool = False) -> dict[str, Any]:
    """Finish the run: current unless it scores worse than the current run (or forced)."""
    run = scores.score_run_finish(run_id=run_id, force=force)
    return {"run": run.pk, "current": run.is_current, "score": run.score}


@shared_task(name="tailor.fail_scores", **RETRIES)
def fail_scores(*, run_id: int) -> None:
    """Mark the run failed after one of its chunks failed for good (it is never served)."""
    scores.score_run_fail(run_id=run_id, error="a chunk of visitors failed: see the worker's log")


def scores_retry(run: ScoreRun) -> None:
    """Start a run whose worker was lost again, with the options it was started with."""
    compute_scores.apply_async(**retry_options(run))

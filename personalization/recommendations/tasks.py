"""Thin Celery tasks for recommendations; the work lives in this package's `services`.

Import this module from `personalization/tasks.py` (Celery discovers only `tasks.py`).
"""

from typing import Any

from celery import chord, group, shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from config.runs import delivered_before, delivery, retry_options
from config.tasking import RETRIES, child_options, results_kept
from personalization.recommendations import services as recommendations
from personalization.recommendations.models import ModelRun


@shared_task(bind=True, name="tailor.compute_recommendations", **RETRIES)
def compute_recommendations(
    self, *, chunk_size: int = 2000, force: bool = False, retry_of: int | None = None
) -> dict[str, Any]:
    """Train the recommenders once here, then score visitors in chunks across workers.

    On a worker the chunks go out as a chord of `compute_recommendations_chunk` tasks on this
    task's own queue, and `finish_recommendations` decides whether the run becomes current once
    they are all done (without a result backend, a plain group whose last chunk to complete
    finishes the run). Run eagerly, it all runs inline. Cost of dispatching: the training (see
    the service), then visitors with history / chunk_size messages of chunk_size ids each.
    `retry_of` names the run this one starts again (`config.runs`).
    """
    started = delivered_before(ModelRun, self.request)
    if started is not None:
        return {"run": started, "skipped": "this message was delivered before"}
    options = child_options(self.request)
    asked = {
        "chunk_size": chunk_size,
        "force": force,
        "delivery": delivery(self.request),
        **options,
    }
    if self.request.is_eager:
        return recommendations.recommendations_compute_all(
            chunk_size=chunk_size, force=force, options=asked, retry_of=retry_of
        )
    now = timezone.now().isoformat()
    run, ids = recommendations.recommendation_run_train(options=asked, retry_of=retry_of)
    chunks = recommendations.visitor_chunks(ids, chunk_size)
    ModelRun.objects.filter(pk=run.pk).update(chunks_total=len(chunks))
    # Without a result backend there is no chord: the chunk that completes the count finishes.
    unfinished = not results_kept(self.app)
    header = [
        compute_recommendations_chunk.s(
            run_id=run.pk, visitor_ids=ids, now=now, finish=force if unfinished else None,
            chunk=index,
        ).set(**options)
        for index, ids in enumerate(chunks)
    ]  # fmt: skip
    finish = finish_recommendations.si(run_id=run.pk, force=force).set(**options)
    if not header:
        result = finish.apply_async()
    elif unfinished:
        result = group(header).apply_async()
    else:
        # A chunk that fails for good fails the chord: the errback marks the run failed.
        result = chord(header)(finish.on_error(fail_recommendations.si(run_id=run.pk)))
    return {"run": run.pk, "chunks": len(chunks), "visitors": run.visitors_count,
            "group_id": result.id}  # fmt: skip


@shared_task(name="tailor.compute_recommendations_chunk", **RETRIES)
def compute_recommendations_chunk(
    *,
    run_id: int,
    visitor_ids: list[int],
    now: str | None = None,
    finish: bool | None = None,
    chunk: int | None = None,
) -> dict[str, Any]:
    """Score and store one chunk of visitors' lists with the run's model (idempotent).

    `finish` (True/False: forced or not) makes the chunk that completes the run finish it, for
    brokers without a result backend, where chords cannot run.
    """
    summary = recommendations.recommendations_chunk_score(
        run_id=run_id, visitor_ids=visitor_ids, now=parse_datetime(now) if now else None,
        chunk=chunk,
    )  # fmt: skip
    if finish is not None and summary["last"]:
        recommendations.recommendation_run_finish(run_id=run_id, force=finish)
    return summary


@shared_task(name="tailor.finish_recommendations", **RETRIES)
def finish_recommendations(*, run_id: int, force: bool = False) -> dict[str, Any]:
    """Finish the run: current unless it scores worse than the current run (or forced)."""
    run = recommendations.recommendation_run_finish(run_id=run_id, force=force)
    return {"run": run.pk, "current": run.is_current, "score": run.score}


@shared_task(name="tailor.fail_recommendations", **RETRIES)
def fail_recommendations(*, run_id: int) -> None:
    """Mark the run failed after one of its chunks failed for good (it is never served)."""
    recommendations.recommendation_run_fail(
        run_id=run_id, error="a chunk of visitors failed: see the worker's log"
    )


def recommendations_retry(run: ModelRun) -> None:
    """Start a run whose worker was lost again, with the options it was started with."""
    compute_recommendations.apply_async(**retry_options(run))

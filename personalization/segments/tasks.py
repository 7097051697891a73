"""Thin Celery tasks for segment memberships and sizes; the work lives in this package's `services`.

Import this module from `personalization/tasks.py` (Celery discovers only `tasks.py`).
"""

from typing import Any

from celery import group, shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from config.runs import delivered_before, delivery, retry_options
from config.tasking import RETRIES, child_options
from personalization.features.services import visitor_id_chunks
from personalization.segments import runs
from personalization.segments import services as segments
from personalization.segments.models import SegmentRun


@shared_task(bind=True, name="tailor.compute_segments", **RETRIES)
def compute_segments(
    self, *, chunk_size: int = 2000, retry_of: int | None = None
) -> dict[str, Any]:
    """Compute every visitor's rule-segment memberships in chunks, then today's sizes.

    On a worker the chunks go out as a group of `compute_segments_chunk` tasks on this task's
    own queue under a `SegmentRun`; the chunk completing the run snapshots the sizes and
    finishes it (a run whose worker is lost is started again, `config.runs`). Run eagerly, it
    all runs inline. Cost of dispatching: every visitor id in memory once (about 30 MB per
    million visitors) and visitors / chunk_size messages of chunk_size ids each.
    """
    started = delivered_before(SegmentRun, self.request)
    if started is not None:
        return {"run": started, "skipped": "this message was delivered before"}
    if self.request.is_eager:
        return segments.segments_compute_all(chunk_size=chunk_size)
    now = timezone.now().isoformat()
    options = child_options(self.request)
    chunks = list(visitor_id_chunks(chunk_size=chunk_size))
    run = runs.segment_run_start(
        chunks=len(chunks), visitors=sum(map(len, chunks)), retry_of=retry_of,
        options={"chunk_size": chunk_size, "delivery": delivery(self.request), **options},
    )  # fmt: skip
    if not chunks:
        runs.segment_run_finish(run_id=run.pk, now=_moment(now))
        return {"run": run.pk, "chunks": 0, "visitors": 0}
    result = group(
        compute_segments_chunk.s(visitor_ids=ids, now=now, run_id=run.pk, chunk=index)
        for index, ids in enumerate(chunks)
    ).apply_async(**options)
    return {"run": run.pk, "chunks": len(chunks), "visitors": run.visitors, "group_id": result.id}


def _moment(text: str | None) -> Any:
    return parse_datetime(text) if text else None


@shared_task(name="tailor.compute_segments_chunk", **RETRIES)
def compute_segments_chunk(
    *,
    visitor_ids: list[int],
    now: str | None = None,
    run_id: int | None = None,
    chunk: int | None = None,
) -> dict[str, Any]:
    """Rewrite the rule-segment memberships of one chunk of visitors (idempotent)."""
    if run_id is None:
        return segments.segment_memberships_compute(visitor_ids=visitor_ids, now=_moment(now))
    return runs.segment_run_chunk(
        run_id=run_id, visitor_ids=visitor_ids, now=_moment(now), chunk=chunk
    )


@shared_task(name="tailor.finish_segments", **RETRIES)
def finish_segments(*, now: str | None = None) -> dict[str, int]:
    """Drop merged profiles' rule memberships and store today's segment sizes."""
    return segments.segments_finish(now=_moment(now))


def segments_retry(run: SegmentRun) -> None:
    """Start a run whose worker was lost again, with the options it was started with."""
    compute_segments.apply_async(**retry_options(run))

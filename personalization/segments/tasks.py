"""Thin Celery tasks for segment memberships and sizes; the work lives in this package's `services`.

Import this module from `personalization/tasks.py` (Celery discovers only `tasks.py`).
"""

from typing import Any

from celery import chord, group, shared_task
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from config.tasking import RETRIES, child_options, results_kept
from personalization.features.services import visitor_id_chunks
from personalization.segments import services as segments


@shared_task(bind=True, name="tailor.compute_segments", **RETRIES)
def compute_segments(self, *, chunk_size: int = 2000) -> dict[str, Any]:
    """Compute every visitor's rule-segment memberships in chunks, then today's sizes.

    On a worker the chunks go out as a chord of `compute_segments_chunk` tasks on this task's
    own queue, and `finish_segments` snapshots the sizes once they are all done (without a
    result backend, a plain group, and the snapshot runs first: one run behind). Run eagerly,
    it all runs inline. Cost of dispatching: every visitor id in memory once (about 30 MB per
    million visitors) and visitors / chunk_size messages of chunk_size ids each.
    """
    if self.request.is_eager:
        return segments.segments_compute_all(chunk_size=chunk_size)
    now = timezone.now().isoformat()
    options = child_options(self.request)
    chunks = list(visitor_id_chunks(chunk_size=chunk_size))
    header = [compute_segments_chunk.s(visitor_ids=ids, now=now).set(**options) for ids in chunks]
    finish = finish_segments.si(now=now).set(**options)
    if not header:
        result = finish.apply_async()
    elif not results_kept(self.app):
        finish.apply_async()
        result = group(header).apply_async()
    else:
        result = chord(header)(finish)
    return {"chunks": len(chunks), "visitors": sum(map(len, chunks)), "group_id": result.id}


def _moment(text: str | None) -> Any:
    return parse_datetime(text) if text else None


@shared_task(name="tailor.compute_segments_chunk", **RETRIES)
def compute_segments_chunk(*, visitor_ids: list[int], now: str | None = None) -> dict[str, int]:
    """Rewrite the rule-segment memberships of one chunk of visitors (idempotent)."""
    return segments.segment_memberships_compute(visitor_ids=visitor_ids, now=_moment(now))


@shared_task(name="tailor.finish_segments", **RETRIES)
def finish_segments(*, now: str | None = None) -> dict[str, int]:
    """Drop merged profiles' rule memberships and store today's segment sizes."""
    return segments.segments_finish(now=_moment(now))

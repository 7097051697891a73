"""Runs of `compute_segments` on the workers: a lease (`config.runs`) over chunks of visitors.

The dispatcher starts a run of N chunks; each chunk rewrites its visitors' rule memberships
under the run's heartbeat and counts once; the chunk that counts the last one snapshots today's
sizes and finishes the run (no chord, so no result backend is needed). A run whose worker was
lost is failed by the reaper and started again; its chunks then do nothing.
"""

from datetime import datetime
from typing import Any

from config.runs import (
    RUNNING,
    chunked_run_fail,
    chunked_run_finish,
    chunked_run_start,
    chunked_run_work,
)
from personalization.segments.models import SegmentRun
from personalization.segments.services import segment_memberships_compute, segments_finish

KIND = "segments"
ACTIVE = (RUNNING,)


def segment_run_start(
    *, chunks: int, visitors: int, options: dict[str, Any], retry_of: int | None = None
) -> SegmentRun:
    """A running segments run of `chunks` chunks."""
    return chunked_run_start(
        SegmentRun, chunks=chunks, visitors=visitors, options=options, retry_of=retry_of
    )


def segment_run_chunk(
    *, run_id: int, visitor_ids: list[int], now: datetime | None, chunk: int | None = None
) -> dict[str, Any]:
    """Compute one chunk of the run (idempotent); the chunk completing the run finishes it."""
    summary, complete = chunked_run_work(
        SegmentRun, run_id, chunk,
        lambda: segment_memberships_compute(visitor_ids=visitor_ids, now=now),
    )  # fmt: skip
    if complete:
        segment_run_finish(run_id=run_id, now=now)
    return summary


def segment_run_finish(*, run_id: int, now: datetime | None = None) -> dict[str, int]:
    """Snapshot today's sizes and mark the run finished (nothing if it is not running)."""
    if not SegmentRun.objects.filter(pk=run_id, status=RUNNING).exists():
        return {}
    sizes = segments_finish(now=now)
    chunked_run_finish(SegmentRun, run_id, kind=KIND)
    return sizes


def segment_run_fail(run_id: int, error: str) -> None:
    chunked_run_fail(SegmentRun, run_id, error, kind=KIND)

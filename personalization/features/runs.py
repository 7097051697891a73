"""Runs of `compute_features` on the workers: a lease (`config.runs`) over chunks of visitors.

The dispatcher starts a run of N chunks; each chunk computes its visitors' features under the
run's heartbeat and counts once; the chunk that counts the last one finishes the run. A run
whose worker was lost is failed by the reaper and started again; its chunks then do nothing.
"""

from typing import Any

from config.runs import (
    RUNNING,
    chunked_run_fail,
    chunked_run_finish,
    chunked_run_start,
    chunked_run_work,
)
from personalization.features.compute import features_chunk_compute
from personalization.features.models import FeatureRun
from personalization.features.population import PopulationStats

KIND = "features"
ACTIVE = (RUNNING,)


def feature_run_start(
    *, chunks: int, visitors: int, options: dict[str, Any], retry_of: int | None = None
) -> FeatureRun:
    """A running features run of `chunks` chunks."""
    return chunked_run_start(
        FeatureRun, chunks=chunks, visitors=visitors, options=options, retry_of=retry_of
    )


def feature_run_chunk(
    *, run_id: int, visitor_ids: list[int], stats: PopulationStats, chunk: int | None = None
) -> dict[str, Any]:
    """Compute one chunk of the run (idempotent); the chunk completing the run finishes it."""
    summary, complete = chunked_run_work(
        FeatureRun, run_id, chunk,
        lambda: features_chunk_compute(visitor_ids=visitor_ids, stats=stats),
    )  # fmt: skip
    if complete:
        feature_run_finish(run_id=run_id)
    return summary


def feature_run_finish(*, run_id: int) -> bool:
    return chunked_run_finish(FeatureRun, run_id, kind=KIND)


def feature_run_fail(run_id: int, error: str) -> None:
    chunked_run_fail(FeatureRun, run_id, error, kind=KIND)

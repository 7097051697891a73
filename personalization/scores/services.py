"""Score runs: train once on the events point in time, score visitors in chunks, then finish.

1. `score_run_train`: load the events of (a sample of at most `TAILOR_SCORES_TRAINING_VISITORS`)
   consenting visitors, train and evaluate every target (`training.scores_train`: features at
   `now - 2h`, labels in the h days after, metrics on the last h days), store the fitted
   models, metrics, calibration and permutation importance on the run. Cost: the sample's
   events in memory (about 25 bytes each) and the fits (see `training`).
2. `scores_chunk_score` for each chunk of visitors (any worker): their events before `now`,
   their features at `now`, one probability per target, written for the run. Cost: 2 queries
   plus consent, the chunk's events in memory, whatever the number of visitors overall.
3. `score_run_finish`: the run becomes current when its mean held-out ROC AUC is not worse
   than the current run's (or when forced); older runs' scores are deleted.

Only visitors that allow personalization are trained on and scored; merged profiles neither;
visitors without any event before `now` get no score (the attribute is then absent). Runs hold
a lease (`config.runs`), as the other runs do.
"""

import logging
import pickle
import time
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TextIO

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from config import metrics
from config.errors import ApplicationError
from config.runs import Heartbeat, attempt_of, chunk_finish, scored_run_finish
from consent.purposes import PERSONALIZATION
from consent.selectors import consent_states
from personalization.features.services import visitor_id_chunks
from personalization.scores.frame import TARGETS, EventFrame, features_at, to_days
from personalization.scores.models import ScoreRun, VisitorScore
from personalization.scores.training import TrainingError, scores_predict, scores_train
from personalization.visitors.models import Event
from personalization.visitors.snapshots import snapshots_invalidate_all

logger = logging.getLogger(__name__)
CONSENT_BATCH = 5000
TRAINED_FIELDS = [
    "metrics", "calibration", "importance", "score", "artifact", "training_rows",
    "visitors_count", "chunks_total", "status", "cutoff", "evaluated_at",
]  # fmt: skip


# What follows a new current run, registered by packages above (from `AppConfig.ready()`):
# listener(previous_run_id=…, run_id=…), called inside the switch's transaction while the
# previous run's scores still exist (they are deleted right after), e.g. to find visitors whose
# score crossed a threshold. It must queue what it finds, not act on it inline.
ScoreListener = Callable[..., object]
_score_listeners: dict[str, ScoreListener] = {}


def score_change_register(name: str, listener: ScoreListener) -> None:
    """Have `listener(previous_run_id=, run_id=)` called when a run becomes current."""
    _score_listeners[name] = listener


class ScoreError(ApplicationError):
    """A score run that cannot train (too little history) or was asked something wrong."""


def horizon_days() -> int:
    return int(settings.TAILOR_SCORES_HORIZON_DAYS)


def consenting(visitor_ids: list[int]) -> list[int]:
    """The visitors among `visitor_ids` that allow personalization now, in order."""
    allowed: list[int] = []
    for start in range(0, len(visitor_ids), CONSENT_BATCH):
        batch = visitor_ids[start : start + CONSENT_BATCH]
        states = consent_states(batch)
        allowed.extend(pk for pk in batch if states[pk].get(PERSONALIZATION))
    return allowed


def score_frame_load(visitor_ids: list[int], *, before: datetime) -> EventFrame:
    """The visitors' events strictly before `before`, as arrays (one query, streamed)."""
    rows = (
        Event.objects.filter(visitor_id__in=visitor_ids, occurred_at__lt=before)
        .values_list("visitor_id", "occurred_at", "type", "value")
        .iterator(chunk_size=20_000)
    )
    events = [(v, to_days(at), kind, float(value or 0)) for v, at, kind, value in rows]
    return EventFrame.build(visitor_ids, events)


def score_run_create(
    *, horizon: int, seed: int = 0, options: dict[str, Any] | None = None,
    retry_of: int | None = None,
) -> ScoreRun:  # fmt: skip
    attempt, retry_of = attempt_of(ScoreRun, retry_of)
    return ScoreRun.objects.create(
        targets=[t.key for t in TARGETS], horizon_days=horizon, parameters={"seed": seed},
        status=ScoreRun.Status.TRAINING, task_options=options or {}, attempt=attempt,
        retry_of_id=retry_of,
    )  # fmt: skip


def score_run_train(
    *, run: ScoreRun, visitor_ids: list[int], now: datetime, chunk_size: int
) -> ScoreRun:
    """Train and evaluate every target on a sample of `visitor_ids`; store the models."""
    limit = int(settings.TAILOR_SCORES_TRAINING_VISITORS)
    seed = int(run.parameters.get("seed", 0))
    sample = visitor_ids
    if len(sample) > limit:
        picked = np.random.default_rng(seed).choice(len(sample), size=limit, replace=False)
        sample = [visitor_ids[i] for i in sorted(picked)]
    with Heartbeat(ScoreRun, run.pk):
        frame = score_frame_load(sample, before=now)
        try:
            trained = scores_train(
                frame, now=to_days(now), horizon_days=run.horizon_days, targets=run.targets,
                seed=seed,
            )  # fmt: skip
        except TrainingError as exc:
            score_run_fail(run_id=run.pk, error=str(exc))
            raise ScoreError(str(exc)) from exc
    run.metrics, run.calibration, run.importance = (
        trained.metrics, trained.calibration, trained.importance,
    )  # fmt: skip
    run.score = trained.score
    run.artifact = zlib.compress(pickle.dumps(trained.models))
    run.training_rows = trained.training_rows
    run.visitors_count = len(visitor_ids)
    run.chunks_total = -(-len(visitor_ids) // chunk_size)
    run.cutoff = now - timedelta(days=2 * run.horizon_days)
    run.evaluated_at = now - timedelta(days=run.horizon_days)
    run.status = ScoreRun.Status.SCORING
    run.save(update_fields=TRAINED_FIELDS)
    return run


def score_models(run_id: int) -> dict[str, Any]:
    """The run's fitted models (pickled by Tailor's own workers, never from outside)."""
    artifact = ScoreRun.objects.values_list("artifact", flat=True).get(pk=run_id)
    return pickle.loads(zlib.decompress(artifact))  # noqa: S301 - written by score_run_train


def _score_rows(run_id: int, visitor_ids: list[int], now: datetime) -> list[VisitorScore]:
    """The run's probabilities for those of `visitor_ids` who allow personalization and have
    events before `now`, as unsaved rows."""
    frame = score_frame_load(consenting(visitor_ids), before=now)
    matrix, has = features_at(frame, to_days(now))
    probabilities = scores_predict(score_models(run_id), matrix[has])
    scored = frame.visitor_ids[has]
    return [
        VisitorScore(run_id=run_id, visitor_id=int(pk), target=key,
                     probability=float(p[i]), computed_at=now)
        for key, p in probabilities.items()
        for i, pk in enumerate(scored)
    ]  # fmt: skip


def scores_chunk_score(
    *, run_id: int, visitor_ids: list[int], now: datetime, chunk: int | None = None
) -> dict[str, Any]:
    """Score one chunk of visitors with the run's models and store it (idempotent)."""
    if ScoreRun.objects.filter(pk=run_id, status=ScoreRun.Status.FAILED).exists():
        return {"run": run_id, "scored": 0, "last": False}
    rows = _score_rows(run_id, visitor_ids, now)
    with transaction.atomic():
        VisitorScore.objects.filter(run_id=run_id, visitor_id__in=visitor_ids).delete()
        VisitorScore.objects.bulk_create(rows, batch_size=5000)
        first, last = chunk_finish(
            ScoreRun, run_id, chunk, visitors_done=len(visitor_ids), scores_count=len(rows)
        )
    scored = len({row.visitor_id for row in rows})
    return {"run": run_id, "scored": scored, "last": last, "counted": first}


def visitor_scores_refresh(*, visitor_id: int, now: datetime | None = None) -> int:
    """Score one visitor again with the current run's models (after a merge); rows written."""
    run_id = ScoreRun.objects.filter(is_current=True).values_list("pk", flat=True).first()
    if run_id is None:
        return 0
    rows = _score_rows(run_id, [visitor_id], now or timezone.now())
    with transaction.atomic():
        VisitorScore.objects.filter(run_id=run_id, visitor_id=visitor_id).delete()
        VisitorScore.objects.bulk_create(rows)
    return len(rows)


def scores_follow_merge(*, source_id: int, target_id: int) -> None:
    """On a profile merge the merged profile's scores go; the survivor is scored again with
    its combined history once the merge is committed (on a worker)."""
    from personalization.scores.tasks import refresh_visitor_scores  # tasks import services

    VisitorScore.objects.filter(visitor_id=source_id).delete()
    transaction.on_commit(lambda: refresh_visitor_scores.delay(visitor_id=target_id))


@transaction.atomic
def score_run_finish(*, run_id: int, force: bool = False) -> ScoreRun:
    """Mark the run finished; it becomes current unless it scores worse than the current one."""
    run = ScoreRun.objects.select_for_update().get(pk=run_id)
    if run.status in (ScoreRun.Status.FAILED, ScoreRun.Status.FINISHED):
        return run
    scored_run_finish(run, kind="scores", force=force, make_current=score_run_make_current)
    return run


def score_run_make_current(*, run: ScoreRun, forced: bool = False) -> None:
    """Serve this run's scores from now on; older runs' scores are deleted."""
    previous = ScoreRun.objects.filter(is_current=True).exclude(pk=run.pk).first()
    if previous is not None:
        for listener in _score_listeners.values():
            listener(previous_run_id=previous.pk, run_id=run.pk)
    ScoreRun.objects.filter(is_current=True).exclude(pk=run.pk).update(is_current=False)
    ScoreRun.objects.filter(pk=run.pk).update(is_current=True, forced=forced)
    run.is_current, run.forced = True, forced
    snapshots_invalidate_all()  # snapshots hold each visitor's scores
    VisitorScore.objects.exclude(run_id=run.pk).filter(
        run__status=ScoreRun.Status.FINISHED
    ).delete()


def score_run_fail(*, run_id: int, error: str) -> None:
    """Mark an unfinished run failed; a finished run keeps its state."""
    failed = (
        ScoreRun.objects.filter(pk=run_id)
        .exclude(status__in=[ScoreRun.Status.FINISHED, ScoreRun.Status.FAILED])
        .update(status=ScoreRun.Status.FAILED, error=error, finished_at=timezone.now())
    )
    if failed:
        metrics.run_ended("scores", "failed")


def scored_visitor_ids(*, chunk_size: int) -> list[int]:
    """Non-merged visitors that allow personalization, in ascending order."""
    return [pk for ids in visitor_id_chunks(chunk_size=chunk_size) for pk in consenting(ids)]


def scores_compute_all(
    *, chunk_size: int = 2000, force: bool = False, seed: int = 0,
    progress: TextIO | None = None, options: dict[str, Any] | None = None,
    retry_of: int | None = None, now: datetime | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Train, score every visitor chunk by chunk and finish, all in this process."""
    started = time.perf_counter()
    now = now or timezone.now()
    run = score_run_create(horizon=horizon_days(), seed=seed, options=options, retry_of=retry_of)
    try:
        ids = scored_visitor_ids(chunk_size=chunk_size)
        score_run_train(run=run, visitor_ids=ids, now=now, chunk_size=chunk_size)
        bar = tqdm(
            total=run.chunks_total, file=progress, disable=None if progress else True,
            unit="chunk", desc="scores", dynamic_ncols=True,
        )  # fmt: skip
        with bar:
            for index, start in enumerate(range(0, len(ids), chunk_size)):
                chunk = ids[start : start + chunk_size]
                scores_chunk_score(run_id=run.pk, visitor_ids=chunk, now=now, chunk=index)
                bar.update(1)
        run = score_run_finish(run_id=run.pk, force=force)
    except ScoreError:
        raise  # the run was marked failed with the reason
    except BaseException as exc:  # the run must not stay "scoring" forever; re-raised
        score_run_fail(run_id=run.pk, error=f"{type(exc).__name__}: {exc}")
        raise
    return score_run_summary(run, seconds=time.perf_counter() - started)


def score_run_summary(run: ScoreRun, *, seconds: float | None = None) -> dict[str, Any]:
    return {
        "run": run.pk, "current": run.is_current, "score": run.score, "metrics": run.metrics,
        "visitors": run.visitors_count, "scores": run.scores_count, "chunks": run.chunks_total,
        "training_rows": run.training_rows, "seconds": round(seconds or 0.0, 3),
    }  # fmt: skip

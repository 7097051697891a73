"""Predictive scores: training and scoring time and peak memory at 100k and 1M visitors.

Synthetic histories from `personalization.scores.synthetic` (a known churn process, about 38
events per visitor). As a score run does, training reads a random sample of at most
`TAILOR_SCORES_TRAINING_VISITORS` visitors (200,000 by default), so that its time and memory
stop growing with the population; scoring reads everyone. "train" is `scores_train` for both
targets on the sample: features at two cut-offs, labels, the calibrated gradient boosting
(three fits, then three more for the served model on both windows), the logistic and
lifecycle baselines, held-out metrics and permutation importance. It is timed beside a bare
`HistGradientBoostingClassifier.fit` on the same training matrix and labels (churn), so the
ratio says what calibration, baselines, evaluation and the refit add. "score" is features at
`now` and both targets' probabilities for every visitor, beside the bare model's
`predict_proba` on as many rows. Peak memory is what tracemalloc saw (numpy's buffers
included) during that step, beyond the frame of events already in memory.
"""

import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier

sys.path.insert(0, str(Path(__file__).resolve().parent))
import support  # noqa: F401 - Django set up: the lifecycle rule imports models
from django.conf import settings

from personalization.scores.frame import TARGETS_BY_KEY, EventFrame, features_at, labels_at
from personalization.scores.synthetic import synthetic_generate
from personalization.scores.training import scores_predict, scores_train

SIZES = tuple(int(a) for a in sys.argv[1:]) or (100_000, 1_000_000)


def measured(function: Callable[[], object]) -> tuple[float, float, object]:
    """Seconds and peak traced MiB of one call, and its result."""
    tracemalloc.start()
    started = time.perf_counter()
    result = function()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak, result


def sample_of(frame: EventFrame, limit: int, seed: int = 0) -> EventFrame:
    """The events of a random sample of at most `limit` visitors, as a score run trains on."""
    if frame.size <= limit:
        return frame
    rows = np.sort(np.random.default_rng(seed).choice(frame.size, size=limit, replace=False))
    new_row = np.full(frame.size, -1)
    new_row[rows] = np.arange(limit)
    keep = new_row[frame.visitor] >= 0
    return EventFrame(
        visitor_ids=frame.visitor_ids[rows], visitor=new_row[frame.visitor[keep]],
        day=frame.day[keep], kind=frame.kind[keep], value=frame.value[keep],
    )  # fmt: skip


def report(visitors: int) -> None:
    data = synthetic_generate(visitors=visitors, seed=1)
    frame, now, horizon = data.frame, data.now, data.horizon_days
    sample = sample_of(frame, int(settings.TAILOR_SCORES_TRAINING_VISITORS))
    cutoff = now - 2 * horizon
    matrix, has = features_at(sample, cutoff)
    labels = labels_at(sample, cutoff, horizon, TARGETS_BY_KEY["churn"])[has]
    matrix = matrix[has]
    bare = HistGradientBoostingClassifier(random_state=0)
    bare_fit, bare_peak, _ = measured(lambda: bare.fit(matrix, labels))
    train, train_peak, trained = measured(
        lambda: scores_train(sample, now=now, horizon_days=horizon, targets=["churn", "purchase"])
    )
    score, score_peak, _ = measured(
        lambda: scores_predict(trained.models, features_at(frame, now)[0])
    )
    everyone = np.resize(matrix, (frame.size, matrix.shape[1]))
    bare_score, _, _ = measured(lambda: bare.predict_proba(everyone))
    auc = trained.metrics["churn"]["model"]["roc_auc"]
    print(
        f"{visitors:>10,} {len(frame.day):>12,} {train:>8.1f} {bare_fit:>8.1f} "
        f"{train / bare_fit:>8.1f} {train_peak:>9.0f} {bare_peak:>9.0f} {score:>8.1f} "
        f"{bare_score:>8.1f} {score_peak:>9.0f} {auc:>6.3f}",
        flush=True,
    )


def main() -> None:
    print(
        f"{'visitors':>10} {'events':>12} {'train s':>8} {'bare s':>8} {'x bare':>8} "
        f"{'train MiB':>9} {'bare MiB':>9} {'score s':>8} {'bare s':>8} {'score MiB':>9} "
        f"{'AUC':>6}"
    )
    for size in SIZES:
        report(size)


if __name__ == "__main__":
    main()

"""Predictive scores: training and scoring time and peak memory at 100k and 1M visitors.

Synthetic histories from `personalization.scores.synthetic` (a known churn process, about 38
events per visitor). "train" is `scores_train` for both targets: features at two cut-offs,
labels, the calibrated gradient boosting (three fits), the logistic and lifecycle baselines,
held-out metrics and permutation importance. It is timed beside a bare
`HistGradientBoostingClassifier.fit` on the same training matrix and labels (churn), so the
ratio says what calibration, baselines and evaluation add. "score" is features at `now` and
both targets' probabilities for every visitor, beside the bare model's `predict_proba`.
Peak memory is what tracemalloc saw (numpy's buffers included).
"""

import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

from sklearn.ensemble import HistGradientBoostingClassifier

sys.path.insert(0, str(Path(__file__).resolve().parent))
import support  # noqa: F401 - Django set up: the lifecycle rule imports models

from personalization.scores.frame import TARGETS_BY_KEY, features_at, labels_at
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


def report(visitors: int) -> None:
    data = synthetic_generate(visitors=visitors, seed=1)
    frame, now, horizon = data.frame, data.now, data.horizon_days
    cutoff = now - 2 * horizon
    matrix, has = features_at(frame, cutoff)
    labels = labels_at(frame, cutoff, horizon, TARGETS_BY_KEY["churn"])[has]
    matrix = matrix[has]
    bare = HistGradientBoostingClassifier(random_state=0)
    bare_fit, bare_peak, _ = measured(lambda: bare.fit(matrix, labels))
    train, train_peak, trained = measured(
        lambda: scores_train(frame, now=now, horizon_days=horizon, targets=["churn", "purchase"])
    )
    score, score_peak, _ = measured(
        lambda: scores_predict(trained.models, features_at(frame, now)[0])
    )
    bare_score, _, _ = measured(lambda: bare.predict_proba(matrix))
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

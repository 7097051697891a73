"""Training and held-out evaluation of the score models, without Django.

Two cut-offs, one horizon h: the models learn from features at `now - 2h` and labels in the h
days after it, and are measured on features at `now - h` with labels in the last h days, a
later window they never saw. Served scores use features at `now`. For each target in the
same run:

- the model: `HistGradientBoostingClassifier`, calibrated (`CalibratedClassifierCV`, isotonic
  from 1,000 training rows, sigmoid below);
- baseline `logistic`: a logistic regression on the log features, standardized;
- baseline `lifecycle`: Tailor's lifecycle rule (`features.scores.lifecycle_stage`) as a
  probability: each stage's rate of the target in the training window.

Metrics on the held-out window: ROC AUC, PR AUC (average precision), Brier score, and lift in
the top decile (the positive rate among the 10 % scored highest over the overall rate).

The model that serves is then fitted again, the same way, on both labelled windows: the
metrics describe how the procedure does on a window it never saw, and the served model has
learnt from the most recent behaviour too (the last h days, which the evaluation had to hold
out).

Cost: six gradient boosting fits (the calibration folds, then the refit on twice the rows) and
one logistic fit per target on the training rows, O(rows x features x iterations); permutation
importance on at most `IMPORTANCE_ROWS` held-out rows; the rule baseline is one pass over the
columns.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV, calibration_curve
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from personalization.scores.frame import (
    FEATURES,
    TARGETS_BY_KEY,
    EventFrame,
    features_at,
    labels_at,
    lifecycle_stages,
)

MODEL, LOGISTIC, LIFECYCLE = "model", "logistic", "lifecycle"
IMPORTANCE_ROWS = 2000
MIN_ROWS = 20


class TrainingError(ValueError):
    """Not enough history to train or evaluate (too few visitors, one class only)."""


@dataclass
class Trained:
    """The fitted models per target and what the held-out window said about them."""

    models: dict[str, Any]
    metrics: dict[str, dict[str, dict[str, float | None]]]
    calibration: dict[str, list[list[float]]] = field(default_factory=dict)
    importance: dict[str, list[list[Any]]] = field(default_factory=dict)
    training_rows: int = 0
    evaluation_rows: int = 0

    @property
    def score(self) -> float | None:
        """The model's mean held-out ROC AUC over the targets."""
        aucs = [m[MODEL]["roc_auc"] for m in self.metrics.values() if m[MODEL]["roc_auc"]]
        return round(float(np.mean(aucs)), 4) if aucs else None


def score_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float | None]:
    """ROC AUC, PR AUC, Brier score and top-decile lift of probabilities `p` for labels `y`."""
    both = 0 < y.sum() < len(y)
    top = np.argsort(-p, kind="stable")[: max(1, len(p) // 10)]
    rate = float(y.mean()) if len(y) else 0.0
    return {
        "roc_auc": round(float(roc_auc_score(y, p)), 4) if both else None,
        "pr_auc": round(float(average_precision_score(y, p)), 4) if both else None,
        "brier": round(float(brier_score_loss(y, p)), 4) if len(y) else None,
        "lift_top_decile": round(float(y[top].mean()) / rate, 3) if rate else None,
        "positive_rate": round(rate, 4),
    }


def model_build(rows: int, seed: int) -> CalibratedClassifierCV:
    # Leaves of 20 rows (the default) leave a few hundred visitors with one constant tree.
    leaf = int(np.clip(rows // 40, 3, 20))
    boosting = HistGradientBoostingClassifier(
        max_iter=150, learning_rate=0.08, early_stopping=True, n_iter_no_change=10,
        min_samples_leaf=leaf, random_state=seed,
    )  # fmt: skip
    method = "isotonic" if rows >= 1000 else "sigmoid"
    return CalibratedClassifierCV(boosting, method=method, cv=3)


def logistic_build() -> Any:
    return make_pipeline(
        FunctionTransformer(np.log1p), StandardScaler(), LogisticRegression(max_iter=1000)
    )


def stage_rates(stages: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The target's rate per lifecycle stage, smoothed towards the overall rate."""
    overall = float(y.mean())
    return {
        str(s): float((y[stages == s].sum() + overall) / ((stages == s).sum() + 1))
        for s in np.unique(stages)
    }


def _check(y: np.ndarray, what: str) -> None:
    if len(y) < MIN_ROWS or y.min() == y.max():
        raise TrainingError(
            f"not enough history to {what}: {len(y)} visitors, {int(y.sum())} positive; "
            "scores need events older than twice the horizon"
        )


Pair = tuple[np.ndarray, np.ndarray]
Fitted = tuple[Any, dict[str, dict[str, float | None]], list[list[float]], list[list[Any]]]


def target_train(key: str, train: Pair, held: Pair, stages: Pair, seed: int) -> Fitted:
    """Fit the model and the baselines for one target; their held-out metrics and pictures;
    the model to serve, fitted again on both windows."""
    (x, y), (xh, yh) = train, held
    _check(y, f"train {key}")
    _check(yh, f"evaluate {key}")
    model = model_build(len(y), seed).fit(x, y)
    logistic = logistic_build().fit(x, y)
    rates = stage_rates(stages[0], y)
    predicted = {
        MODEL: model.predict_proba(xh)[:, 1],
        LOGISTIC: logistic.predict_proba(xh)[:, 1],
        LIFECYCLE: np.asarray([rates.get(str(s), float(y.mean())) for s in stages[1]]),
    }
    metrics = {name: score_metrics(yh, p) for name, p in predicted.items()}
    observed, mean_predicted = calibration_curve(yh, predicted[MODEL], n_bins=10)
    calibration = [
        [round(float(m), 4), round(float(o), 4)]
        for m, o in zip(mean_predicted, observed, strict=True)
    ]
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(yh), size=min(len(yh), IMPORTANCE_ROWS), replace=False)
    result = permutation_importance(
        model, xh[rows], yh[rows], scoring="roc_auc", n_repeats=2, random_state=seed
    )
    order = np.argsort(-result.importances_mean)
    importance = [[FEATURES[i], round(float(result.importances_mean[i]), 4)] for i in order]
    served = model_build(len(y) + len(yh), seed).fit(np.vstack([x, xh]), np.concatenate([y, yh]))
    return served, metrics, calibration, importance


def scores_train(
    frame: EventFrame, *, now: float, horizon_days: float, targets: Sequence[str], seed: int = 0
) -> Trained:
    """Train on the window ending `horizon_days` before `now`, evaluate on the last one, and
    fit the served models on both."""
    evaluated = now - horizon_days
    cutoff = evaluated - horizon_days
    x, has = features_at(frame, cutoff)
    xh, has_h = features_at(frame, evaluated)
    x, xh = x[has], xh[has_h]
    stages = lifecycle_stages(x, cutoff), lifecycle_stages(xh, evaluated)
    trained = Trained(models={}, metrics={}, training_rows=len(x), evaluation_rows=len(xh))
    for key in targets:
        target = TARGETS_BY_KEY[key]
        y = labels_at(frame, cutoff, horizon_days, target)[has]
        yh = labels_at(frame, evaluated, horizon_days, target)[has_h]
        model, metrics, calibration, importance = target_train(key, (x, y), (xh, yh), stages, seed)
        trained.models[key] = model
        trained.metrics[key] = metrics
        trained.calibration[key] = calibration
        trained.importance[key] = importance
    return trained


def scores_predict(models: dict[str, Any], matrix: np.ndarray) -> dict[str, np.ndarray]:
    """Target → probability per row, clipped to [0, 1]."""
    if not len(matrix):
        return {key: np.zeros(0) for key in models}
    return {key: np.clip(m.predict_proba(matrix)[:, 1], 0.0, 1.0) for key, m in models.items()}

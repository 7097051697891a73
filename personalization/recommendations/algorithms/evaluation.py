"""Offline evaluation: hold out part of each visitor's items, tune, rank, and measure at K.

Protocol: visitors with at least two items lose 20 % of them (at least one) to the test set,
at random or the latest ones (temporal). Hyperparameters (trending half-life, EASE λ and
neighbours, kNN neighbours and shrinkage, ALS regularisation and alpha, the hybrid's blend
weights) are chosen on a validation split carved the same way from the training part
(`tuning`), then every algorithm is refitted on the whole training part and measured once on
the test part: the test set never picks a parameter. Items a visitor interacted with in
training are never counted as recommendations. The metrics are in `metrics`.

Cost: each tuning candidate refits one model (see each algorithm and `tuning`) on every
training row and scores at most `metrics.MEASURED_VISITORS` validation visitors; the holdout
itself is vectorised over the non-zeros.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np
from scipy import sparse
from tqdm import tqdm

from personalization.recommendations.algorithms.base import Catalogue, Recommender
from personalization.recommendations.algorithms.ease import MAX_ITEMS
from personalization.recommendations.algorithms.hybrid import ALGORITHMS, HYBRID, Hybrid
from personalization.recommendations.algorithms.interactions import Interactions
from personalization.recommendations.algorithms.metrics import (
    METRICS,
    Split,
    Stage,
    measure,
    rankings,
)
from personalization.recommendations.algorithms.tuning import tune, tune_ease, tune_weights

__all__ = [
    "METRICS", "RANDOM", "SPLITS", "TEMPORAL", "EvaluationError", "Report", "Split", "evaluate",
    "holdout", "measure", "rankings",
]  # fmt: skip

RANDOM, TEMPORAL = "random", "temporal"
SPLITS = (RANDOM, TEMPORAL)
HOLDOUT = 0.2


class EvaluationError(ValueError):
    """The data cannot support an evaluation (too few visitors with held-out items)."""


@dataclass
class Report:
    """Test metrics per algorithm, and what was tuned on validation."""

    split: str
    k: int
    seed: int
    visitors: int
    test_visitors: int
    items: int
    interactions: int
    metrics: dict[str, dict[str, float]] = field(default_factory=dict)
    # nDCG@K per algorithm (and `ease_unpruned`: EASE before its neighbours were pruned)
    validation: dict[str, float] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)

    def table(self) -> list[str]:
        """The metrics side by side, one algorithm per line, best nDCG first."""
        names = sorted(self.metrics, key=lambda n: -self.metrics[n]["ndcg"])
        header = f"{'algorithm':<12}" + "".join(f"{m + '@' + str(self.k):>13}" for m in METRICS)
        lines = [header]
        for name in names:
            values = self.metrics[name]
            lines.append(f"{name:<12}" + "".join(f"{values[m]:>13.4f}" for m in METRICS))
        return lines


def holdout(data: Interactions, *, method: str, seed: int, fraction: float = HOLDOUT) -> Split:
    """Per visitor with 2+ items: move `fraction` of them (at least 1) to the test matrix."""
    if method not in SPLITS:
        raise EvaluationError(f"split must be one of {', '.join(SPLITS)}, not {method!r}")
    matrix = data.matrix.tocsr()
    rng = np.random.default_rng(seed)
    indptr = matrix.indptr
    counts = np.diff(indptr)
    rows = np.repeat(np.arange(matrix.shape[0]), counts)
    # Visitors with one item keep it; the others lose floor(fraction x items), at least one.
    take = np.where(counts >= 2, np.maximum(1, np.floor(counts * fraction)), 0).astype(np.int64)
    noise = rng.random(matrix.nnz)
    if method == RANDOM:
        order = np.lexsort((noise, rows))
    else:  # the latest ones first, ties at random
        order = np.lexsort((noise, -data.last.data, rows))
    position = np.empty(matrix.nnz, np.int64)
    position[order] = np.arange(matrix.nnz) - indptr[rows[order]]
    held = position < take[rows]

    def part(mask: np.ndarray, values: np.ndarray) -> sparse.csr_matrix:
        # The same cells in the same order for every `values`: evaluation pairs their data.
        kept = np.r_[0, np.cumsum(np.bincount(rows[mask], minlength=matrix.shape[0]))]
        return sparse.csr_matrix((values[mask], matrix.indices[mask], kept), shape=matrix.shape)

    train = Interactions(
        matrix=part(~held, matrix.data),
        last=part(~held, data.last.data),
        visitor_ids=data.visitor_ids,
        item_ids=data.item_ids,
        now=data.now,
    )
    test = part(held, np.ones(matrix.nnz, np.float32))
    return Split(train=train, test=test)


def evaluate(
    data: Interactions,
    catalogue: Catalogue,
    *,
    split: str = RANDOM,
    k: int = 10,
    seed: int = 42,
    min_visitors: int = 1,
    algorithms: Iterable[str] | None = None,
    progress: TextIO | None = None,
) -> Report:
    """Tune every algorithm on validation, then measure each (and the hybrid) on the test split.

    With `progress`, a bar over the steps (tuning, blending, measuring) is drawn on it.
    """
    outer = holdout(data, method=split, seed=seed)
    test_stage = Stage(outer, k, seed)
    if len(test_stage.rows) < min_visitors:
        raise EvaluationError(
            f"only {len(test_stage.rows)} visitors have items to hold out (2 or more items "
            f"each); at least {min_visitors} are needed for figures worth comparing"
        )
    inner = Stage(holdout(outer.train, method=split, seed=seed + 1), k, seed + 1)
    items = data.matrix.shape[1]
    names = list(algorithms or ALGORITHMS)
    if items > MAX_ITEMS and "ease" in names:
        names.remove("ease")
    report = Report(
        split=split, k=k, seed=seed, visitors=data.matrix.shape[0],
        test_visitors=len(test_stage.rows), items=items, interactions=data.matrix.nnz,
    )  # fmt: skip
    bar = tqdm(
        total=2 * len(names) + 1, file=progress, disable=None if progress else True,
        unit="step", desc="evaluation", dynamic_ncols=True,
    )  # fmt: skip
    with bar:
        _run(report, names, inner, test_stage, outer, catalogue, bar)
    return report


def _run(
    report: Report,
    names: list[str],
    inner: Stage,
    test_stage: Stage,
    outer: Split,
    catalogue: Catalogue,
    bar: tqdm,
) -> None:
    tuned: dict[str, Recommender] = {}
    for name in names:
        bar.set_postfix_str(f"tuning {name}")
        if name == "ease":
            parameters, score, model, unpruned = tune_ease(inner)
            report.validation["ease_unpruned"] = round(unpruned, 6)
        else:
            parameters, score, model = tune(name, inner, catalogue)
        bar.update(1)
        report.parameters[name] = parameters
        report.validation[name] = round(score, 6)
        tuned[name] = model
    bar.set_postfix_str("blending")
    if tuned:
        report.weights, score = tune_weights(tuned, inner)
        report.validation[HYBRID] = round(score, 6)
    bar.update(1)
    refitted: dict[str, Recommender] = {}
    for name in names:
        bar.set_postfix_str(f"measuring {name}")
        model = ALGORITHMS[name](**report.parameters[name]).fit(outer.train, catalogue)
        refitted[name] = model
        report.metrics[name] = _rounded(test_stage.evaluate(model.score))
        bar.update(1)
    if report.weights:
        hybrid = Hybrid(
            weights=report.weights,
            components={n: m for n, m in refitted.items() if report.weights.get(n)},
        )
        report.metrics[HYBRID] = _rounded(test_stage.evaluate(hybrid.score))


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {key: round(value, 6) for key, value in values.items()}

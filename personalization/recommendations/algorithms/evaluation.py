"""Offline evaluation: hold out part of each visitor's items, rank, and measure at K.

Protocol: visitors with at least two items lose 20 % of them (at least one) to the test set,
at random or the latest ones (temporal). Hyperparameters (trending half-life, EASE λ, kNN
neighbours and shrinkage, ALS regularisation and alpha, the hybrid's blend weights) are chosen on a
validation split carved the same way from the training part, then every algorithm is refitted
on the whole training part and measured once on the test part: the test set never picks a
parameter. Items a visitor interacted with in training are never counted as recommendations.

Metrics at K, averaged over visitors with test items:

- precision: hits / K; recall: hits / test items; hit rate: visitors with a hit;
- nDCG: Σ hits 1/log2(rank + 1) over the ideal for min(K, test items);
- MAP: Σ precision at each hit / min(K, test items);
- coverage: distinct items recommended to anyone / items in the matrix;
- novelty: mean -log2(share of training visitors who had the item) of recommended items.

Cost: each tuning candidate refits one model (see each algorithm) on every training row and
scores at most `MEASURED_VISITORS` validation visitors (a seeded sample beyond) in blocks of
`BLOCK` rows (BLOCK x items floats at a time); the holdout itself loops once over visitors.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np
from scipy import sparse
from tqdm import tqdm

from personalization.recommendations.algorithms.base import Catalogue, Recommender
from personalization.recommendations.algorithms.ease import MAX_ITEMS
from personalization.recommendations.algorithms.filters import exclude_seen, top_k
from personalization.recommendations.algorithms.hybrid import (
    ALGORITHMS,
    DEFAULT_PARAMETERS,
    HYBRID,
    Hybrid,
    blend,
    collaborative,
)
from personalization.recommendations.algorithms.interactions import Interactions

RANDOM, TEMPORAL = "random", "temporal"
SPLITS = (RANDOM, TEMPORAL)
HOLDOUT = 0.2
BLOCK = 2000
MEASURED_VISITORS = 20_000  # visitors measured per split; a random sample beyond
METRICS = ("precision", "recall", "ndcg", "map", "hit_rate", "coverage", "novelty")
GRIDS: dict[str, list[dict[str, Any]]] = {
    "trending": [{"half_life_days": d} for d in (3.0, 7.0, 30.0)],
    "item_knn": [
        {"neighbours": n, "shrinkage": s} for n in (10, 25, 50, 100) for s in (0.0, 10.0, 50.0)
    ],
    "ease": [
        {"regularization": r, "neighbours": 200}
        for r in (1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0)
    ],
    "als": [
        {"factors": 32, "iterations": 8, "regularization": r, "alpha": a}
        for r in (0.1, 1.0, 10.0)
        for a in (1.0, 10.0, 40.0)
    ],
}
# A blend weight changes only for this much more validation nDCG: smaller gains are noise
# that the test split does not repeat, and the lead model alone is the safer hybrid.
MIN_GAIN = 0.002
WEIGHT_STEPS = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0)


class EvaluationError(ValueError):
    """The data cannot support an evaluation (too few visitors with held-out items)."""


@dataclass
class Split:
    train: Interactions
    test: sparse.csr_matrix  # visitors x items, 1 where held out


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
    validation: dict[str, float] = field(default_factory=dict)  # nDCG@K per algorithm
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


def rankings(
    scorer: Callable[[sparse.csr_matrix], np.ndarray],
    train: sparse.csr_matrix,
    rows: np.ndarray,
    k: int,
) -> np.ndarray:
    """Each of `rows`' top `k` item columns (never a training item), scored in blocks."""
    ranked = []
    for start in range(0, len(rows), BLOCK):
        block = train[rows[start : start + BLOCK]]
        scores = exclude_seen(scorer(block).astype(np.float32, copy=True), block)
        ranked.append(top_k(scores, k)[0])
    return np.vstack(ranked) if ranked else np.zeros((0, k), int)


def measure(
    ranked: np.ndarray, test: sparse.csr_matrix, *, k: int, popularity: np.ndarray, visitors: int
) -> dict[str, float]:
    """The metrics of `ranked` (rows x k columns, -1 for none) against `test` rows."""
    if ranked.shape[0] == 0:
        return dict.fromkeys(METRICS, 0.0)
    ranked = ranked[:, :k]
    rows, width = test.shape
    # A hit: the (row, column) key of a ranked item is among the test cells' keys.
    test_keys = np.repeat(np.arange(rows, dtype=np.int64), np.diff(test.indptr)) * width
    test_keys += test.indices
    ranked_keys = np.arange(rows, dtype=np.int64)[:, None] * width + ranked
    hits = (np.isin(ranked_keys, test_keys) & (ranked >= 0)).astype(float)
    relevant = np.diff(test.indptr).astype(float)
    found = hits.sum(axis=1)
    ideal_count = np.minimum(k, relevant).astype(int)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal = np.cumsum(discounts)[np.maximum(ideal_count, 1) - 1]
    at_hit = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    precision = found / k
    recall = found / np.maximum(relevant, 1)
    ndcg = (hits * discounts).sum(axis=1) / ideal
    average = (at_hit * hits).sum(axis=1) / np.maximum(ideal_count, 1)
    hits_any = (found > 0).astype(float)
    shown = ranked[ranked >= 0]
    share = np.maximum(popularity, 1.0) / max(visitors, 1)
    return {
        "precision": float(np.mean(precision)),
        "recall": float(np.mean(recall)),
        "ndcg": float(np.mean(ndcg)),
        "map": float(np.mean(average)),
        "hit_rate": float(np.mean(hits_any)),
        "coverage": len(np.unique(shown)) / max(test.shape[1], 1),
        "novelty": float(np.mean(-np.log2(share[shown]))) if len(shown) else 0.0,
    }


class _Stage:
    """One (fit part, measure part) pair: held-out rows and what novelty needs."""

    def __init__(self, split: Split, k: int, seed: int = 0) -> None:
        self.split, self.k = split, k
        self.rows = np.flatnonzero(np.diff(split.test.indptr))
        if len(self.rows) > MEASURED_VISITORS:  # a sample keeps tuning cost flat at scale
            sample = np.random.default_rng(seed).choice(self.rows, MEASURED_VISITORS, replace=False)
            self.rows = np.sort(sample)
        self.popularity = np.asarray((split.train.matrix > 0).sum(axis=0)).ravel()
        self.visitors = int((np.diff(split.train.matrix.indptr) > 0).sum())

    def evaluate(self, scorer: Callable[[sparse.csr_matrix], np.ndarray]) -> dict[str, float]:
        ranked = rankings(scorer, self.split.train.matrix, self.rows, self.k)
        return measure(
            ranked, self.split.test[self.rows], k=self.k, popularity=self.popularity,
            visitors=self.visitors,
        )  # fmt: skip


def _tune(
    name: str, stage: _Stage, catalogue: Catalogue
) -> tuple[dict[str, Any], float, Recommender]:
    """The grid point of `name` with the best validation nDCG, its score and fitted model."""
    best: tuple[float, dict[str, Any], Recommender] | None = None
    for parameters in GRIDS.get(name, [DEFAULT_PARAMETERS[name]]):
        model = ALGORITHMS[name](**parameters).fit(stage.split.train, catalogue)
        score = stage.evaluate(model.score)["ndcg"]
        if best is None or score > best[0]:
            best = (score, parameters, model)
    assert best is not None
    return best[1], best[0], best[2]


def _tune_weights(
    models: dict[str, Recommender], stage: _Stage, lead: str
) -> tuple[dict[str, float], float]:
    """Blend weights by coordinate ascent on validation nDCG, starting from `lead` alone."""
    parts = {
        name: [model.score(stage.split.train.matrix[stage.rows[s : s + BLOCK]])
               for s in range(0, len(stage.rows), BLOCK)]
        for name, model in models.items()
    }  # fmt: skip

    def score(weights: dict[str, float]) -> float:
        blocks = iter(range(len(parts[lead])))

        def scorer(_: sparse.csr_matrix) -> np.ndarray:
            index = next(blocks)  # `rankings` asks block after block, in order
            return blend({name: part[index] for name, part in parts.items()}, weights)

        return stage.evaluate(scorer)["ndcg"]

    weights = {name: 1.0 if name == lead else 0.0 for name in models}
    best = score(weights)
    for _ in range(2):
        for name in models:
            if name == lead:
                continue
            for step in WEIGHT_STEPS:
                trial = {**weights, name: step}
                value = score(trial)
                if value > best + MIN_GAIN:
                    best, weights = value, trial
    return weights, best


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
    test_stage = _Stage(outer, k, seed)
    if len(test_stage.rows) < min_visitors:
        raise EvaluationError(
            f"only {len(test_stage.rows)} visitors have items to hold out (2 or more items "
            f"each); at least {min_visitors} are needed for figures worth comparing"
        )
    inner = _Stage(holdout(outer.train, method=split, seed=seed + 1), k, seed + 1)
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
    inner: "_Stage",
    test_stage: "_Stage",
    outer: Split,
    catalogue: Catalogue,
    bar: tqdm,
) -> None:
    items = report.items
    tuned: dict[str, Recommender] = {}
    for name in names:
        bar.set_postfix_str(f"tuning {name}")
        parameters, score, model = _tune(name, inner, catalogue)
        bar.update(1)
        report.parameters[name] = parameters
        report.validation[name] = round(score, 6)
        tuned[name] = model
    lead = collaborative(items)
    blendable = {
        n: m
        for n, m in tuned.items()
        if n in (lead, "als", "item_knn", "content", "popularity", "trending")
    }
    bar.set_postfix_str("blending")
    if lead in blendable:
        report.weights, score = _tune_weights(blendable, inner, lead)
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

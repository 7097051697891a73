"""Choosing parameters and blend weights on a validation split (never on the test split).

- Grids: each point refits the model on the validation stage's training rows and is scored by
  nDCG@K on its held-out items; the best point wins.
- EASE: λ is tuned on the unpruned (dense) weights, then each column keeps the fewest
  neighbours whose validation nDCG is within `PRUNING_COST` of the unpruned model's, so that
  pruning (which bounds the stored model and scoring to items x neighbours) costs under 1 %.
- Blend weights: coordinate ascent from the best single component on validation. A weight
  changes only when the visitors' nDCG gains on average by more than `MIN_GAIN` (relative) and
  by more than twice the standard error of the paired per-visitor differences: a gain that is
  noise on validation is not repeated on the test split, and the best component alone is the
  safer hybrid. Any weight, the first component's too, may end at 0.

Cost: a fit per grid point (EASE: one dense inverse per λ plus one more for the winner, items^2
floats each); blending scores each component once per validation block and re-ranks per trial.
"""

from typing import Any

import numpy as np

from personalization.recommendations.algorithms.base import Catalogue, Recommender, dense
from personalization.recommendations.algorithms.ease import Ease, ease_weights
from personalization.recommendations.algorithms.hybrid import (
    ALGORITHMS,
    DEFAULT_PARAMETERS,
    blend,
)
from personalization.recommendations.algorithms.metrics import Stage

GRIDS: dict[str, list[dict[str, Any]]] = {
    "trending": [{"half_life_days": d} for d in (3.0, 7.0, 30.0)],
    "item_knn": [
        {"neighbours": n, "shrinkage": s} for n in (10, 25, 50, 100) for s in (0.0, 10.0, 50.0)
    ],
    "als": [
        {"factors": 32, "iterations": 8, "regularization": r, "alpha": a}
        for r in (0.1, 1.0, 10.0)
        for a in (1.0, 10.0, 40.0)
    ],
}
EASE_REGULARIZATION = (1.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0)
EASE_NEIGHBOURS = (25, 50, 100, 200, 400, 800)
PRUNING_COST = 0.005  # relative validation nDCG that pruning may cost (the budget is 1 %)
MIN_GAIN = 0.003  # relative validation nDCG a blend weight must add
WEIGHT_STEPS = (0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0)


def tune(
    name: str, stage: Stage, catalogue: Catalogue
) -> tuple[dict[str, Any], float, Recommender]:
    """The grid point of `name` with the best validation nDCG, its score and fitted model."""
    if name == "ease":
        parameters, score, model, _ = tune_ease(stage)
        return parameters, score, model
    best: tuple[float, dict[str, Any], Recommender] | None = None
    for parameters in GRIDS.get(name, [DEFAULT_PARAMETERS[name]]):
        model = ALGORITHMS[name](**parameters).fit(stage.split.train, catalogue)
        score = stage.evaluate(model.score)["ndcg"]
        if best is None or score > best[0]:
            best = (score, parameters, model)
    assert best is not None
    return best[1], best[0], best[2]


def tune_ease(stage: Stage) -> tuple[dict[str, Any], float, Ease, float]:
    """EASE's λ (unpruned) then its neighbours; also the unpruned model's validation nDCG."""
    train = stage.split.train.matrix
    scores = {}
    for regularization in EASE_REGULARIZATION:
        weights = ease_weights(train, regularization)
        scores[regularization] = stage.evaluate(lambda block, w=weights: dense(block @ w))["ndcg"]
        del weights
    regularization = max(scores, key=lambda r: scores[r])
    unpruned = scores[regularization]
    weights = ease_weights(train, regularization)
    chosen: tuple[float, Ease] | None = None
    for neighbours in EASE_NEIGHBOURS:
        model = Ease(regularization=regularization, neighbours=neighbours).prune(weights)
        score = stage.evaluate(model.score)["ndcg"]
        chosen = (score, model)
        if score >= unpruned * (1 - PRUNING_COST) or neighbours >= train.shape[1]:
            break
    assert chosen is not None
    score, model = chosen
    parameters = {"regularization": regularization, "neighbours": model.neighbours}
    return parameters, score, model, unpruned


def _better(trial: np.ndarray, current: np.ndarray) -> bool:
    """Whether per-visitor nDCGs `trial` beat `current` beyond noise (paired)."""
    gain = trial - current
    mean = float(gain.mean()) if len(gain) else 0.0
    error = float(gain.std(ddof=1) / np.sqrt(len(gain))) if len(gain) > 1 else np.inf
    return mean > MIN_GAIN * float(current.mean()) and mean > 2 * error


def tune_weights(models: dict[str, Recommender], stage: Stage) -> tuple[dict[str, float], float]:
    """Blend weights by coordinate ascent on validation nDCG, from the best component alone."""
    blocks = stage.blocks()
    parts = {name: [model.score(block) for block in blocks] for name, model in models.items()}

    def ndcgs(weights: dict[str, float]) -> np.ndarray:
        index = iter(range(len(blocks)))

        def scorer(_: object) -> np.ndarray:
            position = next(index)  # `rankings` asks block after block, in order
            return blend({name: part[position] for name, part in parts.items()}, weights)

        return stage.ndcgs(scorer)

    alone = {name: ndcgs({name: 1.0}) for name in models}
    lead = max(alone, key=lambda name: alone[name].mean())
    weights = {name: 1.0 if name == lead else 0.0 for name in models}
    current = alone[lead]
    for _ in range(2):
        for name in models:
            for step in WEIGHT_STEPS:
                trial = {**weights, name: step}
                if step == weights[name] or not any(trial.values()):
                    continue
                values = ndcgs(trial)
                if _better(values, current):
                    weights, current = trial, values
    return weights, float(current.mean())

"""Synthetic event histories whose churn follows a known logistic process (tests, bench, demo).

Each visitor has an activity rate and a last active day before the training cut-off; their
events fall uniformly in between. Then, window after window (the training horizon, the
held-out one), the visitor churns (no event in the window) with probability

    p = sigmoid(B0 + B_RECENCY * tanh((recency_days - LAPSE_DAYS) / 3)
                + B_FREQUENCY * (log1p(events_90d) - LOYAL) ** 2)

of their features at the window's start, computed exactly as `frame.features_at` does; a
visitor who stays has at least one event in the window, a purchase among them with
probability `PURCHASE_SHARE`. `probabilities` are the process's own churn probabilities at the
held-out cut-off: the best any model can do on these data. The step in recency, and
frequency that keeps visitors near a loyal rhythm (`LOYAL`) while both the rare and the
bingeing ones leave, are what a linear model on the features cannot draw.
"""

from dataclasses import dataclass

import numpy as np

from personalization.scores.frame import FEATURES, TYPE_CODES, EventFrame, features_at

B0, B_RECENCY, B_FREQUENCY, LAPSE_DAYS, LOYAL = -1.5, 1.5, 0.9, 21.0, 2.0
PURCHASE_SHARE = 0.08
HISTORY_DAYS = 240.0


@dataclass
class Synthetic:
    frame: EventFrame
    now: float
    horizon_days: float
    probabilities: np.ndarray  # churn probability per visitor row at now - horizon
    has_history: np.ndarray  # rows with events before now - horizon


def churn_probability(matrix: np.ndarray) -> np.ndarray:
    recency = matrix[:, FEATURES.index("recency_days")]
    frequency = matrix[:, FEATURES.index("events_90d")]
    logit = (
        B0
        + B_RECENCY * np.tanh((recency - LAPSE_DAYS) / 3)
        + B_FREQUENCY * (np.log1p(frequency) - LOYAL) ** 2
    )
    return 1 / (1 + np.exp(-logit))


def _events(rng, visitor: np.ndarray, start: np.ndarray, end: np.ndarray) -> list[np.ndarray]:
    day = start[visitor] + rng.random(len(visitor)) * (end[visitor] - start[visitor])
    kind = np.where(
        rng.random(len(visitor)) < PURCHASE_SHARE, TYPE_CODES["purchase"],
        rng.choice([TYPE_CODES["view"], TYPE_CODES["click"], TYPE_CODES["add_to_cart"]],
                   size=len(visitor), p=[0.7, 0.2, 0.1]),
    ).astype(np.int8)  # fmt: skip
    value = np.where(kind == TYPE_CODES["purchase"], rng.gamma(2.0, 30.0, len(visitor)), 0.0)
    return [visitor, day, kind, value]


def _append(frame: EventFrame, parts: list[np.ndarray]) -> None:
    frame.visitor = np.concatenate([frame.visitor, parts[0]])
    frame.day = np.concatenate([frame.day, parts[1]])
    frame.kind = np.concatenate([frame.kind, parts[2]])
    frame.value = np.concatenate([frame.value, parts[3]])


def synthetic_generate(
    *, visitors: int, seed: int = 0, now: float = 20_000.0, horizon_days: float = 30.0
) -> Synthetic:
    """`visitors` histories ending at `now` (epoch days), two horizons of labelled windows."""
    rng = np.random.default_rng(seed)
    cutoff = now - 2 * horizon_days
    rate = rng.lognormal(mean=-1.6, sigma=0.9, size=visitors)  # events per day while active
    first = cutoff - rng.uniform(5, HISTORY_DAYS, visitors)
    last = np.maximum(first + 0.01, cutoff - rng.exponential(35.0, visitors))
    counts = np.maximum(1, rng.poisson(rate * (last - first)))
    frame = EventFrame(visitor_ids=np.arange(1, visitors + 1, dtype=np.int64))
    _append(frame, _events(rng, np.repeat(np.arange(visitors), counts), first, last))
    probabilities = np.zeros(visitors)
    has = np.ones(visitors, bool)
    for start in (cutoff, cutoff + horizon_days):
        matrix, has = features_at(frame, start)
        probabilities = churn_probability(matrix)
        stays = rng.random(visitors) >= probabilities
        counts = np.where(stays, 1 + rng.poisson(rate * horizon_days), 0)
        begin = np.full(visitors, start)
        _append(
            frame, _events(rng, np.repeat(np.arange(visitors), counts), begin, begin + horizon_days)
        )
    return Synthetic(frame, now, horizon_days, probabilities, has)

"""Experiment statistics with scipy and numpy: tests, intervals, Bayesian odds, sequential bounds.

Every function takes summary numbers (counts, means, variances), so results are computed from
a few aggregate queries, never from rows in Python. Conventions: "a" is the control, "b" a
treatment; a difference is b - a; a lift is b / a - 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

ALPHA = 0.05
SRM_THRESHOLD = 0.001  # a sample-ratio mismatch is flagged below this p-value, as GrowthBook does


@dataclass(frozen=True)
class Comparison:
    """A treatment against the control: difference, relative lift and a p-value."""

    difference: float
    ci_low: float
    ci_high: float
    lift: float | None  # None when the control's mean is 0
    lift_low: float | None
    lift_high: float | None
    p_value: float
    statistic: float


def _relative(
    mean_a: float, se2_a: float, mean_b: float, se2_b: float, z: float
) -> tuple[float | None, float | None, float | None]:
    # Delta method on b / a: the usual interval for a relative lift.
    if mean_a == 0:
        return None, None, None
    lift = mean_b / mean_a - 1
    se = math.sqrt(se2_b / mean_a**2 + mean_b**2 * se2_a / mean_a**4)
    # A rate cannot fall by more than all of it: the lower end stops at -100 %.
    return lift, max(lift - z * se, -1.0), lift + z * se


def two_proportion_ztest(
    conversions_a: int, n_a: int, conversions_b: int, n_b: int, *, alpha: float = ALPHA
) -> Comparison:
    """Two-sided z-test of two proportions (pooled variance) with an unpooled Wald interval."""
    if n_a <= 0 or n_b <= 0:
        raise ValueError("both groups need at least one visitor")
    p_a, p_b = conversions_a / n_a, conversions_b / n_b
    pooled = (conversions_a + conversions_b) / (n_a + n_b)
    se_pooled = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    difference = p_b - p_a
    statistic = difference / se_pooled if se_pooled > 0 else 0.0
    p_value = float(2 * stats.norm.sf(abs(statistic)))
    se2_a, se2_b = p_a * (1 - p_a) / n_a, p_b * (1 - p_b) / n_b
    z = float(stats.norm.ppf(1 - alpha / 2))
    half = z * math.sqrt(se2_a + se2_b)
    lift, low, high = _relative(p_a, se2_a, p_b, se2_b, z)
    return Comparison(difference, difference - half, difference + half, lift, low, high,
                      p_value, statistic)  # fmt: skip


def welch_ttest(
    mean_a: float, var_a: float, n_a: int, mean_b: float, var_b: float, n_b: int,
    *, alpha: float = ALPHA,
) -> Comparison:  # fmt: skip
    """Welch's unequal-variance t-test from summary statistics, with its interval."""
    if n_a < 2 or n_b < 2:
        raise ValueError("both groups need at least two visitors")
    se2_a, se2_b = var_a / n_a, var_b / n_b
    se2 = se2_a + se2_b
    difference = mean_b - mean_a
    if se2 == 0:
        p_value = 1.0 if difference == 0 else 0.0
        return Comparison(difference, difference, difference, *_relative(
            mean_a, 0, mean_b, 0, 0), p_value, 0.0)  # fmt: skip
    df = se2**2 / (se2_a**2 / (n_a - 1) + se2_b**2 / (n_b - 1))
    statistic = difference / math.sqrt(se2)
    p_value = float(2 * stats.t.sf(abs(statistic), df))
    critical = float(stats.t.ppf(1 - alpha / 2, df))
    half = critical * math.sqrt(se2)
    lift, low, high = _relative(mean_a, se2_a, mean_b, se2_b, critical)
    return Comparison(difference, difference - half, difference + half, lift, low, high,
                      p_value, statistic)  # fmt: skip


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1), in input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


@dataclass(frozen=True)
class Bayesian:
    """Beta-Binomial posterior comparison of a treatment with the control."""

    chance_to_beat_control: float
    expected_loss: float  # expected shortfall in rate if the treatment is chosen and is worse
    lift_low: float  # credible interval of the relative lift
    lift_high: float


def beta_samples(
    conversions: Sequence[int], visitors: Sequence[int], *, draws: int = 20000, seed: int = 7,
    prior: tuple[float, float] = (1.0, 1.0),
) -> np.ndarray:  # fmt: skip
    """Posterior draws of each group's rate (rows: groups) under a Beta prior."""
    rng = np.random.default_rng(seed)
    return np.stack(
        [
            rng.beta(prior[0] + c, prior[1] + max(n - c, 0), size=draws)
            for c, n in zip(conversions, visitors, strict=True)
        ]
    )


def beta_binomial(
    conversions_a: int, n_a: int, conversions_b: int, n_b: int, *, alpha: float = ALPHA,
    draws: int = 20000, seed: int = 7,
) -> Bayesian:  # fmt: skip
    """Chance to beat control, expected loss and credible interval, by posterior sampling."""
    a, b = beta_samples([conversions_a, conversions_b], [n_a, n_b], draws=draws, seed=seed)
    lift = b / a - 1
    return Bayesian(
        chance_to_beat_control=float(np.mean(b > a)),
        expected_loss=float(np.mean(np.maximum(a - b, 0))),
        lift_low=float(np.quantile(lift, alpha / 2)),
        lift_high=float(np.quantile(lift, 1 - alpha / 2)),
    )


def chance_to_be_best(
    conversions: Sequence[int], visitors: Sequence[int], *, draws: int = 20000, seed: int = 7
) -> list[float]:
    """Probability that each group has the highest rate (Thompson sampling's allocation)."""
    samples = beta_samples(conversions, visitors, draws=draws, seed=seed)
    best = np.argmax(samples, axis=0)
    return [float(np.mean(best == i)) for i in range(len(conversions))]


def mixture_rho(alpha: float = ALPHA, optimal_n: float = 10000) -> float:
    """The normal-mixture parameter that makes the sequence tightest after `optimal_n` samples."""
    log_term = -2 * math.log(alpha)
    return math.sqrt((log_term + math.log(log_term + 1)) / optimal_n)


def sequence_multiplier(n, *, alpha: float = ALPHA, rho: float | None = None):
    """How many standard errors wide an always-valid interval is after `n` samples.

    The two-sided normal-mixture boundary of Howard et al. (2021) in its asymptotic form
    (Waudby-Smith et al., 2023): the interval covers the truth at every sample size at once
    with probability 1 - alpha, so results may be looked at after every visitor. Works on
    numpy arrays of `n` too.
    """
    rho = rho if rho is not None else mixture_rho(alpha)
    t_rho2 = np.asarray(n, dtype=float) * rho**2
    return np.sqrt(2 * (t_rho2 + 1) / t_rho2 * np.log(np.sqrt(t_rho2 + 1) / alpha))


@dataclass(frozen=True)
class Sequential:
    difference: float
    ci_low: float
    ci_high: float
    significant: bool  # the interval excludes 0: safe to stop, however often one looked


def confidence_sequences(mean_a, var_a, n_a, mean_b, var_b, n_b, *, alpha=ALPHA, rho=None):
    """Vectorized always-valid intervals (low, high) of b - a over arrays of summaries."""
    n_a, n_b = np.asarray(n_a, dtype=float), np.asarray(n_b, dtype=float)
    se = np.sqrt(np.asarray(var_a) / n_a + np.asarray(var_b) / n_b)
    half = sequence_multiplier(n_a + n_b, alpha=alpha, rho=rho) * se
    difference = np.asarray(mean_b) - np.asarray(mean_a)
    return difference - half, difference + half


def confidence_sequence(
    mean_a: float, var_a: float, n_a: int, mean_b: float, var_b: float, n_b: int,
    *, alpha: float = ALPHA, rho: float | None = None,
) -> Sequential:  # fmt: skip
    """Always-valid interval of the difference b - a (peeking is safe)."""
    low, high = confidence_sequences(mean_a, var_a, n_a, mean_b, var_b, n_b, alpha=alpha, rho=rho)
    low, high = float(low), float(high)
    return Sequential(mean_b - mean_a, low, high, low > 0 or high < 0)


@dataclass(frozen=True)
class SampleRatio:
    p_value: float
    mismatch: bool
    expected: list[float]


def srm_check(observed: Sequence[int], weights: Sequence[float]) -> SampleRatio:
    """Chi-square test of the visitors per variation against the configured weights."""
    total = sum(observed)
    weight_sum = sum(weights)
    expected = [total * w / weight_sum for w in weights]
    if total == 0 or any(e == 0 for e in expected):
        return SampleRatio(1.0, False, expected)
    p_value = float(stats.chisquare(observed, expected).pvalue)
    return SampleRatio(p_value, p_value < SRM_THRESHOLD, expected)


@dataclass(frozen=True)
class Cuped:
    theta: float
    adjusted: np.ndarray
    variance_reduction: float  # share of the variance removed, 0 to 1


def cuped(metric: Sequence[float], covariate: Sequence[float]) -> Cuped:
    """CUPED: the metric minus θ times the centred pre-exposure covariate, θ = cov / var.

    θ is estimated on every group together, so the adjustment does not bias a comparison.
    """
    y = np.asarray(metric, dtype=float)
    x = np.asarray(covariate, dtype=float)
    var_x = float(np.var(x, ddof=1)) if len(x) > 1 else 0.0
    if var_x == 0:
        return Cuped(0.0, y.copy(), 0.0)
    theta = float(np.cov(x, y, ddof=1)[0, 1] / var_x)
    adjusted = y - theta * (x - x.mean())
    var_y = float(np.var(y, ddof=1))
    reduction = 1 - float(np.var(adjusted, ddof=1)) / var_y if var_y > 0 else 0.0
    return Cuped(theta, adjusted, reduction)


def power(baseline: float, lift: float, n: int, *, alpha: float = ALPHA) -> float:
    """Power of a two-sided two-proportion z-test with `n` visitors per variation."""
    p1, p2 = baseline, baseline * (1 + lift)
    pooled = (p1 + p2) / 2
    z_alpha = stats.norm.ppf(1 - alpha / 2)
    spread = math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    z = (abs(p2 - p1) * math.sqrt(n) - z_alpha * math.sqrt(2 * pooled * (1 - pooled))) / spread
    return float(stats.norm.cdf(z))


def sample_size(
    baseline: float, lift: float, *, alpha: float = ALPHA, power_target: float = 0.8,
    variations: int = 2,
) -> int:  # fmt: skip
    """Visitors needed per variation to detect a relative `lift` on a `baseline` rate.

    With more than two variations alpha is split Bonferroni-style across the comparisons,
    which matches the Holm correction the results apply (Holm is never less powerful).
    """
    if not 0 < baseline < 1:
        raise ValueError("the baseline rate must be between 0 and 1")
    p2 = baseline * (1 + lift)
    if lift == 0 or not 0 < p2 < 1:
        raise ValueError("the lift must be non-zero and keep the rate between 0 and 1")
    alpha = alpha / max(variations - 1, 1)
    p1 = baseline
    pooled = (p1 + p2) / 2
    z_alpha = stats.norm.ppf(1 - alpha / 2)
    z_beta = stats.norm.ppf(power_target)
    numerator = (
        z_alpha * math.sqrt(2 * pooled * (1 - pooled))
        + z_beta * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    ) ** 2
    return math.ceil(numerator / (p2 - p1) ** 2)

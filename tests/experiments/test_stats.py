"""The statistics against scipy's own tests and integrals, and A/A simulations."""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from experiments import stats as ab


def test_the_z_test_p_value_equals_scipys_chi_square_on_the_two_by_two_table():
    result = ab.two_proportion_ztest(100, 1000, 130, 1000)

    table = [[100, 900], [130, 870]]
    reference = stats.chi2_contingency(table, correction=False)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert result.statistic**2 == pytest.approx(reference.statistic, rel=1e-9)


def test_the_z_test_interval_is_the_wald_interval_of_the_difference():
    result = ab.two_proportion_ztest(100, 1000, 130, 1000)

    half = stats.norm.ppf(0.975) * math.sqrt(0.1 * 0.9 / 1000 + 0.13 * 0.87 / 1000)
    assert (result.ci_low, result.ci_high) == pytest.approx((0.03 - half, 0.03 + half))
    assert result.lift == pytest.approx(0.3)
    assert result.lift_low < 0.3 < result.lift_high


def test_welch_matches_scipys_unequal_variance_t_test_and_its_interval():
    rng = np.random.default_rng(1)
    a, b = rng.normal(10, 2, size=40), rng.normal(11, 5, size=60)

    result = ab.welch_ttest(a.mean(), a.var(ddof=1), 40, b.mean(), b.var(ddof=1), 60)

    reference = stats.ttest_ind(b, a, equal_var=False)
    interval = reference.confidence_interval(0.95)
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)
    assert result.statistic == pytest.approx(reference.statistic, rel=1e-9)
    assert (result.ci_low, result.ci_high) == pytest.approx((interval.low, interval.high))


def test_holm_adjusts_step_down_and_keeps_the_order_of_the_p_values():
    assert ab.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_never_goes_above_one():
    assert ab.holm([0.6, 0.9]) == [1.0, 1.0]


def posterior(conversions: int, visitors: int):
    return stats.beta(1 + conversions, 1 + visitors - conversions)


def test_the_chance_to_beat_control_matches_the_integral_of_the_two_beta_posteriors():
    a, b = posterior(100, 1000), posterior(120, 1000)
    low, high = a.ppf(1e-12), b.ppf(1 - 1e-12)

    exact, _ = integrate.quad(lambda x: b.pdf(x) * a.cdf(x), low, high, limit=200)
    result = ab.beta_binomial(100, 1000, 120, 1000, draws=200_000)

    assert result.chance_to_beat_control == pytest.approx(exact, abs=0.005)


def test_the_expected_loss_matches_the_integral_of_the_shortfall():
    a, b = posterior(100, 1000), posterior(110, 1000)
    low, high = a.ppf(1e-12), a.ppf(1 - 1e-12)

    # E[max(A - B, 0)] = ∫ f_B(y) ∫_y^1 sf_A(x) dx dy
    def shortfall(y: float) -> float:
        return integrate.quad(a.sf, y, high, limit=200)[0] if y < high else 0.0

    exact, _ = integrate.quad(lambda y: b.pdf(y) * shortfall(y), low, high, limit=200)
    result = ab.beta_binomial(100, 1000, 110, 1000, draws=200_000)

    assert result.expected_loss == pytest.approx(exact, rel=0.05)


def test_the_credible_interval_of_the_lift_holds_the_observed_lift():
    result = ab.beta_binomial(100, 1000, 130, 1000)

    assert result.lift_low < 0.3 < result.lift_high
    assert result.lift_low > 0  # 13 % vs 10 % on 1,000 each is clear


def test_the_sample_ratio_check_uses_scipys_chi_square_and_warns_only_on_a_real_mismatch():
    even = ab.srm_check([5000, 5050], [0.5, 0.5])
    skewed = ab.srm_check([5000, 5400], [0.5, 0.5])

    assert even.p_value == pytest.approx(stats.chisquare([5000, 5050]).pvalue)
    assert not even.mismatch
    assert skewed.mismatch


def test_cuped_theta_is_the_regression_slope_and_removes_the_explained_variance():
    rng = np.random.default_rng(3)
    before = rng.normal(5, 2, size=5000)
    after = 0.8 * before + rng.normal(0, 1, size=5000)

    result = ab.cuped(after, before)

    slope = stats.linregress(before, after).slope
    correlation = stats.pearsonr(before, after).statistic
    assert result.theta == pytest.approx(slope)
    assert result.variance_reduction == pytest.approx(correlation**2, rel=1e-6)
    assert result.adjusted.mean() == pytest.approx(after.mean())


def test_the_sample_size_is_the_smallest_that_reaches_the_power_asked_for():
    n = ab.sample_size(0.1, 0.1)

    assert ab.power(0.1, 0.1, n) >= 0.8 > ab.power(0.1, 0.1, n - 1)
    assert 14_000 < n < 15_500  # the textbook figure for 10 % → 11 %


def test_more_variations_need_more_visitors_each():
    assert ab.sample_size(0.1, 0.1, variations=3) > ab.sample_size(0.1, 0.1)


def test_the_power_function_agrees_with_a_simulation():
    rng = np.random.default_rng(11)
    n = ab.sample_size(0.2, 0.15)
    a = rng.binomial(n, 0.2, size=4000)
    b = rng.binomial(n, 0.2 * 1.15, size=4000)
    pooled = (a + b) / (2 * n)
    z = (b - a) / n / np.sqrt(pooled * (1 - pooled) * 2 / n)

    assert np.mean(np.abs(z) > stats.norm.ppf(0.975)) == pytest.approx(0.8, abs=0.03)


# A/A tests: both arms convert at 10 %; 1,000 experiments of 5,000 visitors per arm, looked
# at after every 10 visitors per arm (500 looks each): peeking as often as a dashboard allows.
EXPERIMENTS, VISITORS, LOOK_EVERY, RATE = 1000, 5000, 10, 0.1


def aa_cumulative(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative conversions of both arms and visitors per arm at each look (rows: runs)."""
    rng = np.random.default_rng(seed)
    looks = VISITORS // LOOK_EVERY
    a = np.cumsum(rng.binomial(LOOK_EVERY, RATE, size=(EXPERIMENTS, looks)), axis=1)
    b = np.cumsum(rng.binomial(LOOK_EVERY, RATE, size=(EXPERIMENTS, looks)), axis=1)
    n = LOOK_EVERY * np.arange(1, looks + 1)
    return a, b, n


def test_a_fixed_horizon_test_finds_three_to_seven_percent_of_aa_tests_significant():
    a, b, _ = aa_cumulative(seed=2026)

    significant = sum(
        ab.two_proportion_ztest(int(x), VISITORS, int(y), VISITORS).p_value < 0.05
        for x, y in zip(a[:, -1], b[:, -1], strict=True)
    )

    assert 30 <= significant <= 70


def test_sequential_intervals_stay_within_alpha_however_often_one_peeks():
    a, b, n = aa_cumulative(seed=2026)
    rate_a, rate_b = a / n, b / n

    low, high = ab.confidence_sequences(
        rate_a, rate_a * (1 - rate_a), n, rate_b, rate_b * (1 - rate_b), n
    )
    ever_significant = np.any((low > 0) | (high < 0), axis=1)

    assert ever_significant.mean() <= 0.05


def test_peeking_at_a_fixed_horizon_test_finds_far_more_than_alpha():
    a, b, n = aa_cumulative(seed=2026)
    pooled = (a + b) / (2 * n)
    with np.errstate(divide="ignore", invalid="ignore"):  # no conversion yet at the first looks
        z = np.nan_to_num((b - a) / n / np.sqrt(pooled * (1 - pooled) * 2 / n))

    assert np.any(np.abs(z) > stats.norm.ppf(0.975), axis=1).mean() > 0.1


def test_a_sequential_interval_finds_a_real_difference():
    result = ab.confidence_sequence(0.10, 0.09, 20000, 0.12, 0.1056, 20000)

    assert result.significant and result.ci_low > 0

"""The uplift's headline says in plain words what the interval of the lift says."""

from insights.uplift import MetricUplift, verdict


def _conversion(lift, low, high) -> MetricUplift:
    personalized = 0.1 * (1 + lift) if lift is not None else 0.0
    return MetricUplift("conversion rate", 0.1, personalized, lift, low, high, 0.01, False, 0)


def test_an_interval_above_zero_reads_as_personalization_adds_conversions():
    text, significant = verdict(_conversion(0.12, 0.04, 0.20))

    assert text == "Personalization adds +12.0 % conversions (95 % interval +4.0 % to +20.0 %)."
    assert significant


def test_an_interval_below_zero_reads_as_personalization_costs_conversions():
    text, significant = verdict(_conversion(-0.1, -0.18, -0.02))

    assert text.startswith("Personalization costs -10.0 % conversions")
    assert significant


def test_an_interval_across_zero_reads_as_no_clear_difference_yet():
    text, significant = verdict(_conversion(0.05, -0.03, 0.13))

    assert text.startswith("No clear difference yet: +5.0 % conversions")
    assert not significant


def test_a_holdout_without_conversions_has_no_lift_to_tell():
    text, significant = verdict(_conversion(None, None, None))

    assert "no uplift can be measured" in text
    assert not significant

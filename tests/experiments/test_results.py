from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from experiments.models import Exposure, Metric
from experiments.selectors import experiment_results
from tests.factories import ContentItemFactory, EventFactory, SlotFactory, VisitorFactory
from tests.factories.experiments import ExperimentFactory


def expose(experiment, variation_key: str, visitors: int, converting: int, *, days_ago=2,
           event="purchase", value=None, after_hours=1):  # fmt: skip
    """`visitors` exposed to the variation, the first `converting` of whom convert after it."""
    variation = experiment.variations.get(key=variation_key)
    exposed_at = timezone.now() - timedelta(days=days_ago)
    for n in range(visitors):
        visitor = VisitorFactory()
        Exposure.objects.create(
            visitor=visitor, experiment=experiment, variation=variation, exposed_at=exposed_at
        )
        if n < converting:
            EventFactory(
                visitor=visitor, type=event, value=value,
                occurred_at=exposed_at + timedelta(hours=after_hours),
            )  # fmt: skip


@pytest.fixture
def experiment():
    return ExperimentFactory(
        key="hero-test", status="running", start_at=timezone.now() - timedelta(days=3)
    )


def by_key(metric_result):
    return {v.key: v for v in metric_result.variations}


@pytest.mark.django_db
def test_results_count_exposed_visitors_and_conversions_within_the_window(experiment):
    expose(experiment, "control", 100, 10)
    expose(experiment, "treatment", 100, 20)
    expose(experiment, "treatment", 10, 10, after_hours=100)  # after the 72 h window

    rows = by_key(experiment_results(experiment).primary)

    assert (rows["control"].visitors, rows["control"].conversions) == (100, 10)
    assert (rows["treatment"].visitors, rows["treatment"].conversions) == (110, 20)
    assert rows["treatment"].mean == pytest.approx(20 / 110)


@pytest.mark.django_db
def test_an_event_before_the_exposure_is_not_a_conversion(experiment):
    expose(experiment, "control", 10, 5, after_hours=-2)
    expose(experiment, "treatment", 10, 0)

    assert by_key(experiment_results(experiment).primary)["control"].conversions == 0


@pytest.mark.django_db
def test_a_clearly_better_treatment_has_a_lift_interval_above_zero_and_a_high_chance_to_win(
    experiment,
):
    expose(experiment, "control", 300, 30)
    expose(experiment, "treatment", 300, 75)

    results = experiment_results(experiment)
    treatment = by_key(results.primary)["treatment"]

    assert treatment.lift == pytest.approx(1.5)
    assert treatment.lift_low > 0
    assert treatment.p_value < 0.001
    assert treatment.chance_to_win > 0.99
    assert results.leader.key == "treatment"


@pytest.mark.django_db
def test_no_winner_is_suggested_while_the_difference_is_noise(experiment):
    expose(experiment, "control", 100, 10)
    expose(experiment, "treatment", 100, 11)

    assert experiment_results(experiment).leader is None


@pytest.mark.django_db
def test_a_sample_ratio_mismatch_is_flagged(experiment):
    expose(experiment, "control", 200, 0)
    expose(experiment, "treatment", 100, 0)

    srm = experiment_results(experiment).srm

    assert srm.mismatch and srm.p_value < 0.001


@pytest.mark.django_db
def test_visitors_split_as_configured_raise_no_sample_ratio_warning(experiment):
    expose(experiment, "control", 100, 0)
    expose(experiment, "treatment", 104, 0)

    assert not experiment_results(experiment).srm.mismatch


@pytest.mark.django_db
def test_revenue_per_visitor_sums_the_values_in_the_window(experiment):
    Metric.objects.create(experiment=experiment, kind=Metric.Kind.REVENUE, event_type="purchase")
    expose(experiment, "control", 20, 10, value=Decimal("10"))
    expose(experiment, "treatment", 20, 10, value=Decimal("30"))

    revenue = by_key(experiment_results(experiment).metrics[1])

    assert revenue["control"].mean == pytest.approx(5.0)
    assert revenue["treatment"].mean == pytest.approx(15.0)


@pytest.mark.django_db
def test_activity_before_exposure_makes_the_results_cuped_adjusted(experiment):
    expose(experiment, "control", 60, 20)
    expose(experiment, "treatment", 60, 30)
    # Those who bought before tend to buy again: the covariate explains part of the outcome.
    for exposure in Exposure.objects.all()[:70]:
        EventFactory(
            visitor=exposure.visitor, type="purchase",
            occurred_at=exposure.exposed_at - timedelta(days=3),
        )  # fmt: skip

    primary = experiment_results(experiment).primary

    assert primary.cuped
    assert 0 < primary.variance_reduction < 1


@pytest.mark.django_db
def test_the_metric_over_time_is_cumulative_per_day_with_a_band(experiment):
    expose(experiment, "control", 10, 5, days_ago=2)
    expose(experiment, "control", 10, 0, days_ago=1)
    expose(experiment, "treatment", 10, 5, days_ago=2)

    series = experiment_results(experiment).primary.series["control"]

    today = timezone.localdate()
    visitors = {p.day: p.visitors for p in series}
    assert [visitors[today - timedelta(days=d)] for d in (2, 1, 0)] == [10, 20, 20]
    assert series[-1].mean == pytest.approx(0.25)
    assert series[-1].low < 0.25 < series[-1].high


@pytest.mark.django_db
def test_click_through_rate_counts_visitors_who_clicked_within_the_window(experiment):
    Metric.objects.create(experiment=experiment, kind=Metric.Kind.CTR, window_hours=24)
    expose(experiment, "control", 10, 2, event="click")
    expose(experiment, "treatment", 10, 5, event="click")
    expose(experiment, "treatment", 5, 5, event="purchase")  # not clicks

    ctr = by_key(experiment_results(experiment).metrics[1])

    assert (ctr["control"].mean, ctr["treatment"].mean) == (0.2, pytest.approx(5 / 15))


@pytest.mark.django_db
def test_a_draft_without_exposures_has_empty_results_and_no_warning():
    results = experiment_results(ExperimentFactory())

    assert results.visitors == 0 and results.srm is None and results.leader is None
    assert [v.visitors for v in results.primary.variations] == [0, 0]


@pytest.mark.django_db
def test_cuped_results_show_the_adjusted_rates_the_lift_compares(experiment):
    expose(experiment, "control", 60, 20)
    expose(experiment, "treatment", 60, 30)
    for exposure in Exposure.objects.all()[:70]:
        EventFactory(
            visitor=exposure.visitor, type="purchase",
            occurred_at=exposure.exposed_at - timedelta(days=3),
        )  # fmt: skip

    rows = by_key(experiment_results(experiment).primary)

    control, treatment = rows["control"], rows["treatment"]
    assert control.adjusted_mean is not None and treatment.adjusted_mean is not None
    assert treatment.lift == pytest.approx(treatment.adjusted_mean / control.adjusted_mean - 1)


@pytest.mark.django_db
def test_click_through_rate_on_a_slot_counts_only_clicks_on_that_slot():
    hero_item, elsewhere = ContentItemFactory(), ContentItemFactory()
    slot = SlotFactory(key="hero", default_items=[hero_item])
    experiment = ExperimentFactory(
        key="hero-ctr", slot=slot, status="running", start_at=timezone.now() - timedelta(days=3)
    )
    Metric.objects.create(experiment=experiment, kind=Metric.Kind.CTR, window_hours=24)
    exposed_at = timezone.now() - timedelta(days=1)
    clicks = {"control": [hero_item, elsewhere, None], "treatment": [elsewhere, elsewhere, None]}
    for key, items in clicks.items():
        variation = experiment.variations.get(key=key)
        for item in items:
            visitor = VisitorFactory()
            Exposure.objects.create(
                visitor=visitor, experiment=experiment, variation=variation, exposed_at=exposed_at
            )
            properties = {"slot": "hero"} if item is None else {}
            EventFactory(
                visitor=visitor, type="click", item=item, properties=properties,
                occurred_at=exposed_at + timedelta(hours=1),
            )  # fmt: skip

    ctr = by_key(experiment_results(experiment).metrics[1])

    assert ctr["control"].conversions == 2  # the hero item, and a tracked link of the slot
    assert ctr["treatment"].conversions == 1  # clicks elsewhere do not count


def local_noon(days_ago: int, *, hours: float = 0):
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    return noon - timedelta(days=days_ago) + timedelta(hours=hours)


@pytest.fixture
def revenue_experiment():
    return ExperimentFactory(
        key="price-test", status="running", start_at=timezone.now() - timedelta(days=3),
        metric__kind=Metric.Kind.REVENUE, metric__event_type="purchase", metric__window_hours=24,
    )  # fmt: skip


def exposed_two_days_ago(experiment, count: int) -> list:
    control = experiment.variations.get(key="control")
    visitors = [VisitorFactory() for _ in range(count)]
    for visitor in visitors:
        Exposure.objects.create(
            visitor=visitor, experiment=experiment, variation=control, exposed_at=local_noon(2)
        )
    return visitors


def spent(visitor, value: str, at) -> None:
    EventFactory(visitor=visitor, type="purchase", value=Decimal(value), occurred_at=at)


def means_by_day(experiment) -> dict:
    series = experiment_results(experiment).primary.series["control"]
    today = timezone.localdate()
    return {(today - p.day).days: p.mean for p in series}


@pytest.mark.django_db
def test_revenue_over_time_counts_each_purchase_on_the_day_it_happened(revenue_experiment):
    first, second, *_ = exposed_two_days_ago(revenue_experiment, 4)
    spent(first, "10.00", local_noon(2, hours=1))
    spent(second, "20.00", local_noon(1, hours=-1))

    assert means_by_day(revenue_experiment) == {
        2: pytest.approx(2.5),
        1: pytest.approx(7.5),
        0: pytest.approx(7.5),
    }


@pytest.mark.django_db
def test_revenue_over_time_leaves_out_purchases_outside_the_window(revenue_experiment):
    first, second = exposed_two_days_ago(revenue_experiment, 2)
    spent(first, "10.00", local_noon(2, hours=1))
    spent(first, "30.00", local_noon(3))  # before the exposure
    spent(second, "50.00", local_noon(1, hours=1))  # 25 hours after, the window is 24

    assert means_by_day(revenue_experiment)[0] == pytest.approx(5.0)


@pytest.mark.django_db
def test_revenue_over_time_has_a_band_around_the_mean(revenue_experiment):
    visitors = exposed_two_days_ago(revenue_experiment, 10)
    for n, visitor in enumerate(visitors[:5]):
        spent(visitor, f"{10 + n}.00", local_noon(2, hours=1))

    last = experiment_results(revenue_experiment).primary.series["control"][-1]

    assert last.mean == pytest.approx(6.0)
    assert 0 <= last.low < last.mean < last.high

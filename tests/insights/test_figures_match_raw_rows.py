"""Dashboard and API figures equal the same figures computed with SQL over the raw rows."""

from datetime import timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.utils import timezone

from experiments import stats
from insights.models import AudienceRollup, DeliveryRollup, HoldoutRollup
from insights.selectors import Range
from insights.services import insights_compute, insights_recompute
from personalization.visitors.models import Event
from tests.factories import UserFactory
from tests.insights import sql
from tests.insights.conftest import DAYS

pytestmark = pytest.mark.django_db


@pytest.fixture
def period() -> Range:
    today = timezone.localdate()
    return Range(today - timedelta(days=DAYS + 1), today)


@pytest.fixture
def analyst_client(client):
    client.force_login(UserFactory(superuser=True))
    return client


def _api(client, path: str, period: Range):
    response = client.get(f"/api/v1/insights/{path}?from={period.start}&to={period.end}")
    assert response.status_code == 200, response.content
    return response.json()


def _kpis(client, period: Range) -> dict:
    return {k["key"]: k["value"] for k in _api(client, "summary", period)["kpis"]}


def _assert_match_raw_rows(client, period: Range) -> None:
    start, end = period.bounds()
    impressions, clicks = sql.impressions_by_slot(start, end), sql.clicks_by_slot(start, end)
    conversions = sql.conversions_by_slot(start, end)
    kpis = _kpis(client, period)
    assert kpis["impressions"] == sum(impressions.values())
    assert kpis["ctr"] == pytest.approx(sum(clicks.values()) / sum(impressions.values()))
    assert kpis["conversions"] == sum(n for n, _ in conversions.values())
    assert kpis["revenue"] == pytest.approx(sum(v for _, v in conversions.values()))
    assert kpis["revenue_per_visitor"] == pytest.approx(sql.revenue_per_visitor(start, end))
    slots = {r["key"]: r for r in _api(client, "tables/slots", period)}
    assert {k: r["impressions"] for k, r in slots.items()} == impressions
    assert {k: r["clicks"] for k, r in slots.items() if r["clicks"]} == clicks
    assert {k: (r["conversions"], pytest.approx(r["revenue"])) for k, r in slots.items()
            if r["conversions"]} == conversions  # fmt: skip
    rules = _api(client, "tables/rules", period)
    by_rule = {int(r["key"].split(":")[1]): r for r in rules}
    assert {k: r["clicks"] for k, r in by_rule.items() if r["clicks"]} == sql.clicks_by_rule(
        start, end
    )
    assert {k: (r["conversions"], pytest.approx(r["revenue"])) for k, r in by_rule.items()
            if r["conversions"]} == sql.conversions_by_rule(start, end)  # fmt: skip


def test_click_through_conversions_and_revenue_per_visitor_equal_sql_over_raw_rows(
    history, analyst_client, period
):
    insights_compute()

    _assert_match_raw_rows(analyst_client, period)


def test_the_dashboard_shows_the_same_headline_figures_as_the_api(history, analyst_client, period):
    insights_compute()

    page = analyst_client.get(f"/admin/insights/?from={period.start}&to={period.end}")

    assert page.status_code == 200
    shown = {k.key: k.value for k in page.context["kpis"]}
    assert shown == pytest.approx(_kpis(analyst_client, period))


def test_a_purchase_that_arrives_late_counts_on_the_day_it_happened(
    history, analyst_client, period
):
    insights_compute()
    click = Event.objects.filter(type="click", properties__has_key="slot").order_by("pk")[3]
    history.event(click.visitor, "purchase", click.occurred_at + timedelta(hours=5),
                  received_at=timezone.now(), item=click.item, value=Decimal("77.70"))  # fmt: skip

    insights_compute()

    _assert_match_raw_rows(analyst_client, period)


def _snapshot() -> dict:
    return {
        model.__name__: sorted(tuple(row.values()) for row in model.objects.values()
                               .order_by().values(*[f.attname for f in model._meta.fields
                                                    if f.name != "id"]))
        for model in (DeliveryRollup, AudienceRollup, HoldoutRollup)
    }  # fmt: skip


def test_recomputing_days_gives_the_same_rollups(history):
    insights_compute()
    before = _snapshot()

    insights_recompute(days=DAYS + 2)

    assert _snapshot() == before


def test_a_recomputed_day_gets_back_a_cell_it_lost(history, analyst_client, period):
    insights_compute()
    DeliveryRollup.objects.filter(granularity="day").order_by("pk").first().delete()

    insights_recompute(days=DAYS + 2)

    _assert_match_raw_rows(analyst_client, period)


def _expected_uplift(rows: list[tuple]) -> tuple[float, float, float]:
    """Lift and interval as experiments' results compute them: CUPED on the rows, then Welch."""
    holdout = np.array([r[0] for r in rows])
    converted = np.array([float(r[1]) for r in rows])
    prior = np.array([float(r[3]) for r in rows])
    adjusted = stats.cuped(converted, prior).adjusted
    a, b = adjusted[holdout], adjusted[~holdout]
    test = stats.welch_ttest(a.mean(), a.var(ddof=1), len(a), b.mean(), b.var(ddof=1), len(b))
    return test.lift, test.ci_low / a.mean(), test.ci_high / a.mean()


def test_the_uplift_equals_cuped_and_welch_on_each_exposed_visitor(
    holdout_history, analyst_client, period
):
    insights_compute()
    start, end = period.bounds()
    rows = sql.holdout_visitors(holdout_history.pk, start, end)

    uplift = _api(analyst_client, "summary", period)["uplift"]

    expected = _expected_uplift(rows)
    assert uplift["holdout_visitors"] == sum(1 for r in rows if r[0])
    assert uplift["conversion"]["cuped"] is True
    assert (uplift["conversion"]["lift"], uplift["conversion"]["low"],
            uplift["conversion"]["high"]) == pytest.approx(
        expected)  # fmt: skip


def test_revenue_per_visitor_of_each_arm_equals_sql(holdout_history, analyst_client, period):
    insights_compute()
    start, end = period.bounds()
    rows = sql.holdout_visitors(holdout_history.pk, start, end)

    uplift = _api(analyst_client, "summary", period)["uplift"]

    revenue = np.array([float(r[2]) for r in rows])
    prior = np.array([float(r[3]) for r in rows])
    holdout = np.array([r[0] for r in rows])
    adjusted = stats.cuped(revenue, prior).adjusted
    assert uplift["revenue"]["holdout"] == pytest.approx(adjusted[holdout].mean())
    assert uplift["revenue"]["personalized"] == pytest.approx(adjusted[~holdout].mean())

import base64
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from experiments.models import Exposure
from tests.factories import (
    ContentItemFactory,
    EventFactory,
    SlotFactory,
    UserFactory,
    VisitorFactory,
)
from tests.factories.experiments import ExperimentFactory
from tests.screens import log_in


def exposed_with_buyers(experiment, buyers: dict[str, int], *, days: int, spend=False) -> None:
    """20 visitors per variation exposed over the last `days` days, the first `buyers[key]` of
    whom buy soon after (for 20 + 5·n each when `spend`)."""
    for key, count in buyers.items():
        variation = experiment.variations.get(key=key)
        for n in range(20):
            exposure = Exposure.objects.create(
                visitor=VisitorFactory(), experiment=experiment, variation=variation,
                exposed_at=timezone.now() - timedelta(days=days - 1 - n % days),
            )  # fmt: skip
            if n < count:
                EventFactory(
                    visitor=exposure.visitor, type="purchase",
                    value=Decimal(f"{20 + 5 * n}.00") if spend else None,
                    occurred_at=exposure.exposed_at + timedelta(hours=1),
                )  # fmt: skip


@pytest.mark.browser
def test_an_analyst_opens_a_running_experiments_results_and_sees_the_table_and_chart(
    page, transactional_db
):
    analyst = UserFactory(username="ana", staff=True)
    analyst.groups.add(Group.objects.get(name="Analyst"))
    experiment = ExperimentFactory(
        key="hero-test", name="Hero banner test", slot=SlotFactory(key="homepage-hero"),
        status="running", start_at=timezone.now() - timedelta(days=3),
    )  # fmt: skip
    exposed_with_buyers(experiment, {"control": 3, "treatment": 8}, days=3)

    log_in(page, "ana")
    page.goto("/admin/experiments/experiment/")
    page.locator("#result_list tr", has_text="hero-test").get_by_role(
        "link", name="Results"
    ).click()

    table = page.locator("#primary-results")
    table.wait_for()
    rows = table.locator("tbody tr")
    assert rows.count() == 2
    assert "20" in rows.nth(1).inner_text() and "40.00 %" in rows.nth(1).inner_text()
    chart = page.locator("#results-chart img")
    assert chart.is_visible()
    assert chart.evaluate("image => image.complete && image.naturalWidth") > 200
    assert chart.bounding_box()["width"] > 200
    svg = base64.b64decode(chart.get_attribute("src").split(",", 1)[1]).decode()
    assert svg.count("<path") > 2  # lines and interval bands


@pytest.mark.browser
def test_a_superuser_sees_a_revenue_experiments_revenue_over_time(page, transactional_db):
    UserFactory(username="root", superuser=True)
    experiment = ExperimentFactory(
        key="price-test", name="Price test", status="running",
        start_at=timezone.now() - timedelta(days=4), metric__kind="revenue",
        metric__event_type="purchase",
    )  # fmt: skip
    exposed_with_buyers(experiment, {"control": 4, "treatment": 7}, days=4, spend=True)

    log_in(page, "root")
    page.goto(f"/admin/experiments/experiment/{experiment.pk}/results/")

    chart = page.locator("#results-chart img")
    assert chart.evaluate("image => image.complete && image.naturalWidth") > 200
    svg = base64.b64decode(chart.get_attribute("src").split(",", 1)[1]).decode()
    assert "cumulative revenue per visitor" in svg and svg.count("<path") > 2


@pytest.mark.browser
def test_an_editor_stops_and_ships_the_winner_from_the_results_page(page, transactional_db):
    editor = UserFactory(username="edith", staff=True)
    editor.groups.add(Group.objects.get(name="Editor"))
    slot = SlotFactory(key="homepage-hero")
    experiment = ExperimentFactory(key="hero-test", slot=slot, status="running")
    sale = ContentItemFactory(title="Spring sale")
    experiment.variations.get(key="treatment").items.set([sale])

    log_in(page, "edith")
    page.goto(f"/admin/experiments/experiment/{experiment.pk}/results/")
    page.select_option("#ship-variation", label="treatment")
    page.click("#ship-form input[type=submit]")

    page.locator(".messagelist .success", has_text="made 'treatment' the content").wait_for()
    assert list(slot.default_items.all()) == [sale]
    assert "Stop and ship" not in page.content()

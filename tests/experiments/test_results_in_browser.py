import base64
from datetime import timedelta

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
from tests.factories.users import PASSWORD


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
    for variation, converting in ((experiment.variations.get(key="control"), 3),
                                  (experiment.variations.get(key="treatment"), 8)):  # fmt: skip
        for n in range(20):
            exposure = Exposure.objects.create(
                visitor=VisitorFactory(), experiment=experiment, variation=variation,
                exposed_at=timezone.now() - timedelta(days=2 - n % 3),
            )  # fmt: skip
            if n < converting:
                EventFactory(
                    visitor=exposure.visitor, type="purchase",
                    occurred_at=exposure.exposed_at + timedelta(hours=1),
                )  # fmt: skip

    page.goto("/admin/login/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.locator("#user-tools").wait_for()
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
def test_an_editor_stops_and_ships_the_winner_from_the_results_page(page, transactional_db):
    editor = UserFactory(username="edith", staff=True)
    editor.groups.add(Group.objects.get(name="Editor"))
    slot = SlotFactory(key="homepage-hero")
    experiment = ExperimentFactory(key="hero-test", slot=slot, status="running")
    sale = ContentItemFactory(title="Spring sale")
    experiment.variations.get(key="treatment").items.set([sale])

    page.goto("/admin/login/")
    page.fill("#id_username", "edith")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.locator("#user-tools").wait_for()
    page.goto(f"/admin/experiments/experiment/{experiment.pk}/results/")
    page.select_option("#ship-variation", label="treatment")
    page.click("#ship-form input[type=submit]")

    page.locator(".messagelist .success", has_text="made 'treatment' the content").wait_for()
    assert list(slot.default_items.all()) == [sale]
    assert "Stop and ship" not in page.content()

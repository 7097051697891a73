"""An analyst opens the insights dashboard and a slot's page on the demo's shop history."""

import base64
from io import StringIO

import pytest
from django.contrib.auth.models import Group

from content.demo import seed_content
from content.models import Slot
from content.registry import DemoOptions
from insights.demo import insights_demo_seed
from tests.factories import UserFactory
from tests.factories.users import PASSWORD


@pytest.fixture
def analyst_on_demo(transactional_db):
    seed_content()
    insights_demo_seed(DemoOptions(visitors=50, seed=42, write=StringIO().write))
    analyst = UserFactory(username="ana", staff=True)
    analyst.groups.add(Group.objects.get(name="Analyst"))
    return analyst


def _login(page) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", "ana")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.locator("#user-tools").wait_for()


def _drawn(image) -> bool:
    svg = base64.b64decode(image.get_attribute("src").split(",", 1)[1]).decode()
    return image.evaluate("i => i.complete && i.naturalWidth") > 200 and svg.count("<path") > 2


@pytest.mark.browser
def test_the_admin_home_page_opens_on_the_insights_headline_and_verdict(page, analyst_on_demo):
    _login(page)

    home = page.locator("#insights-home")
    assert home.is_visible()
    assert home.locator(".insights-kpi").count() == 8
    assert "Personalization adds" in page.locator("#insights-verdict").inner_text()
    assert page.locator("#content-main").is_visible()  # the app list stays below


@pytest.mark.browser
def test_the_dashboard_shows_kpis_charts_the_uplift_and_tables(page, analyst_on_demo):
    _login(page)
    page.goto("/admin/insights/")

    kpis = page.locator("#insights-kpis .insights-kpi")
    assert kpis.count() == 8
    assert page.locator('[data-kpi="impressions"] .insights-kpi-value').inner_text() != "—"
    assert "vs previous 28 days" in kpis.first.inner_text()
    verdict = page.locator("#insights-verdict").inner_text()
    assert verdict.startswith("Personalization adds") and "95 % interval" in verdict
    for chart in ("#insights-chart-traffic img", "#insights-chart-rates img"):
        assert _drawn(page.locator(chart))
    assert page.locator("#insights-slots-top tbody tr").count() == 2
    assert "Every visitor" in page.locator("#insights-segments-all").inner_text()
    with page.expect_download() as download:
        page.locator("#insights-rules a", has_text="as CSV").click()
    assert download.value.suggested_filename.startswith("insights-rules-")


@pytest.mark.browser
def test_a_slots_page_shows_each_rules_performance(page, analyst_on_demo):
    slot = Slot.objects.get(key="homepage-hero")
    _login(page)
    page.goto(f"/admin/content/slot/{slot.pk}/change/")

    panel = page.locator("#insights-slot-panel")
    panel.wait_for()
    rows = panel.locator("tbody tr")
    assert rows.count() >= 2
    assert "default, holdout or experiment" in panel.inner_text()
    assert "%" in rows.first.inner_text()

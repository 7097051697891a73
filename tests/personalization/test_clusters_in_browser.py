"""An editor opens the current clustering run in a real browser and sees the projection."""

import pytest

from personalization.clustering.selectors import clusters_cache_clear
from personalization.clustering.services import clusters_compute_all
from tests.factories import UserFactory
from tests.factories.clusters import population_create
from tests.factories.users import PASSWORD


@pytest.mark.browser
def test_an_editor_sees_the_runs_projection_and_names_a_cluster(page, transactional_db):
    clusters_cache_clear()
    UserFactory(username="clara", superuser=True)
    population_create(160, seed=42)
    summary = clusters_compute_all(k_range=(4, 4))

    page.goto("/admin/login/")
    page.fill("#id_username", "clara")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.locator("#user-tools").wait_for()
    page.goto(f"/admin/personalization/clusterrun/{summary['run']}/change/")

    chart = page.locator("svg.tailor-cluster-projection")
    chart.wait_for()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 400 and box["height"] > 300
    assert chart.locator("circle").count() == 160
    assert {chart.locator(f'circle[data-cluster="{n}"]').count() > 0 for n in range(4)} == {True}

    page.locator(".tailor-clusters a").first.click()
    page.fill("#id_name", "Weekend runners")
    page.click("input[name=_save]")
    page.locator(".messagelist .success").wait_for()
    page.goto(f"/admin/personalization/clusterrun/{summary['run']}/change/")
    assert page.locator("svg.tailor-cluster-projection", has_text="Weekend runners").count() == 1

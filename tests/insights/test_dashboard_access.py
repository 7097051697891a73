"""The dashboard, its CSV files and the home page's headline are for staff allowed insights."""

import csv
import io

import pytest
from django.contrib.auth.models import Group

from insights.services import insights_compute
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

CSV_KEYS = ["slots", "rules", "items", "segments", "algorithms", "kpis", "daily", "uplift"]


def login(client, *groups: str):
    user = UserFactory(username="u-" + "-".join(groups).lower().replace(" ", "-"), staff=True)
    user.groups.add(*Group.objects.filter(name__in=groups))
    client.force_login(user)
    return client


def test_staff_without_the_permission_get_403_from_the_dashboard(client):
    assert login(client, "Privacy officer").get("/admin/insights/").status_code == 403


def test_staff_without_the_permission_do_not_see_insights_on_the_home_page(client):
    page = login(client, "Privacy officer").get("/admin/")

    assert page.status_code == 200
    assert b'id="insights-home"' not in page.content


def test_an_analyst_sees_the_headline_and_the_uplift_on_the_home_page(client):
    page = login(client, "Analyst").get("/admin/")

    assert b'id="insights-home"' in page.content
    assert b'id="insights-verdict"' in page.content


def test_someone_signed_out_is_sent_to_the_login_page(client):
    response = client.get("/admin/insights/")

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize("key", CSV_KEYS)
def test_every_table_downloads_as_csv_with_a_header(history, client, key):
    insights_compute()

    response = login(client, "Editor").get(f"/admin/insights/csv/{key}.csv")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows and rows[0]


def test_a_csv_of_a_bad_range_says_why(client):
    response = login(client, "Editor").get("/admin/insights/csv/slots.csv?from=not-a-day")

    assert response.status_code == 400
    assert b"from: 'not-a-day' is not a date" in response.content


def test_a_bad_range_on_the_dashboard_says_why_and_shows_the_last_28_days(client):
    page = login(client, "Editor").get("/admin/insights/?from=2026-02-30")

    assert page.status_code == 200
    assert b"is not a date" in page.content
    assert page.context["period"].days == 28

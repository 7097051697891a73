"""A cell with fewer visitors than the threshold keeps its name but shows no figures."""

from datetime import timedelta

import pytest
from django.utils import timezone

from insights.selectors import Range
from insights.services import insights_compute
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_api_hides_the_figures_of_a_slot_seen_by_too_few_visitors(history, settings, client):
    insights_compute()
    settings.TAILOR_INSIGHTS_MIN_VISITORS = 10_000
    client.force_login(UserFactory(superuser=True))
    today = timezone.localdate()
    period = Range(today - timedelta(days=12), today)

    rows = client.get(f"/api/v1/insights/tables/slots?from={period.start}&to={period.end}").json()

    assert {r["key"] for r in rows} == {"home-hero", "home-rail"}
    assert all(r["suppressed"] and r["impressions"] is None and r["clicks"] is None for r in rows)

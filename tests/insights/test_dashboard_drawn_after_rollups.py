"""A rollup run draws the default dashboard, so that its first reader does not wait for it."""

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from insights.tasks import compute_insights
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def dashboard_queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/admin/insights/").status_code == 200
    return len(queries)


def test_the_first_reader_after_a_rollup_run_costs_what_a_second_reader_costs(history, client):
    analyst = UserFactory(username="analyst-reader", staff=True)
    analyst.groups.add(Group.objects.get(name="Analyst"))
    client.force_login(analyst)
    cache.clear()

    compute_insights()
    first, second = dashboard_queries(client), dashboard_queries(client)

    assert first == second

"""Who may read `/api/v1/insights/…`: keys with `insights:read`, people allowed to see insights."""

from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from insights.services import insights_compute
from tests.factories import api_client_signed_in

pytestmark = pytest.mark.django_db

ENDPOINTS = ["/api/v1/insights/summary", "/api/v1/insights/daily",
             "/api/v1/insights/tables/slots"]  # fmt: skip


def key_client(scopes: str) -> APIClient:
    out = StringIO()
    call_command("create_api_key", "bi", "--scopes", scopes, stdout=out)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {out.getvalue().strip().splitlines()[-1]}")
    return client


@pytest.mark.parametrize("path", ENDPOINTS)
def test_an_anonymous_caller_gets_401_with_a_json_error(path):
    response = APIClient().get(path)

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_key_without_the_insights_scope_is_refused(path):
    response = key_client("profiles:read,segments:write").get(path)

    assert response.status_code == 403


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_key_with_the_insights_scope_reads_aggregates(history, path):
    insights_compute()

    response = key_client("insights:read").get(path)

    assert response.status_code == 200


def test_staff_without_the_insights_permission_are_refused_however_staff_they_are():
    response = api_client_signed_in("Privacy officer").get(ENDPOINTS[0])

    assert response.status_code == 403
    assert response.json()["message"] == "Your account lacks the permissions needed here."


def test_an_analyst_signed_into_the_admin_reads_the_summary():
    assert api_client_signed_in("Analyst").get(ENDPOINTS[0]).status_code == 200


@pytest.mark.parametrize(
    "query, field",
    [("from=2026-13-01", "from"), ("to=yesterday", "to"), ("from=2026-05-02&to=2026-05-01", "to"),
     ("from=2020-01-01&to=2026-01-01", "from"), ("from=0001-01-01&to=0001-01-05", "from"),
     ("to=9999-12-31", "to")],
)  # fmt: skip
def test_a_bad_range_is_a_400_naming_the_field(query, field):
    response = key_client("insights:read").get(f"{ENDPOINTS[0]}?{query}")

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_an_unknown_table_is_a_json_404():
    response = key_client("insights:read").get("/api/v1/insights/tables/visitors")

    assert response.status_code == 404
    assert "slots" in response.json()["message"]


def test_the_insights_endpoints_are_in_the_api_document():
    document = key_client("insights:read").get("/api/v1/schema/?format=json").json()

    assert {"/api/v1/insights/summary", "/api/v1/insights/daily",
            "/api/v1/insights/tables/{table}"} <= set(document["paths"])  # fmt: skip

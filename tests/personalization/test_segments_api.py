"""`GET /api/v1/profiles/{visitor_id}/segments` with an API key holding `profiles:read`."""

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from personalization.segments.selectors import segments_cache_clear
from tests.factories import api_client_with_key
from tests.factories.personalization import (
    SegmentFactory,
    SegmentMembershipFactory,
    VisitorFactory,
    grant,
)

pytestmark = pytest.mark.django_db

JOINED = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_definitions():
    segments_cache_clear()
    yield
    segments_cache_clear()


def client_with(*scopes: str) -> APIClient:
    return api_client_with_key(*scopes, name="crm")


@pytest.fixture
def crm() -> APIClient:
    return client_with("profiles:read")


@pytest.fixture
def customer():
    """A pro customer in the static "newsletter" list who allows personalization."""
    visitor = VisitorFactory(external_id="crm-7", traits={"plan": "pro"})
    grant(visitor, "analytics", "personalization")
    newsletter = SegmentFactory(key="newsletter", name="Newsletter", kind="static")
    SegmentMembershipFactory(segment=newsletter, visitor=visitor, since=JOINED)
    return visitor


def test_the_segments_of_a_visitor_are_stored_ones_and_live_ones_they_match(crm, customer):
    SegmentFactory(
        key="pro-or-mobile",
        name="Pro or mobile",
        condition={"$or": [{"device": "mobile"}, {"traits.plan": "pro"}]},
    )
    SegmentFactory(key="mobile", condition={"device": "mobile"})

    response = crm.get("/api/v1/profiles/crm-7/segments")

    assert response.status_code == 200
    assert response.json() == {
        "visitor_id": "crm-7",
        "segments": [
            {
                "key": "newsletter",
                "name": "Newsletter",
                "since": "2025-05-01T08:00:00Z",
                "live": False,
            },
            {"key": "pro-or-mobile", "name": "Pro or mobile", "since": None, "live": True},
        ],
    }


def test_the_cookie_id_finds_the_visitor_too(crm, customer):
    response = crm.get(f"/api/v1/profiles/{customer.uid}/segments")

    assert response.json()["visitor_id"] == "crm-7"


def test_live_segments_are_not_evaluated_without_personalization_consent(crm, customer):
    SegmentFactory(key="pro", condition={"traits.plan": "pro", "device": {"$exists": False}})
    grant(customer, "personalization", granted=False)

    response = crm.get("/api/v1/profiles/crm-7/segments")

    assert [s["key"] for s in response.json()["segments"]] == ["newsletter"]


def test_an_unknown_visitor_is_a_404_with_a_json_message(crm):
    response = crm.get("/api/v1/profiles/nobody/segments")

    assert response.status_code == 404
    assert response.json() == {"message": "No visitor with id 'nobody'.", "code": "not_found"}


def test_a_key_without_the_profiles_scope_is_refused(customer):
    response = client_with("events:write").get("/api/v1/profiles/crm-7/segments")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_a_request_without_a_key_must_authenticate(customer):
    response = APIClient().get("/api/v1/profiles/crm-7/segments")

    assert response.status_code == 401

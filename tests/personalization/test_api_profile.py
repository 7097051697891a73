"""`GET /api/v1/profiles/{visitor_id}` with an API key holding `profiles:read`."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from personalization.features.models import VisitorFeatures
from tests.factories import (
    ContentItemFactory,
    EventFactory,
    VisitorFactory,
    api_client_with_key,
    grant,
)
from tests.factories.personalization import SegmentFactory, SegmentMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm() -> APIClient:
    return api_client_with_key("profiles:read", name="crm")


@pytest.fixture
def customer():
    visitor = VisitorFactory(external_id="crm-7", traits={"plan": "pro"}, sessions=3)
    grant(visitor, "analytics", "personalization")
    VisitorFeatures.objects.create(
        visitor=visitor, computed_at=timezone.now(), lifecycle="active", event_count=2,
        tag_affinities={"running": 1.0},
    )  # fmt: skip
    SegmentMembershipFactory(
        segment=SegmentFactory(key="newsletter", kind="static"), visitor=visitor
    )
    shoe = ContentItemFactory(external_id="sku-1")
    EventFactory(visitor=visitor, type="view", item=shoe, event_id="client-secret-1",
                 occurred_at=datetime(2025, 5, 1, 8, tzinfo=UTC))  # fmt: skip
    EventFactory(visitor=visitor, type="purchase", item=shoe, value=Decimal("49.90"),
                 occurred_at=datetime(2025, 5, 2, 8, tzinfo=UTC))  # fmt: skip
    return visitor


def test_a_profile_has_traits_features_segments_consent_and_recent_events(crm, customer):
    response = crm.get("/api/v1/profiles/crm-7")

    assert response.status_code == 200
    body = response.json()
    assert (body["visitor_id"], body["uid"], body["traits"]) == (
        "crm-7", str(customer.uid), {"plan": "pro"}
    )  # fmt: skip
    assert body["features"]["lifecycle"] == "active"
    assert body["features"]["tag_affinities"] == {"running": 1.0}
    assert body["segments"] == ["newsletter"]
    assert body["consent"]["personalization"] is True
    assert body["event_count"] == 2
    assert body["recent_events"] == [
        {"type": "purchase", "item_id": "sku-1", "value": "49.9000",
         "occurred_at": "2025-05-02T08:00:00+00:00"},
        {"type": "view", "item_id": "sku-1", "value": None,
         "occurred_at": "2025-05-01T08:00:00+00:00"},
    ]  # fmt: skip


def test_client_event_ids_are_not_part_of_a_profile(crm, customer):
    assert "client-secret-1" not in crm.get("/api/v1/profiles/crm-7").content.decode()


def test_a_visitor_without_features_has_null_features(crm):
    VisitorFactory(external_id="new-1")

    body = crm.get("/api/v1/profiles/new-1").json()

    assert (body["features"], body["recent_events"], body["event_count"]) == (None, [], 0)


def test_an_unknown_visitor_is_a_json_404(crm):
    response = crm.get("/api/v1/profiles/nobody")

    assert response.status_code == 404
    assert response.json() == {"message": "No visitor with id 'nobody'.", "code": "not_found"}

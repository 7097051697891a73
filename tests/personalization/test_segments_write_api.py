import pytest
from rest_framework.test import APIClient

from config.services import api_key_create
from personalization.segments.models import Segment
from tests.factories.personalization import SegmentFactory


@pytest.fixture
def api():
    _, secret = api_key_create(name="crm", scopes=["segments:write"])
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.mark.django_db
def test_a_valid_segment_is_created(api):
    response = api.post(
        "/api/v1/segments",
        {
            "key": "loyal",
            "name": "Loyal",
            "kind": "rule",
            "condition": {"sessions_30d": {"$gte": 4}},
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert Segment.objects.get(key="loyal").condition == {"sessions_30d": {"$gte": 4}}


@pytest.mark.django_db
def test_an_invalid_condition_is_refused_naming_the_path_and_reason(api):
    response = api.post(
        "/api/v1/segments",
        {"key": "broken", "name": "Broken", "kind": "rule",
         "condition": {"$and": [{"device": "mobile"}, {"sessions_30d": {"$gte": "many"}}]}},
        format="json",
    )  # fmt: skip

    assert response.status_code == 400
    assert response.json()["errors"]["condition"] == ["$and[1].sessions_30d: $gte needs a number"]
    assert not Segment.objects.filter(key="broken").exists()


@pytest.mark.django_db
def test_a_change_that_would_make_an_in_segment_cycle_is_refused(api):
    SegmentFactory(key="a", condition={"$inSegment": "b"})
    SegmentFactory(key="b", condition={"sessions_30d": {"$gte": 1}})

    response = api.patch("/api/v1/segments/b", {"condition": {"$inSegment": "a"}}, format="json")

    assert response.status_code == 400
    assert "cycle" in response.json()["errors"]["condition"][0]
    assert Segment.objects.get(key="b").condition == {"sessions_30d": {"$gte": 1}}


@pytest.mark.django_db
def test_a_key_without_the_scope_cannot_write_segments():
    _, secret = api_key_create(name="shop", scopes=["profiles:read"])
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")

    response = client.post("/api/v1/segments", {"key": "x", "name": "X"}, format="json")

    assert response.status_code == 403

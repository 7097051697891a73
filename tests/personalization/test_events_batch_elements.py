"""`POST /api/v1/events` checks every element of a batch on its own: never a 500, never a half
write. A batch with some bad elements stores the good ones and lists the others by index."""

import pytest
from rest_framework.test import APIClient

from config.services import api_key_create
from personalization.visitors.models import Event, Visitor
from tests.factories.personalization import VisitorFactory, grant
from tests.personalization.test_events_api import BROWSER, with_visitor_cookie

pytestmark = pytest.mark.django_db

URL = "/api/v1/events"


def shop() -> APIClient:
    _, secret = api_key_create(name="shop", scopes=["events:write"])
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.fixture
def customer() -> Visitor:
    visitor = VisitorFactory(external_id="crm-1")
    grant(visitor, "analytics")
    return visitor


@pytest.fixture
def stranger() -> APIClient:
    visitor = VisitorFactory(external_id=None)
    grant(visitor, "analytics")
    return with_visitor_cookie(APIClient(HTTP_USER_AGENT=BROWSER), visitor)


@pytest.mark.parametrize("bad", [None, 42, [], "an event", True])
def test_a_batch_with_an_element_that_is_not_an_object_answers_per_index_and_stores_the_rest(
    customer, bad
):
    good = {"event_id": "e-1", "visitor_id": "crm-1", "type": "view"}

    response = shop().post(URL, {"events": [good, bad]}, format="json")

    assert response.status_code == 202
    body = response.json()
    assert body["accepted"] == 1
    assert [e["index"] for e in body["errors"]] == [1]
    assert "object" in body["errors"][0]["errors"]["non_field_errors"][0]
    assert list(Event.objects.values_list("event_id", flat=True)) == ["e-1"]


def test_a_batch_of_only_nulls_from_a_browser_answers_per_index_and_stores_nothing(stranger):
    response = stranger.post(URL, {"events": [None, None]}, format="json")

    assert response.status_code == 202
    assert [e["index"] for e in response.json()["errors"]] == [0, 1]
    assert not Event.objects.exists()

"""`{"$inSegment": key}` must name a segment that exists, wherever a condition is written."""

import pytest
from rest_framework.test import APIClient

from config.services import api_key_create
from content.models import Slot
from personalization.segments.models import Segment
from personalization.segments.selectors import segments_cache_clear
from tests.factories import SlotFactory, UserFactory
from tests.factories.personalization import SegmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def runners():
    segments_cache_clear()
    yield SegmentFactory(key="runners", condition={"affinity.running": {"$gte": 0.5}})
    segments_cache_clear()


@pytest.fixture
def editor(client):
    client.force_login(UserFactory(superuser=True))
    return client


@pytest.fixture
def api() -> APIClient:
    _, secret = api_key_create(name="crm", scopes=["segments:write"])
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")


UNKNOWN = '$and[1]: $inSegment "runnerz": no segment has this key; did you mean "runners"?'


def segment_form(condition: str) -> dict[str, str]:
    return {
        "key": "fast",
        "name": "Fast",
        "kind": "rule",
        "is_active": "on",
        "condition": condition,
    }


def test_the_segment_admin_refuses_an_unknown_segment_key_naming_it_and_where(editor):
    condition = '{"$and": [{"lifecycle": "active"}, {"$inSegment": "runnerz"}]}'

    response = editor.post("/admin/personalization/segment/add/", segment_form(condition))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["condition"] == [UNKNOWN]
    assert not Segment.objects.filter(key="fast").exists()


def test_the_segment_admin_accepts_a_key_that_exists(editor):
    condition = '{"$and": [{"lifecycle": "active"}, {"$inSegment": "runners"}]}'

    response = editor.post("/admin/personalization/segment/add/", segment_form(condition))

    assert response.status_code == 302
    assert Segment.objects.filter(key="fast").exists()


def test_the_segments_api_refuses_an_unknown_segment_key_on_create(api):
    condition = {"$and": [{"lifecycle": "active"}, {"$inSegment": "runnerz"}]}
    body = {"key": "fast", "name": "Fast", "kind": "rule", "condition": condition}

    response = api.post("/api/v1/segments", body, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "message": "Invalid input.", "code": "invalid", "errors": {"condition": [UNKNOWN]},
    }  # fmt: skip
    assert not Segment.objects.filter(key="fast").exists()


def test_the_segments_api_refuses_an_unknown_segment_key_on_change(api, runners):
    response = api.patch(
        "/api/v1/segments/runners", {"condition": {"$inSegment": "nobody"}}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"]["condition"] == [
        '(condition): $inSegment "nobody": no segment has this key'
    ]
    runners.refresh_from_db()
    assert runners.condition == {"affinity.running": {"$gte": 0.5}}


def test_the_cycle_check_still_speaks_for_a_segment_naming_itself(api):
    body = {"key": "loop", "name": "Loop", "kind": "rule", "condition": {"$inSegment": "loop"}}

    response = api.post("/api/v1/segments", body, format="json")

    assert response.json()["errors"]["condition"] == ["$inSegment makes a cycle: loop → loop"]


def rule_form(slot: Slot, condition: str) -> dict[str, object]:
    return {
        "slot": slot.pk, "name": "", "condition": condition, "strategy": "items",
        "is_active": "on", "active_from_0": "", "active_from_1": "", "active_until_0": "",
        "active_until_1": "",
    }  # fmt: skip


def test_a_slot_rule_naming_an_unknown_segment_is_refused(editor):
    slot = SlotFactory(key="hero")
    condition = '{"$and": [{"device": "mobile"}, {"$inSegment": "runnerz"}]}'

    response = editor.post("/admin/content/slotrule/add/", rule_form(slot, condition))

    assert response.status_code == 200
    assert UNKNOWN in response.content.decode().replace("&quot;", '"')
    assert not slot.rules.exists()


def test_a_slot_rule_naming_a_known_segment_is_saved(editor):
    slot = SlotFactory(key="hero")

    response = editor.post(
        "/admin/content/slotrule/add/", rule_form(slot, '{"$inSegment": "runners"}')
    )

    assert response.status_code == 302
    assert slot.rules.get().condition == {"$inSegment": "runners"}

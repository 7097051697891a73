"""An id that reads as a UUID is a cookie id: never an external id, always resolved by `uid`.

Otherwise a client could create a profile whose external id is someone's cookie id, and every
lookup by that id (profiles, blocks, consent, export and erasure) would reach the impostor.
"""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from config.services import api_key_create
from consent.models import ConsentRecord
from consent.selectors import allows
from personalization.segments.models import Segment
from personalization.visitors.models import Event, Visitor
from personalization.visitors.selectors import visitor_resolve, visitors_resolve_many
from tests.factories import ContentItemFactory, EventFactory, VisitorFactory, grant

pytestmark = pytest.mark.django_db


def client_with(*scopes: str) -> APIClient:
    _, secret = api_key_create(name="partner", scopes=list(scopes))
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.fixture(autouse=True)
def opt_out(settings):
    """Opt-out mode: an unknown external id would get a profile at once, the worst case."""
    settings.TAILOR_CONSENT_MODE = "opt-out"


@pytest.fixture
def victim() -> Visitor:
    """A browser's anonymous profile, known only by its cookie id."""
    visitor = Visitor.objects.create(traits={"email": "victim@example.com"})
    grant(visitor, "analytics", "personalization")
    EventFactory(visitor=visitor, event_id="victim-view-1")
    return visitor


def test_events_naming_a_cookie_id_as_external_id_are_refused_and_create_no_profile(victim):
    uid = str(victim.uid)
    events = [
        {"event_id": "x-1", "visitor_id": uid, "type": "view"},
        {"event_id": "x-2", "visitor_id": uid.upper().replace("-", ""), "type": "view"},
        {"event_id": "ok-1", "visitor_id": "crm-1", "type": "view"},
    ]

    response = client_with("events:write").post("/api/v1/events", {"events": events}, "json")

    body = response.json()
    assert response.status_code == 202
    assert body["accepted"] == 1
    assert [error["index"] for error in body["errors"]] == [0, 1]
    assert "cookie id" in body["errors"][0]["errors"]["visitor_id"][0]
    assert set(Visitor.objects.values_list("external_id", flat=True)) == {None, "crm-1"}
    assert list(Event.objects.filter(visitor=victim).values_list("event_id", flat=True)) == [
        "victim-view-1"
    ]


def test_after_the_attempt_export_and_erasure_by_the_cookie_id_reach_the_right_person(
    victim, django_capture_on_commit_callbacks
):
    uid = str(victim.uid)
    event = {"event_id": "x-1", "visitor_id": uid, "type": "view", "properties": {"fake": 1}}
    client_with("events:write").post("/api/v1/events", {"events": [event]}, "json")
    privacy = client_with("privacy:admin")

    exported = privacy.post("/api/v1/privacy/export", {"visitor_id": uid}, format="json")
    document = json.loads(b"".join(exported.streaming_content))
    with django_capture_on_commit_callbacks(execute=True):
        erased = privacy.post("/api/v1/privacy/erase", {"visitor_id": uid}, format="json")

    assert [row["uid"] for row in document["data"]["personalization.Visitor"]] == [uid]
    assert [row["event_id"] for row in document["data"]["personalization.Event"]] == [
        "victim-view-1"
    ]
    assert erased.status_code == 202
    assert not Visitor.objects.filter(pk=victim.pk).exists()
    assert not Event.objects.exists()


def test_a_profile_left_with_a_cookie_id_as_external_id_never_shadows_the_cookies_owner(victim):
    impostor = VisitorFactory(external_id=str(victim.uid))

    assert visitor_resolve(str(victim.uid)) == victim
    assert visitor_resolve(str(victim.uid).upper()) == victim
    assert visitors_resolve_many([str(victim.uid)]) == {str(victim.uid): victim}
    assert impostor not in visitors_resolve_many([str(victim.uid), "visitor-0"]).values()


def test_consent_from_a_key_for_an_unknown_cookie_id_is_refused_and_creates_no_profile(victim):
    unknown = "0b7e6a58-1f7b-4e55-9a55-62f1a1c0ffee"
    client = client_with("privacy:admin")

    refused = client.post(
        "/api/v1/consent", {"visitor_id": unknown, "purposes": {"marketing": True}}, format="json"
    )
    recorded = client.post(
        "/api/v1/consent",
        {"visitor_id": str(victim.uid), "purposes": {"marketing": True}},
        format="json",
    )

    assert refused.status_code == 400
    assert "cookie id" in refused.json()["errors"]["visitor_id"][0]
    assert not Visitor.objects.filter(external_id=unknown).exists()
    assert recorded.status_code == 200
    assert allows(victim, "marketing")
    assert ConsentRecord.objects.filter(visitor__external_id=unknown).count() == 0


def test_import_events_refuses_a_cookie_id_as_visitor_id_with_its_line(tmp_path: Path, victim):
    ContentItemFactory(external_id="sku-1")
    path = tmp_path / "events.csv"
    path.write_text(
        "visitor_id,event_type,item_id,timestamp\n"
        "crm-1,view,sku-1,2025-05-01T12:00:00Z\n"
        f"{victim.uid},purchase,sku-1,2025-05-01T12:00:00Z\n",
        encoding="utf-8",
    )

    with pytest.raises(CommandError) as error:
        call_command("import_events", str(path), "--grant", "analytics", stdout=StringIO())

    assert "line 3: visitor_id: " in str(error.value)
    assert "cookie id" in str(error.value)
    assert not Event.objects.exclude(event_id="victim-view-1").exists()
    assert not Visitor.objects.filter(external_id__isnull=False).exists()


def test_import_segment_refuses_a_cookie_id_with_its_line(tmp_path: Path, victim):
    VisitorFactory(external_id=str(victim.uid))  # left from before the rule
    path = tmp_path / "list.csv"
    path.write_text(f"visitor_id\n{victim.uid}\n", encoding="utf-8")

    with pytest.raises(CommandError) as error:
        call_command("import_segment", "vip", str(path), "--create", stdout=StringIO())

    assert "line 2: visitor_id: " in str(error.value)
    assert "cookie id" in str(error.value)
    assert not Segment.objects.filter(key="vip").exists()

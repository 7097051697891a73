"""Event ids are idempotent per source: a browser can neither probe nor pre-empt a server's ids.

A browser also cannot send purchases nor choose when its events happened, unless the operator
allows it (`TAILOR_BROWSER_PURCHASES`, `TAILOR_BROWSER_BACKDATE_SECONDS`).
"""

from datetime import timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from config.services import api_key_create
from personalization.visitors.models import Event, Visitor
from tests.factories.personalization import VisitorFactory, grant
from tests.personalization.test_events_api import BROWSER, with_visitor_cookie

pytestmark = pytest.mark.django_db

URL = "/api/v1/events"
ORDER = {"event_id": "order-1042", "visitor_id": "crm-1", "type": "purchase", "value": "49.90"}


def shop(name: str = "shop") -> APIClient:
    _, secret = api_key_create(name=name, scopes=["events:write"])
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")


def browser_of(visitor: Visitor) -> APIClient:
    return with_visitor_cookie(APIClient(HTTP_USER_AGENT=BROWSER), visitor)


@pytest.fixture
def customer() -> Visitor:
    visitor = VisitorFactory(external_id="crm-1")
    grant(visitor, "analytics")
    return visitor


@pytest.fixture
def stranger() -> APIClient:
    """Someone's browser that allows analytics, poking at the events endpoint."""
    visitor = VisitorFactory(external_id=None)
    grant(visitor, "analytics")
    return browser_of(visitor)


def send(client: APIClient, *events) -> dict:
    response = client.post(URL, {"events": list(events)}, format="json")
    assert response.status_code == 202, response.content
    return response.json()


def test_a_browser_is_not_told_that_a_servers_event_id_exists(customer, stranger):
    send(shop(), ORDER)

    body = send(stranger, {"event_id": "order-1042", "type": "view"})

    assert (body["accepted"], body["duplicates"]) == (1, 0)
    assert Event.objects.filter(event_id="order-1042").count() == 2


def test_a_browser_cannot_pre_empt_a_servers_purchase_with_the_same_event_id(customer, stranger):
    refused = send(stranger, {"event_id": "order-1042", "type": "purchase", "value": 0})
    pre_empted = send(stranger, {"event_id": "order-1042", "type": "add_to_cart", "value": 0})

    stored = send(shop(), ORDER)

    assert refused["accepted"] == 0
    assert "purchase" in refused["errors"][0]["errors"]["type"][0]
    assert pre_empted["accepted"] == 1
    assert stored == {"accepted": 1, "duplicates": 0, "errors": []}
    purchase = Event.objects.get(event_id="order-1042", type="purchase")
    assert (purchase.visitor, purchase.value) == (customer, Decimal("49.90"))


def test_two_api_keys_have_their_own_event_ids_and_each_key_its_own_duplicates(customer):
    first, second = shop("shop"), shop("pos")

    send(first, ORDER)
    other = send(second, ORDER)
    again = send(first, ORDER)

    assert (other["accepted"], other["duplicates"]) == (1, 0)
    assert (again["accepted"], again["duplicates"]) == (0, 1)


def test_two_browsers_do_not_share_event_ids(stranger):
    send(stranger, {"event_id": "thank-you-1", "type": "view"})
    other = VisitorFactory(external_id=None)
    grant(other, "analytics")

    body = send(browser_of(other), {"event_id": "thank-you-1", "type": "view"})
    again = send(stranger, {"event_id": "thank-you-1", "type": "view"})

    assert (body["accepted"], body["duplicates"]) == (1, 0)
    assert (again["accepted"], again["duplicates"]) == (0, 1)


def test_a_browser_cannot_back_date_nor_post_date_its_events(stranger):
    now = timezone.now()
    events = [
        {"event_id": "old", "type": "view", "occurred_at": (now - timedelta(days=2)).isoformat()},
        {
            "event_id": "soon",
            "type": "view",
            "occurred_at": (now + timedelta(minutes=2)).isoformat(),
        },
        {"event_id": "now", "type": "view"},
    ]

    body = send(stranger, *events)

    assert body["accepted"] == 1
    assert {e["index"]: list(e["errors"]) for e in body["errors"]} == {
        0: ["occurred_at"], 1: ["occurred_at"]
    }  # fmt: skip
    assert list(Event.objects.values_list("event_id", flat=True)) == ["now"]


def test_the_operator_may_let_browsers_send_purchases_and_slightly_earlier_times(
    settings, customer, stranger
):
    settings.TAILOR_BROWSER_PURCHASES = True
    settings.TAILOR_BROWSER_BACKDATE_SECONDS = 3600
    now = timezone.now()
    events = [
        {"event_id": "p-1", "type": "purchase", "value": "10.00"},
        {
            "event_id": "late",
            "type": "view",
            "occurred_at": (now - timedelta(minutes=30)).isoformat(),
        },
        {"event_id": "old", "type": "view", "occurred_at": (now - timedelta(hours=2)).isoformat()},
        {
            "event_id": "ahead",
            "type": "view",
            "occurred_at": (now + timedelta(minutes=2)).isoformat(),
        },
    ]

    body = send(stranger, *events)

    assert body["accepted"] == 3
    assert [e["index"] for e in body["errors"]] == [2]
    assert Event.objects.get(event_id="ahead").occurred_at <= timezone.now()


def test_import_events_is_idempotent_in_its_own_source(tmp_path: Path, customer):
    send(shop(), ORDER)
    path = tmp_path / "events.csv"
    path.write_text(
        "visitor_id,event_type,timestamp,value,event_id\n"
        "crm-1,purchase,2025-05-01T12:00:00Z,49.90,order-1042\n",
        encoding="utf-8",
    )

    first, second = StringIO(), StringIO()
    call_command("import_events", str(path), stdout=first, stderr=StringIO())
    call_command("import_events", str(path), stdout=second, stderr=StringIO())

    assert first.getvalue().startswith("1 stored, 0 duplicates")
    assert second.getvalue().startswith("0 stored, 1 duplicates")
    assert Event.objects.filter(event_id="order-1042").count() == 2

from datetime import timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.core import signing
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from config.services import api_key_create, api_key_revoke
from personalization.visitors.models import Event, Visitor
from personalization.visitors.selectors import COOKIE_SALT
from tests.factories import ContentItemFactory
from tests.factories.personalization import VisitorFactory, grant

pytestmark = pytest.mark.django_db

URL = "/api/v1/events"
BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def with_key(client: APIClient, *scopes: str) -> APIClient:
    _, secret = api_key_create(name="shop", scopes=list(scopes))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def shop(api_client) -> APIClient:
    """A machine client whose key may write events."""
    return with_key(api_client, "events:write")


@pytest.fixture
def customer() -> Visitor:
    """A CRM customer who allows analytics."""
    visitor = VisitorFactory(external_id="crm-1")
    grant(visitor, "analytics")
    return visitor


def with_visitor_cookie(client: APIClient, visitor: Visitor) -> APIClient:
    signer = signing.get_cookie_signer(salt=settings.TAILOR_VISITOR_COOKIE + COOKIE_SALT)
    client.cookies[settings.TAILOR_VISITOR_COOKIE] = signer.sign(str(visitor.uid))
    return client


def view(n: int = 0, visitor_id: str = "crm-1", **changes) -> dict:
    return {"event_id": f"e-{n}", "visitor_id": visitor_id, "type": "view"} | changes


def test_malformed_json_is_answered_with_a_json_400(shop):
    response = shop.post(URL, data='{"events": [', content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "parse_error"


def test_more_than_500_events_are_refused_with_an_error_naming_events(shop, customer):
    response = shop.post(URL, {"events": [view(n) for n in range(501)]}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"]["events"] == [
        "Ensure this field has no more than 500 elements."
    ]
    assert not Event.objects.exists()


def test_a_mixed_batch_stores_only_the_valid_events_and_lists_errors_by_index(shop, customer):
    ContentItemFactory(external_id="sku-1")
    in_an_hour = (timezone.now() + timedelta(hours=1)).isoformat()
    events = [
        view(0, item_id="sku-1", occurred_at="2025-05-01T12:00:00Z"),
        view(1, type="not a slug!"),
        view(2, item_id="no-such-item"),
        view(3, occurred_at=in_an_hour),
        view(4, type="purchase", value="49.90", occurred_at=1746100800),
        view(5, properties={"note": "x" * 11_000}),
        "not an object",
    ]

    response = shop.post(URL, {"events": events}, format="json")

    body = response.json()
    assert response.status_code == 202
    assert (body["accepted"], body["duplicates"]) == (2, 0)
    assert {e["index"]: sorted(e["errors"]) for e in body["errors"]} == {
        1: ["type"], 2: ["item_id"], 3: ["occurred_at"], 5: ["properties"], 6: ["non_field_errors"],
    }  # fmt: skip
    purchase = Event.objects.get(event_id="e-4")
    assert (purchase.type, purchase.value) == ("purchase", Decimal("49.90"))
    assert purchase.occurred_at.isoformat() == "2025-05-01T12:00:00+00:00"
    assert Event.objects.get(event_id="e-0").item.external_id == "sku-1"
    assert Event.objects.count() == 2


def test_an_event_sent_again_with_the_same_event_id_is_ignored(shop, customer):
    shop.post(URL, {"events": [view(1)]}, format="json")

    response = shop.post(URL, {"events": [view(1), view(2)]}, format="json")

    assert response.status_code == 202
    assert (response.json()["accepted"], response.json()["duplicates"]) == (1, 1)
    assert Event.objects.count() == 2


def test_an_event_without_an_event_id_sent_again_adds_nothing(shop, customer):
    event = {"visitor_id": "crm-1", "type": "click", "occurred_at": "2025-05-01T12:00:00Z"}
    shop.post(URL, {"events": [event]}, format="json")

    response = shop.post(URL, {"events": [event]}, format="json")

    assert (response.json()["accepted"], response.json()["duplicates"]) == (0, 1)
    assert Event.objects.count() == 1


def test_key_events_are_stored_for_a_visitor_who_granted_analytics_and_not_for_others(shop):
    grant(VisitorFactory(external_id="yes"), "analytics")
    grant(VisitorFactory(external_id="no"), "analytics", granted=False)

    response = shop.post(
        URL,
        {"events": [view(1, "yes"), view(2, "no"), view(3, "never-seen")]},
        format="json",
    )

    body = response.json()
    assert body["accepted"] == 1
    assert body["errors"] == [
        {"index": 1, "errors": {"consent": ["no analytics consent"]}},
        {"index": 2, "errors": {"consent": ["no analytics consent"]}},
    ]
    assert list(Event.objects.values_list("visitor__external_id", flat=True)) == ["yes"]
    assert not Visitor.objects.filter(external_id="never-seen").exists()


def test_events_from_a_key_must_name_their_visitor(shop, customer):
    response = shop.post(URL, {"events": [{"type": "view"}]}, format="json")

    assert response.json()["errors"] == [
        {"index": 0, "errors": {"visitor_id": ["This field is required with an API key."]}}
    ]


def test_a_browser_without_analytics_consent_has_nothing_stored(api_client):
    response = api_client.post(
        URL, {"events": [view(1), view(2)]}, format="json", HTTP_USER_AGENT=BROWSER
    )

    assert response.status_code == 202
    assert response.json()["accepted"] == 0
    assert [e["errors"] for e in response.json()["errors"]] == [
        {"consent": ["no analytics consent"]}
    ] * 2
    assert not Visitor.objects.exists()
    assert not Event.objects.exists()
    assert settings.TAILOR_VISITOR_COOKIE not in response.cookies


def test_a_browser_visitor_who_allows_analytics_has_events_stored_with_the_request_context(
    api_client,
):
    visitor = VisitorFactory(external_id=None)
    grant(visitor, "analytics")
    other = VisitorFactory(external_id="someone-else")

    response = with_visitor_cookie(api_client, visitor).post(
        URL, {"events": [view(1, visitor_id=other.external_id)]}, format="json",
        HTTP_USER_AGENT=BROWSER, HTTP_CF_IPCOUNTRY="ch",
    )  # fmt: skip

    assert response.json()["accepted"] == 1
    event = Event.objects.get()
    assert event.visitor == visitor  # the body cannot speak for another visitor
    assert event.context["device"] == "desktop"
    assert event.context["country"] == "CH"
    assert event.context["source"] == "browser"


@pytest.mark.parametrize("mode", ["opt-out"])
def test_in_opt_out_mode_a_new_browser_gets_a_profile_and_its_cookie(api_client, settings, mode):
    settings.TAILOR_CONSENT_MODE = mode

    response = api_client.post(URL, {"events": [view(1)]}, format="json", HTTP_USER_AGENT=BROWSER)

    visitor = Visitor.objects.get()
    assert response.json()["accepted"] == 1
    assert Event.objects.get().visitor == visitor
    assert settings.TAILOR_VISITOR_COOKIE in response.cookies


def test_a_bot_has_nothing_stored(api_client, customer):
    with_visitor_cookie(api_client, customer)

    response = api_client.post(URL, {"events": [view(1)]}, format="json", HTTP_USER_AGENT=GOOGLEBOT)

    assert response.status_code == 202
    assert response.json() == {"accepted": 0, "duplicates": 0, "errors": []}
    assert not Event.objects.exists()


def test_an_api_key_without_the_events_scope_is_forbidden(api_client, customer):
    with_key(api_client, "decide:read")

    response = api_client.post(URL, {"events": [view(1)]}, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "message": "This API key lacks the scope needed here.",
        "code": "permission_denied",
    }
    assert not Event.objects.exists()


def test_an_unknown_api_key_is_unauthorized(api_client, customer):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer tl_00000000_not-a-real-secret")

    response = api_client.post(URL, {"events": [view(1)]}, format="json")

    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_revoked_api_key_is_unauthorized(api_client, customer):
    key, secret = api_key_create(name="old shop", scopes=["events:write"])
    api_key_revoke(key=key)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")

    response = api_client.post(URL, {"events": [view(1)]}, format="json")

    assert response.status_code == 401
    assert not Event.objects.exists()


def test_the_query_count_does_not_grow_with_the_number_of_events(shop):
    ContentItemFactory(external_id="sku-1")

    def batch(prefix: str, size: int) -> dict:
        for n in range(size):
            grant(VisitorFactory(external_id=f"{prefix}-{n}"), "analytics")
        events = [view(n, f"{prefix}-{n}", event_id=f"{prefix}-{n}") for n in range(size)]
        return {"events": [e | {"item_id": "sku-1", "value": n} for n, e in enumerate(events)]}

    small, large = batch("small", 5), batch("large", 400)
    shop.post(URL, {"events": [view(0, "small-0", event_id="warm-up")]}, format="json")

    with CaptureQueriesContext(connection) as few:
        assert shop.post(URL, small, format="json").json()["accepted"] == 5
    with CaptureQueriesContext(connection) as many:
        assert shop.post(URL, large, format="json").json()["accepted"] == 400

    assert len(many.captured_queries) == len(few.captured_queries)


def test_the_openapi_schema_documents_the_events_endpoint(admin_client):
    schema = admin_client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/v1/events"]["post"]
    assert "202" in operation["responses"]
    request = operation["requestBody"]["content"]["application/json"]["schema"]
    assert request["$ref"].endswith("/EventBatchInput")
    assert "occurred_at" in schema["components"]["schemas"]["EventInput"]["properties"]

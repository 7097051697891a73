"""Every error of the delivery API is a JSON body: 400, 401, 403, 404 and 429."""

import pytest
from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from config.auth import ApiKeyRateThrottle
from config.models import ApiKey
from config.services import api_key_create, api_key_revoke
from tests.factories import ContentItemFactory, SlotFactory, VisitorFactory

pytestmark = pytest.mark.django_db

BATCH = {"slots": ["hero"], "recipients": ["crm-1"]}
# (method, path, body, the scope the endpoint needs)
ENDPOINTS = [
    ("get", "/api/v1/slots/hero/decide?visitor=crm-1", None, "decide:read"),
    ("post", "/api/v1/blocks/batch", BATCH, "blocks:read"),
    ("get", "/api/v1/profiles/crm-1", None, "profiles:read"),
    ("get", "/api/v1/recommendations?visitor=crm-1", None, "decide:read"),
    ("get", "/api/v1/items/sku-1/similar", None, "decide:read"),
    ("get", "/api/v1/runs", None, "runs:read"),
]
IDS = ["decide", "blocks", "profile", "recommendations", "similar", "runs"]


@pytest.fixture(autouse=True)
def catalogue():
    SlotFactory(key="hero", default_items=[ContentItemFactory(external_id="sku-1")])
    VisitorFactory(external_id="crm-1")


def client_with(*scopes: str) -> APIClient:
    client = APIClient()
    _, secret = api_key_create(name="client", scopes=list(scopes))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def call(client: APIClient, method: str, path: str, body):
    if method == "post":
        return client.post(path, body, format="json")
    return client.get(path)


def assert_json_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == code
    assert body["message"]
    return body


@pytest.mark.parametrize(("method", "path", "body", "needed"), ENDPOINTS, ids=IDS)
def test_each_endpoint_answers_its_scope(method, path, body, needed):
    assert call(client_with(needed), method, path, body).status_code == 200


@pytest.mark.parametrize(("method", "path", "body", "needed"), ENDPOINTS, ids=IDS)
def test_without_a_key_the_answer_is_a_json_401(method, path, body, needed):
    response = call(APIClient(), method, path, body)

    assert_json_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("header", ["Bearer tl_nope_nope", "Bearer garbage", "Bearer tl_x"])
@pytest.mark.parametrize(("method", "path", "body", "needed"), ENDPOINTS, ids=IDS)
def test_a_bad_key_is_a_json_401(method, path, body, needed, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    assert_json_error(call(client, method, path, body), 401, "authentication_failed")


def test_a_revoked_key_is_a_json_401():
    client = client_with("decide:read")
    api_key_revoke(key=ApiKey.objects.get())

    response = client.get("/api/v1/slots/hero/decide", {"visitor": "crm-1"})

    assert_json_error(response, 401, "authentication_failed")


@pytest.mark.parametrize(("method", "path", "body", "needed"), ENDPOINTS, ids=IDS)
def test_a_key_without_the_scope_is_a_json_403(method, path, body, needed):
    response = call(client_with("events:write"), method, path, body)

    assert_json_error(response, 403, "permission_denied")


def test_a_decide_key_cannot_read_profiles_nor_blocks():
    client = client_with("decide:read")

    assert client.get("/api/v1/profiles/crm-1").status_code == 403
    assert client.post("/api/v1/blocks/batch", BATCH, format="json").status_code == 403


@pytest.fixture
def tiny_rate(settings, monkeypatch):
    """Two requests a minute per key, from an empty throttle history."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "2/minute"},
    }
    # DRF copies the rates into the throttle class on import: read the new setting again.
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", api_settings.DEFAULT_THROTTLE_RATES)
    cache.clear()
    yield
    cache.clear()


@pytest.mark.parametrize(("method", "path", "body", "needed"), ENDPOINTS, ids=IDS)
def test_too_many_requests_for_a_key_is_a_json_429(tiny_rate, method, path, body, needed):
    client = client_with(needed)
    for _ in range(2):
        assert call(client, method, path, body).status_code == 200

    response = call(client, method, path, body)

    body = assert_json_error(response, 429, "throttled")
    assert 0 < body["retry_after_seconds"] <= 60
    assert response["Retry-After"]


def test_the_rate_is_per_key(tiny_rate):
    first, second = client_with("decide:read"), client_with("decide:read")
    for _ in range(2):
        first.get("/api/v1/slots/hero/decide", {"visitor": "crm-1"})

    assert first.get("/api/v1/slots/hero/decide", {"visitor": "crm-1"}).status_code == 429
    assert second.get("/api/v1/slots/hero/decide", {"visitor": "crm-1"}).status_code == 200


def test_an_invalid_batch_body_has_a_message_per_field():
    body = {"slots": "hero", "recipients": ["crm-1", {"id": 2}], "extra": True}

    response = client_with("blocks:read").post("/api/v1/blocks/batch", body, format="json")

    errors = assert_json_error(response, 400, "invalid")["errors"]
    assert errors == {
        "slots": ['Expected a list of items but got type "str".'],
        "recipients": {"1": ["Not a valid string."]},
    }


def test_a_batch_without_its_fields_names_both():
    response = client_with("blocks:read").post("/api/v1/blocks/batch", {}, format="json")

    errors = assert_json_error(response, 400, "invalid")["errors"]
    assert errors == {
        "slots": ["This field is required."],
        "recipients": ["This field is required."],
    }


def test_malformed_json_is_a_json_400():
    response = client_with("blocks:read").post(
        "/api/v1/blocks/batch", data='{"slots": [', content_type="application/json"
    )

    assert_json_error(response, 400, "parse_error")


def test_an_unknown_slot_is_a_json_404():
    response = client_with("decide:read").get("/api/v1/slots/nope/decide", {"visitor": "crm-1"})

    assert assert_json_error(response, 404, "not_found")["message"] == "No slot with key 'nope'."


def test_unknown_visitors_and_items_are_json_404s():
    assert_json_error(client_with("profiles:read").get("/api/v1/profiles/nobody"), 404, "not_found")
    assert_json_error(client_with("decide:read").get("/api/v1/items/x/similar"), 404, "not_found")

"""CORS: browsers on the configured origins may post events; nothing else is shared."""

import pytest

pytestmark = pytest.mark.django_db

SHOP = "https://shop.example.com"


def preflight(client, path: str, origin: str = SHOP):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type",
    )


def test_a_configured_origin_may_post_events(client, settings):
    settings.CORS_ALLOWED_ORIGINS = [SHOP]

    response = preflight(client, "/api/v1/events")

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert "POST" in response["Access-Control-Allow-Methods"]


def test_other_origins_are_not_allowed(client, settings):
    settings.CORS_ALLOWED_ORIGINS = [SHOP]

    response = preflight(client, "/api/v1/events", origin="https://evil.example.com")

    assert "Access-Control-Allow-Origin" not in response


def test_no_origin_is_allowed_by_default(client):
    assert "Access-Control-Allow-Origin" not in preflight(client, "/api/v1/events")


def test_cors_is_limited_to_the_events_endpoint(client, settings):
    settings.CORS_ALLOWED_ORIGINS = [SHOP]

    for path in ("/api/v1/blocks/batch", "/api/v1/consent", "/api/v1/profiles/crm-1"):
        assert "Access-Control-Allow-Origin" not in preflight(client, path)

"""Bodies too large or nested too deeply are the client's mistake: 413 / 400 JSON, no traceback."""

import json
import logging

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from config.services import api_key_create
from personalization.visitors.models import Event
from tests.factories.personalization import VisitorFactory, grant

pytestmark = pytest.mark.django_db

DEEP = "[" * 100_000 + "]" * 100_000


@pytest.fixture
def api() -> APIClient:
    _, secret = api_key_create(name="shop", scopes=["events:write", "segments:write"])
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")


def no_errors_logged(caplog) -> bool:
    return not [record for record in caplog.records if record.levelno >= logging.ERROR]


def test_a_body_over_the_limit_is_a_json_413_logged_as_a_warning(api, caplog):
    body = json.dumps(
        {"events": [{"type": "view", "note": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE}]}
    )

    response = api.post("/api/v1/events", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json() == {
        "message": f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
        "code": "request_too_large",
        "errors": {"body": [f"at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes"]},
    }
    assert no_errors_logged(caplog)
    assert any(record.levelno == logging.WARNING for record in caplog.records)


@pytest.mark.parametrize("url", ["/api/v1/events", "/api/v1/segments"])
def test_a_body_nested_a_hundred_thousand_deep_is_a_json_400(api, caplog, url):
    response = api.post(url, DEEP, content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {
        "message": "JSON parse error - nested deeper than 100 levels",
        "code": "parse_error",
    }
    assert no_errors_logged(caplog)


def test_a_condition_nested_just_past_the_limit_is_refused_before_validation(api):
    condition: dict = {"a": 1}
    for _ in range(60):
        condition = {"$or": [condition]}

    response = api.post(
        "/api/v1/segments",
        {"key": "deep", "name": "Deep", "kind": "rule", "condition": condition},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_a_full_batch_at_the_documented_limits_fits_under_the_body_limit(api):
    grant(VisitorFactory(external_id="crm-1"), "analytics")
    padding = 10 * 1024 - len(json.dumps({"note": ""}, separators=(",", ":")))
    events = [
        {
            "event_id": f"order-{n:03d}",
            "visitor_id": "crm-1",
            "type": "view",
            "occurred_at": "2025-05-01T12:00:00Z",
            "properties": {"note": "x" * padding},
        }
        for n in range(500)
    ]

    response = api.post("/api/v1/events", {"events": events}, format="json")

    assert response.status_code == 202, response.content[:300]
    assert response.json()["accepted"] == 500
    assert Event.objects.count() == 500

"""The OpenAPI document lists every API URL, and real answers match its response schemas."""

import re
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from jsonschema import Draft202012Validator
from rest_framework.test import APIClient

from config.services import api_key_create
from personalization.features.models import VisitorFeatures
from tests.factories import (
    ContentItemFactory,
    SlotFactory,
    SlotRuleFactory,
    TagFactory,
    VisitorFactory,
    grant,
)
from tests.factories.personalization import SegmentFactory, SegmentMembershipFactory

pytestmark = pytest.mark.django_db

PREFIX = "api/v1/"
NOT_IN_THE_DOCUMENT = ("api/v1/schema/", "api/v1/docs/")
DECIDE = "/api/v1/slots/{key}/decide"
DELIVERY = (
    DECIDE,
    "/api/v1/blocks/batch",
    "/api/v1/recommendations",
    "/api/v1/profiles/{visitor_id}",
    "/api/v1/items/{external_id}/similar",
)


def api_routes(patterns=None, prefix: str = "") -> set[str]:
    """Every route under /api/v1/ as OpenAPI writes paths: `/api/v1/slots/{key}/decide`."""
    routes = set()
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            routes |= api_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith(PREFIX):
            path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
            routes.add(path.replace("{pk}", "{id}"))  # as drf-spectacular names it
    return routes - {"/" + route for route in NOT_IN_THE_DOCUMENT}


def json_schema(node: Any) -> Any:
    """OpenAPI 3.0 → JSON Schema: `nullable` becomes a null alternative; objects are closed."""
    if isinstance(node, list):
        return [json_schema(child) for child in node]
    if not isinstance(node, dict):
        return node
    node = {key: json_schema(value) for key, value in node.items()}
    if node.get("type") == "object" and "properties" in node:
        node.setdefault("additionalProperties", False)  # an undocumented key fails
    if node.pop("nullable", False) is True:
        return {"anyOf": [node, {"type": "null"}]}
    return node


@pytest.fixture
def document() -> dict[str, Any]:
    response = APIClient().get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def assert_matches(document: dict[str, Any], path: str, method: str, response) -> None:
    """The real `response` matches what the document says `method path` answers."""
    answers = document["paths"][path][method]["responses"]
    assert str(response.status_code) in answers, f"{response.status_code} is not documented"
    schema = answers[str(response.status_code)]["content"]["application/json"]["schema"]
    root = {**json_schema(schema), "components": json_schema(document["components"])}
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in Draft202012Validator(root).iter_errors(response.json())
    ]
    assert not errors, errors


def client_with(*scopes: str) -> APIClient:
    client = APIClient()
    _, secret = api_key_create(name="client", scopes=list(scopes))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def world():
    """A personalized slot, a consenting visitor with features, a segment, tagged items."""
    running = TagFactory(name="Running", slug="running")
    shoe = ContentItemFactory(
        external_id="sku-1", title="Trail shoe", tags=[running], cta_url="https://x.example/b"
    )
    ContentItemFactory(external_id="sku-2", tags=[running])
    ContentItemFactory(external_id=None, url="")
    slot = SlotFactory(key="hero", default_items=[ContentItemFactory(external_id="welcome")])
    SlotRuleFactory(slot=slot, name="Runners", condition={"$inSegment": "runners"}, items=[shoe])
    visitor = VisitorFactory(external_id="crm-1", traits={"plan": "pro"})
    grant(visitor, "analytics", "personalization", "marketing")
    VisitorFeatures.objects.create(
        visitor=visitor, computed_at=timezone.now(), tag_affinities={"running": 1.0}
    )
    segment = SegmentFactory(key="runners", kind="static")
    SegmentMembershipFactory(segment=segment, visitor=visitor)
    return visitor


def test_every_url_of_the_api_is_in_the_document(document):
    routes = api_routes()

    assert "/api/v1/blocks/batch" in routes  # the walk found the delivery API
    assert routes - set(document["paths"]) == set()


def test_every_delivery_operation_documents_its_errors(document):
    for path in DELIVERY:
        for operation in document["paths"][path].values():
            assert {"200", "401", "403", "429"} <= set(operation["responses"])


def test_every_segment_operation_documents_its_errors_with_the_error_body(document):
    for path in ("/api/v1/segments", "/api/v1/segments/{key}"):
        for method, operation in document["paths"][path].items():
            answers = operation["responses"]
            assert {"401", "403", "429"} <= set(answers), (method, path)
            if path.endswith("{key}"):
                assert "404" in answers, (method, path)
            for status in ("401", "403", "404"):
                if status in answers:
                    schema = answers[status]["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ApiError"}


def test_a_missing_segment_matches_the_document(document):
    client = client_with("segments:write")
    for method in ("get", "patch", "delete"):
        response = getattr(client, method)("/api/v1/segments/nope")
        assert_matches(document, "/api/v1/segments/{key}", method, response)


def test_decisions_match_the_document(document, world):
    client = client_with("decide:read")
    for query in ({"visitor": "crm-1"}, {"visitor": "crm-1", "format": "html"},
                  {"visitor": "nobody"}):  # fmt: skip
        assert_matches(document, DECIDE, "get", client.get("/api/v1/slots/hero/decide", query))
    assert_matches(document, DECIDE, "get", client.get("/api/v1/slots/nope/decide?visitor=x"))
    assert_matches(document, DECIDE, "get", client.get("/api/v1/slots/hero/decide"))
    assert_matches(document, DECIDE, "get", APIClient().get("/api/v1/slots/hero/decide"))


def test_email_blocks_match_the_document(document, world):
    client = client_with("blocks:read")
    body = {"slots": ["hero"], "recipients": ["crm-1", "nobody"]}

    response = client.post("/api/v1/blocks/batch", body, format="json")

    assert [r["personalized"] for r in response.json()["results"]] == [True, False]
    assert_matches(document, "/api/v1/blocks/batch", "post", response)
    invalid = client.post("/api/v1/blocks/batch", {"slots": []}, format="json")
    assert_matches(document, "/api/v1/blocks/batch", "post", invalid)


def test_profiles_and_segments_match_the_document(document, world):
    client = client_with("profiles:read")
    VisitorFactory(external_id="new-1")

    for visitor in ("crm-1", "new-1", "nobody"):
        response = client.get(f"/api/v1/profiles/{visitor}")
        assert_matches(document, "/api/v1/profiles/{visitor_id}", "get", response)
    response = client.get("/api/v1/profiles/crm-1/segments")
    assert response.json()["segments"]
    assert_matches(document, "/api/v1/profiles/{visitor_id}/segments", "get", response)


def test_recommendations_and_similar_items_match_the_document(document, world):
    client = client_with("decide:read")

    for query in ({"visitor": "crm-1"}, {"visitor": "nobody"}, {"visitor": "crm-1", "k": 0}):
        response = client.get("/api/v1/recommendations", query)
        assert_matches(document, "/api/v1/recommendations", "get", response)
    response = client.get("/api/v1/items/sku-1/similar")
    assert response.json()["items"]
    assert_matches(document, "/api/v1/items/{external_id}/similar", "get", response)


def test_events_and_consent_match_the_document(document, world):
    events = {"events": [{"visitor_id": "crm-1", "type": "view", "item_id": "sku-1"},
                         {"visitor_id": "crm-1", "type": "bad type!"}]}  # fmt: skip

    response = client_with("events:write").post("/api/v1/events", events, format="json")

    assert response.json()["accepted"] == 1
    assert_matches(document, "/api/v1/events", "post", response)
    consent = client_with("privacy:admin").get("/api/v1/consent", {"visitor_id": "crm-1"})
    assert_matches(document, "/api/v1/consent", "get", consent)

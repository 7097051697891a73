"""Ids in API paths: one that nothing stored can have is a JSON 404, never a server error."""

import pytest
from rest_framework.test import APIClient

from config.models import SCOPES
from config.services import api_key_create
from tests.factories import VisitorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> APIClient:
    _, secret = api_key_create(name="crm", scopes=sorted(SCOPES))
    client = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
    client.raise_request_exception = False
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/profiles/crm%001",
        "/api/v1/profiles/crm%001/segments",
        "/api/v1/items/sku%001/similar",
        "/api/v1/slots/hero%00/decide?visitor=crm-1",
    ],
)
def test_a_nul_character_in_an_id_is_a_json_404(api, url):
    VisitorFactory(external_id="crm-1")

    response = api.get(url)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_an_external_id_with_slashes_still_finds_its_similar_items(api):
    response = api.get("/api/v1/items/shop/sku-1/similar")

    assert response.status_code == 404
    assert response.json()["message"] != "Not found."  # the view answered, not the catch-all

"""`GET /api/v1/recommendations` and `GET /api/v1/items/{external_id}/similar`."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from config.services import api_key_create
from personalization.features.models import VisitorFeatures
from tests.factories import (
    ContentItemFactory,
    ContentKindFactory,
    EventFactory,
    TagFactory,
    VisitorFactory,
    grant,
)

pytestmark = pytest.mark.django_db


def client_with(*scopes: str) -> APIClient:
    client = APIClient()
    _, secret = api_key_create(name="website", scopes=list(scopes))
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def website() -> APIClient:
    return client_with("decide:read")


@pytest.fixture
def tags():
    sports = TagFactory(name="Sports", slug="sports")
    running = TagFactory(name="Running", slug="running", parent=sports)
    return {
        "sports": sports,
        "running": running,
        "trail": TagFactory(name="Trail", slug="trail", parent=running),
        "tennis": TagFactory(name="Tennis", slug="tennis", parent=sports),
        "cooking": TagFactory(name="Cooking", slug="cooking"),
    }


@pytest.fixture
def runner(tags):
    """A runner who viewed one running shoe; loves running, a little cooking."""
    visitor = VisitorFactory(external_id="crm-1")
    grant(visitor, "analytics", "personalization")
    VisitorFeatures.objects.create(
        visitor=visitor, computed_at=timezone.now(),
        tag_affinities={"running": 1.0, "cooking": 0.3},
    )  # fmt: skip
    seen = ContentItemFactory(title="Seen shoe", external_id="seen", tags=[tags["running"]])
    EventFactory(visitor=visitor, item=seen)
    return visitor


def titles(body) -> list[str]:
    return [item["title"] for item in body["items"]]


def test_recommendations_rank_unseen_items_by_the_visitors_tag_affinity(website, tags, runner):
    ContentItemFactory(title="Pasta", tags=[tags["cooking"]], priority=5)
    ContentItemFactory(title="Road shoe", tags=[tags["running"]])
    ContentItemFactory(title="Racket", tags=[tags["tennis"]], priority=9)
    ContentItemFactory(title="Draft shoe", tags=[tags["running"]], status="draft")

    response = website.get("/api/v1/recommendations", {"visitor": "crm-1", "k": 2})

    assert response.status_code == 200
    body = response.json()
    assert (body["visitor"], body["algorithm"]) == ("crm-1", "affinity")
    assert titles(body) == ["Road shoe", "Pasta"]
    assert [item["score"] for item in body["items"]] == [1.0, 0.3]
    assert "note" not in body


def test_without_personalization_consent_recommendations_are_empty_with_a_note(website, runner):
    grant(runner, "personalization", granted=False)

    body = website.get("/api/v1/recommendations", {"visitor": "crm-1"}).json()

    assert body["items"] == []
    assert body["note"] == "no personalization consent: no recommendations"


def test_an_unknown_visitor_gets_no_recommendations_and_a_note(website):
    body = website.get("/api/v1/recommendations", {"visitor": "nobody"}).json()

    assert (body["items"], body["note"]) == ([], "unknown visitor: no recommendations")


def test_a_profiles_key_may_read_recommendations_too(runner):
    response = client_with("profiles:read").get("/api/v1/recommendations", {"visitor": "crm-1"})

    assert response.status_code == 200


def test_k_outside_1_to_50_is_a_400_naming_it(website, runner):
    response = website.get("/api/v1/recommendations", {"visitor": "crm-1", "k": 51})

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["k"]


def test_similar_items_share_the_most_tags_counting_tags_below_the_items_own(website, tags):
    shoe = ContentKindFactory(key="product")
    ContentItemFactory(external_id="sku-1", kind=shoe, tags=[tags["running"], tags["sports"]])
    ContentItemFactory(title="Trail shoe", kind=shoe, tags=[tags["trail"]], priority=1)
    ContentItemFactory(title="Trail guide", tags=[tags["trail"], tags["tennis"]])
    ContentItemFactory(title="Racket", kind=shoe, tags=[tags["tennis"]], priority=3)
    ContentItemFactory(title="Pasta", tags=[tags["cooking"]])
    ContentItemFactory(title="Socks", kind=shoe, priority=8)
    ContentItemFactory(title="Draft", kind=shoe, tags=[tags["running"]], status="draft")

    response = website.get("/api/v1/items/sku-1/similar", {"k": 4})

    assert response.status_code == 200
    body = response.json()
    assert (body["item"], body["algorithm"]) == ("sku-1", "tag_overlap")
    # trail is below running and sports (2 shared); tennis below sports (1); then the kind.
    assert titles(body) == ["Trail shoe", "Trail guide", "Racket", "Socks"]
    assert [item["score"] for item in body["items"]] == [2.0, 2.0, 1.0, 0.0]


def test_similar_items_of_an_unknown_item_is_a_json_404(website):
    response = website.get("/api/v1/items/nope/similar")

    assert response.status_code == 404
    assert response.json()["message"] == "No item with external id 'nope'."

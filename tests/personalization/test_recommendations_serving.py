"""Serving stored recommendations: the API, slots and similar items, with cold-start fallbacks."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from content.models import ContentItem
from personalization.recommendations.models import ModelRun, Recommendation, SimilarItem
from personalization.recommendations.services import (
    recommendation_run_train,
    visitor_chunks,
)
from personalization.recommendations.serving import recommended_items
from personalization.recommendations.tasks import compute_recommendations_chunk
from tests.factories.personalization import SegmentFactory, VisitorFactory, grant
from tests.personalization.test_api_related import client_with
from tests.personalization.test_recommendations_compute import shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def website():
    return client_with("decide:read")


def compute() -> ModelRun:
    call_command("compute_recommendations", stdout=StringIO(), stderr=StringIO())
    return ModelRun.objects.get(is_current=True)


def newcomer_among_runners(people):
    """A visitor without history in a static segment of the shop's running fans."""
    segment = SegmentFactory(key="runners", kind="static", condition={})
    for visitor in people[1::2]:  # the running fans
        segment.memberships.create(visitor=visitor)
    newcomer = VisitorFactory()
    grant(newcomer, "analytics", "personalization")
    segment.memberships.create(visitor=newcomer)
    return newcomer


def test_the_api_reports_the_stored_list_as_hybrid(website):
    _, people = shop()
    compute()
    runner = people[1]
    stored = list(
        Recommendation.objects.filter(visitor=runner)
        .order_by("rank")
        .values_list("item__external_id", flat=True)[:3]
    )

    body = website.get("/api/v1/recommendations", {"visitor": runner.external_id, "k": 3}).json()

    assert body["algorithm"] == "hybrid"
    assert [item["id"] for item in body["items"]] == stored


def test_an_item_unpublished_after_the_run_is_not_served(website):
    _, people = shop()
    compute()
    runner = people[1]
    first = Recommendation.objects.filter(visitor=runner).order_by("rank").first().item
    ContentItem.objects.filter(pk=first.pk).update(status=ContentItem.Status.ARCHIVED)

    items = recommended_items(visitor=runner, affinity={})

    assert first not in items
    assert items[0].pk == Recommendation.objects.get(visitor=runner, rank=2).item_id


def test_a_visitor_without_history_gets_their_segments_popular_items(website):
    items, people = shop()
    newcomer = newcomer_among_runners(people)
    compute()

    body = website.get("/api/v1/recommendations", {"visitor": newcomer.external_id, "k": 3}).json()

    running = {item.external_id for item in items["running"]}
    assert body["algorithm"] == "popularity"
    assert {item["id"] for item in body["items"]} <= running


def test_similar_items_come_from_the_current_run(website):
    items, _ = shop()
    run = compute()
    shoe = items["running"][1]
    expected = list(
        SimilarItem.objects.filter(run=run, item=shoe)
        .order_by("rank")
        .values_list("similar__external_id", flat=True)[:3]
    )

    body = website.get(f"/api/v1/items/{shoe.external_id}/similar", {"k": 3}).json()

    assert body["algorithm"] == "hybrid"
    assert [item["id"] for item in body["items"]] == expected
    assert set(expected) <= {item.external_id for item in items["running"]}


def test_without_a_result_backend_the_last_chunk_finishes_the_run():
    shop(visitors=4)
    run, ids = recommendation_run_train(now=timezone.now())
    chunks = visitor_chunks(ids, 3)
    ModelRun.objects.filter(pk=run.pk).update(chunks_total=len(chunks))

    compute_recommendations_chunk(run_id=run.pk, visitor_ids=chunks[0], finish=False)
    run.refresh_from_db()
    assert run.status == ModelRun.Status.SCORING and not run.is_current
    compute_recommendations_chunk(run_id=run.pk, visitor_ids=chunks[1], finish=False)

    run.refresh_from_db()
    assert run.status == ModelRun.Status.FINISHED and run.is_current


def test_listed_items_beyond_the_shared_candidate_pool_are_still_served(monkeypatch):
    from personalization.recommendations import serving as decisions

    _, people = shop()
    compute()
    runner = people[1]
    listed = list(
        Recommendation.objects.filter(visitor=runner)
        .order_by("rank")
        .values_list("item_id", flat=True)
    )
    ContentItem.objects.filter(pk=listed[0]).update(priority=-100)  # last in the shared pool
    monkeypatch.setattr(decisions, "CANDIDATE_POOL", 2)
    monkeypatch.setattr(decisions, "_candidates", {})  # a pool of 2 for this test only

    items = recommended_items(visitor=runner, affinity={})

    assert [item.pk for item in items[:2]] == listed[:2]


def test_a_slot_shows_a_newcomer_their_segments_popular_items_first():
    items, people = shop()
    newcomer = newcomer_among_runners(people)
    compute()

    first = recommended_items(visitor=newcomer, affinity={})[:2]

    assert {item.pk for item in first} <= {item.pk for item in items["running"]}

"""`POST /api/v1/blocks/batch` with a rule-based slot and a slot that serves recommendations."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from consent.models import ConsentRecord, PolicyVersion
from content.models import SlotRule
from personalization.features.models import VisitorFeatures
from personalization.recommendations.models import ModelRun, Recommendation
from personalization.visitors.models import Event, Visitor
from tests.factories import (
    ContentItemFactory,
    ContentKindFactory,
    PurposeFactory,
    SlotFactory,
    SlotRuleFactory,
    TagFactory,
)
from tests.personalization.test_api_blocks import batch, slots  # noqa: F401 - slots: a fixture

pytestmark = pytest.mark.django_db

SLOTS = ("newsletter-top", "newsletter-picks")


@pytest.fixture
def picks(slots):  # noqa: F811 - the rule-based slots of the blocks tests
    """`newsletter-picks`: three recommended articles; 12 tagged articles to choose from."""
    article = ContentKindFactory(key="article")
    tags = [TagFactory(slug=slug, name=slug) for slug in ("running", "audio", "garden")]
    articles = [
        ContentItemFactory(
            title=f"Story {n}", kind=article, external_id=f"story-{n}", priority=n % 4,
            tags=[tags[n % 3]],
        )
        for n in range(12)
    ]  # fmt: skip
    slot = SlotFactory(key="newsletter-picks", default_items=articles[:3], max_items=3)
    rule = SlotRuleFactory(slot=slot, strategy=SlotRule.Strategy.RECOMMENDATIONS)
    rule.kinds.set([article])
    ModelRun.objects.create(
        status="finished", is_current=True,
        popular={"global": [a.pk for a in articles[::-1]], "segments": {}},
    )  # fmt: skip
    return articles


def readers(count: int, articles) -> list[str]:
    """`count` consenting readers in bulk, each with two items seen. Every third has a stored
    list, every third tag affinities only, the rest neither (a cold start)."""
    ids = [f"r-{n}" for n in range(count)]
    visitors = Visitor.objects.bulk_create(Visitor(external_id=i) for i in ids)
    policy = PolicyVersion.objects.order_by("-version").first()
    purposes = [PurposeFactory(key="marketing"), PurposeFactory(key="personalization")]
    ConsentRecord.objects.bulk_create(
        ConsentRecord(visitor=v, purpose=p, granted=True, policy=policy, source="import")
        for v in visitors
        for p in purposes
    )
    now = timezone.now()
    VisitorFeatures.objects.bulk_create(
        VisitorFeatures(
            visitor=v, computed_at=now, lifecycle="engaged" if n % 2 else "new",
            tag_affinities={"garden": 0.9} if n % 3 == 1 else {},
        )
        for n, v in enumerate(visitors)
    )  # fmt: skip
    Event.objects.bulk_create(
        Event(visitor=v, type="view", item=articles[(n + k) % 12], event_id=f"e-{n}-{k}",
              occurred_at=now, received_at=now)
        for n, v in enumerate(visitors)
        for k in range(2)
    )  # fmt: skip
    run = ModelRun.objects.get(is_current=True)
    Recommendation.objects.bulk_create(
        Recommendation(run=run, visitor=v, item=articles[(n + 5 + r) % 12], rank=r + 1,
                       score=1.0 / (r + 1), algorithm="ease")
        for n, v in enumerate(visitors)
        if n % 3 == 0
        for r in range(4)
    )  # fmt: skip
    return ids


def picked(response) -> dict[str, list[str]]:
    results = response.json()["results"]
    return {r["recipient"]: r["blocks"]["newsletter-picks"]["items"] for r in results}


def test_the_query_count_is_the_same_for_100_and_1000_recipients_with_both_slot_kinds(
    newsletter,
    picks,
):
    ids = readers(1000, picks)
    batch(newsletter, ids[:10], slots=SLOTS)  # warm the per-process caches

    with CaptureQueriesContext(connection) as hundred:
        assert batch(newsletter, ids[:100], slots=SLOTS).status_code == 200
    with CaptureQueriesContext(connection) as thousand:
        response = batch(newsletter, ids, slots=SLOTS)

    assert response.status_code == 200
    assert len(thousand) == len(hundred), [q["sql"][:120] for q in thousand.captured_queries]
    reasons = {r["blocks"]["newsletter-picks"]["reason"] for r in response.json()["results"]}
    assert reasons == {"rule"}  # every reader got recommendations, not the default


def test_each_recipient_in_a_batch_gets_what_a_call_for_them_alone_gives(
    newsletter,
    picks,
):
    ids = readers(30, picks)

    together = picked(batch(newsletter, ids, slots=SLOTS))

    alone = {}
    for recipient in ids:
        alone |= picked(batch(newsletter, [recipient], slots=SLOTS))
    assert together == alone


def test_recommended_blocks_leave_out_what_the_reader_has_seen_and_follow_their_list(
    newsletter,
    picks,
):
    ids = readers(3, picks)  # r-0 has a list: stories 5, 6, 7, 8; saw stories 0 and 1

    items = picked(batch(newsletter, ids, slots=SLOTS))

    assert items["r-0"] == ["story-5", "story-6", "story-7"]
    assert not {"story-1", "story-2"} & set(items["r-1"])  # r-1 saw stories 1 and 2
    garden = {f"story-{n}" for n in range(2, 12, 3)}
    assert set(items["r-1"]) <= garden  # r-1 likes garden: only garden stories

"""`POST /api/v1/blocks/batch` with a frequency-capped slot and a newest-tagged rule."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from content.models import SlotRule
from personalization.visitors.models import Impression, Visitor
from tests.factories import ContentItemFactory, SlotFactory, SlotRuleFactory, TagFactory
from tests.personalization.test_api_blocks import batch, seed_recipients

pytestmark = pytest.mark.django_db


@pytest.fixture
def offer():
    """`newsletter-offer`: the sale, at most twice a week to a reader; the everyday offer after."""
    slot = SlotFactory(
        key="newsletter-offer", frequency_cap=2, frequency_cap_days=7,
        default_items=[ContentItemFactory(title="Everyday offer", external_id="everyday")],
    )  # fmt: skip
    sale = ContentItemFactory(title="Spring sale", external_id="sale")
    SlotRuleFactory(slot=slot, condition={}, items=[sale])
    return sale


@pytest.fixture
def latest():
    """`newsletter-latest`: the two newest sports stories."""
    sports = TagFactory(name="Sports", slug="sports")
    slot = SlotFactory(key="newsletter-latest", max_items=2)
    rule = SlotRuleFactory(slot=slot, condition={}, strategy=SlotRule.Strategy.NEWEST_TAGGED)
    rule.tags.set([sports])
    now = timezone.now()
    for hours, name in [(1, "final"), (2, "derby"), (3, "marathon")]:
        ContentItemFactory(
            title=name.title(), external_id=name, tags=[sports],
            publish_at=now - timedelta(hours=hours),
        )  # fmt: skip


def shown_twice(sale, recipients: list[str], days_ago: float) -> None:
    at = timezone.now() - timedelta(days=days_ago)
    Impression.objects.bulk_create(
        Impression(visitor=visitor, item=sale, slot="newsletter-offer", shown_at=at)
        for visitor in Visitor.objects.filter(external_id__in=recipients)
        for _ in range(2)
    )


def offered(response) -> list[str]:
    return [r["blocks"]["newsletter-offer"]["items"][0] for r in response.json()["results"]]


def test_a_reader_shown_the_sale_as_often_as_the_cap_allows_gets_the_everyday_offer(
    newsletter, offer
):
    ids = seed_recipients(30, "r")
    shown_twice(offer, ids[::3], days_ago=2)
    shown_twice(offer, ids[1::3], days_ago=9)  # before the cap's week: they count no more

    response = batch(newsletter, ids, slots=["newsletter-offer"])

    assert response.status_code == 200
    expected = ["everyday" if n % 3 == 0 else "sale" for n in range(30)]
    assert offered(response) == expected


@pytest.mark.parametrize("slot", ["newsletter-offer", "newsletter-latest"])
def test_the_slot_costs_as_many_queries_for_1000_recipients_as_for_10(
    newsletter, offer, latest, slot
):
    ids = seed_recipients(1000, "r")
    shown_twice(offer, ids[::3], days_ago=2)
    batch(newsletter, ids[:10], slots=[slot])  # warm the per-process caches

    with CaptureQueriesContext(connection) as ten:
        assert batch(newsletter, ids[:10], slots=[slot]).status_code == 200
    with CaptureQueriesContext(connection) as thousand:
        assert batch(newsletter, ids, slots=[slot]).status_code == 200

    assert len(thousand) == len(ten), [q["sql"][:120] for q in thousand.captured_queries]


def test_every_reader_gets_the_two_newest_sports_stories(newsletter, latest):
    ids = seed_recipients(20, "r")

    response = batch(newsletter, ids, slots=["newsletter-latest"])

    items = [r["blocks"]["newsletter-latest"]["items"] for r in response.json()["results"]]
    assert items == [["final", "derby"]] * 20


def test_caps_of_different_windows_in_one_batch_each_count_their_own_days(newsletter, offer):
    daily = SlotFactory(
        key="newsletter-daily", frequency_cap=2, frequency_cap_days=1,
        default_items=[ContentItemFactory(title="Daily default", external_id="daily-default")],
    )  # fmt: skip
    SlotRuleFactory(slot=daily, condition={}, items=[offer])
    ids = seed_recipients(2, "r")
    shown_twice(offer, ids[:1], days_ago=3)  # inside the week, outside the day

    response = batch(newsletter, ids, slots=["newsletter-offer", "newsletter-daily"])

    blocks = [r["blocks"] for r in response.json()["results"]]
    assert [(b["newsletter-offer"]["items"], b["newsletter-daily"]["items"]) for b in blocks] == [
        (["everyday"], ["sale"]),
        (["sale"], ["sale"]),
    ]

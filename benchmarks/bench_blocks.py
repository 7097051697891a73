"""Cost per recipient of `POST /api/v1/blocks/batch`: 1,000 recipients in a call vs one.

Both go through the real API (URL routing, middleware, API-key authentication, throttling,
JSON in and out) with Django's test client, for every kind of slot rule: `newsletter-top`,
rule based (rules on a segment and on features, chosen items), `newsletter-picks`, whose rule
serves recommendations (the current model run's stored list, then tag affinity, without the
items the reader interacted with), and `newsletter-latest`, the newest articles with two
tags under a frequency cap (a reader shown the newest twice this week gets the one after).
The catalogue has 300 tagged articles; recipients are a realistic mix: consenting readers
with a few interactions each (most with a stored list and tag affinities, some engaged, some
VIPs, a third shown the newest tagged article twice), readers without marketing consent, and
unknown addresses. The ratio is what batching buys: a one-recipient call pays authentication
and the fixed queries for one recipient; a batch shares them. The query counts show whether a
batch costs the same number of queries whatever its size (100 and 1,000 recipients).
"""

import json
import random
from datetime import timedelta

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from support import best_of, test_database

from config.services import api_key_create
from consent.models import ConsentRecord, PolicyVersion, Purpose
from content.models import ContentItem, ContentKind, Slot, SlotRule
from content.services import tags_ensure
from personalization.features.models import VisitorFeatures
from personalization.recommendations.models import ModelRun, Recommendation
from personalization.segments.models import Segment, SegmentMembership
from personalization.visitors.models import Event, Impression, Visitor

RECIPIENTS = 1000
SLOTS = ["newsletter-top", "newsletter-picks", "newsletter-latest"]
ARTICLES = 300
TAGS = ["politics", "sports", "science", "travel", "food", "culture", "money", "tech"]


def seed() -> list[str]:
    """Two slots and 1,000 recipients: 85% consenting, 10% without marketing, 5% unknown."""
    kind, _ = ContentKind.objects.get_or_create(key="article", defaults={"name": "Article"})

    def item(n: int) -> ContentItem:
        return ContentItem.objects.create(
            title=f"Story {n}", slug=f"story-{n}", kind=kind, status="published",
            external_id=f"story-{n}", url=f"https://news.example.com/{n}",
            summary="A short summary of the story for the newsletter. " * 3, priority=n % 7,
        )  # fmt: skip

    top = Slot.objects.create(key=SLOTS[0], name="Top", max_items=2)
    top.default_items.set([item(0), item(1)])
    vip = Segment.objects.create(key="vip", name="VIP", kind="static")
    for position, condition in enumerate(({"$inSegment": "vip"}, {"lifecycle": "engaged"})):
        rule = SlotRule.objects.create(slot=top, position=position, condition=condition)
        rule.items.set([item(10 + 2 * position), item(11 + 2 * position)])
    articles = [item(100 + n) for n in range(ARTICLES)]
    tags = list(tags_ensure(TAGS).values())
    for n, article in enumerate(articles):
        article.tags.set([tags[n % len(tags)], tags[(n * 3 + 1) % len(tags)]])
    picks = Slot.objects.create(key=SLOTS[1], name="Picks", max_items=3)
    picks.default_items.set(articles[:3])
    SlotRule.objects.create(
        slot=picks, position=0, condition={}, strategy=SlotRule.Strategy.RECOMMENDATIONS
    )
    latest = Slot.objects.create(
        key=SLOTS[2], name="Latest", max_items=2, frequency_cap=2, frequency_cap_days=7
    )
    latest.default_items.set(articles[3:5])
    newest = SlotRule.objects.create(
        slot=latest, position=0, condition={}, strategy=SlotRule.Strategy.NEWEST_TAGGED
    )
    newest.tags.set(tags[:2])

    known = int(RECIPIENTS * 0.95)
    visitors = Visitor.objects.bulk_create(
        Visitor(external_id=f"crm-{n}") for n in range(known)
    )  # fmt: skip
    policy = PolicyVersion.objects.order_by("-version").first()
    marketing = Purpose.objects.get(key="marketing")
    personalization = Purpose.objects.get(key="personalization")
    ConsentRecord.objects.bulk_create(
        ConsentRecord(visitor=v, purpose=p, granted=not (p == marketing and n % 10 == 9),
                      policy=policy, source="import")
        for n, v in enumerate(visitors)
        for p in (marketing, personalization)
    )  # fmt: skip
    now = timezone.now()
    VisitorFeatures.objects.bulk_create(
        VisitorFeatures(visitor=v, computed_at=now, lifecycle="engaged" if n % 3 else "new")
        for n, v in enumerate(visitors)
    )
    SegmentMembership.objects.bulk_create(
        SegmentMembership(segment=vip, visitor=v) for v in visitors[::7]
    )
    histories_seed(visitors, articles)
    impressions_seed(visitors, articles)
    return [f"crm-{n}" for n in range(RECIPIENTS)]  # the last 5% are unknown


def histories_seed(visitors: list[Visitor], articles: list[ContentItem]) -> None:
    """Interactions, tag affinities and a current model run with lists for 80% of the readers."""
    rng = random.Random(42)
    now = timezone.now()
    Event.objects.bulk_create(
        Event(visitor=v, type="view", item=rng.choice(articles), event_id=f"e-{v.pk}-{k}",
              occurred_at=now, received_at=now)
        for v in visitors
        for k in range(5)
    )  # fmt: skip
    for v in VisitorFeatures.objects.all():
        v.tag_affinities = {slug: round(rng.random(), 2) for slug in rng.sample(TAGS, 3)}
    VisitorFeatures.objects.bulk_update(VisitorFeatures.objects.all(), ["tag_affinities"])
    run = ModelRun.objects.create(status="finished", is_current=True)
    Recommendation.objects.bulk_create(
        Recommendation(run=run, visitor=v, item=item, rank=rank, score=1 / rank, algorithm="ease")
        for n, v in enumerate(visitors)
        if n % 5
        for rank, item in enumerate(rng.sample(articles, 10), start=1)
    )  # fmt: skip


def impressions_seed(visitors: list[Visitor], articles: list[ContentItem]) -> None:
    """A third of the readers were shown the newest tagged article twice this week."""
    tagged = ContentItem.objects.filter(pk__in=[a.pk for a in articles], tags__slug__in=TAGS[:2])
    top = tagged.order_by("-created_at").first()
    shown = timezone.now() - timedelta(days=2)
    Impression.objects.bulk_create(
        Impression(visitor=v, item=top, slot=SLOTS[2], shown_at=shown)
        for v in visitors[::3]
        for _ in range(2)
    )


def main() -> None:
    with test_database():
        recipients = seed()
        _, secret = api_key_create(name="bench", scopes=["blocks:read"])
        client = Client(HTTP_AUTHORIZATION=f"Bearer {secret}")

        def call(who: list[str]) -> list[dict]:
            body = json.dumps({"slots": SLOTS, "recipients": who})
            response = client.post("/api/v1/blocks/batch", body, content_type="application/json")
            assert response.status_code == 200, response.content[:300]
            assert len(response.json()["results"]) == len(who)
            return response.json()["results"]

        answers = call(recipients)  # warm: definitions, templates, connection
        latest = [r["blocks"][SLOTS[2]]["items"] for r in answers if r["personalized"]]
        capped = sum(items != max(latest, key=latest.count) for items in latest)
        one = best_of(lambda: call(recipients[:1]), repeat=15, number=5)
        batch = best_of(lambda: call(recipients), repeat=5)
        with CaptureQueriesContext(connection) as one_queries:
            call(recipients[:1])
        with CaptureQueriesContext(connection) as hundred_queries:
            call(recipients[:100])
        with CaptureQueriesContext(connection) as batch_queries:
            call(recipients)

    per_one, per_batch = one, batch / RECIPIENTS
    print(
        f"POST /api/v1/blocks/batch, {len(SLOTS)} slots, through the API with a key; best of runs"
    )
    print(f"{'call':<34}{'s per call':>12}{'s per recipient':>18}{'queries':>9}")
    print(f"{'1 recipient':<34}{one:>12.4f}{per_one:>18.6f}{len(one_queries):>9}")
    print(f"{'100 recipients':<34}{'':>12}{'':>18}{len(hundred_queries):>9}")
    print(f"{f'{RECIPIENTS:,} recipients':<34}{batch:>12.4f}{per_batch:>18.6f}"
          f"{len(batch_queries):>9}")  # fmt: skip
    print(f"{SLOTS[2]}: {capped} of {len(latest):,} personalized readers were past the cap")
    flat = "flat" if len(hundred_queries) == len(batch_queries) else "growing"
    print(f"queries at 100 and {RECIPIENTS:,} recipients: {flat}")
    print(f"cost per recipient, batch / single call: {per_batch / per_one:.3f} "
          f"({per_one / per_batch:.0f}x cheaper in a batch)")  # fmt: skip


if __name__ == "__main__":
    main()

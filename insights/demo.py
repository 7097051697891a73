"""Six weeks of shop traffic for `seed_demo`, with a personalization holdout, then the rollups.

Shoppers `shopper-1` … `shopper-N` (20 per demo visitor, at most 1,000) arrive over the last
six weeks. Three in ten are in the holdout `personalization-holdout` and see the slots' default
content; the others see what the slots' rules choose. Personalized content is clicked more
often, and a click leads to a purchase more often, so the dashboard shows a visible
uplift (clicks 0.10 against 0.06 per impression, purchases 0.35 against 0.25 per click).
Shoppers who were active before (their views in the 30 days before their first visit)
buy more, which CUPED uses. Shoppers are on two imported lists (static segments). The holdout
is left paused, so that the demo site's own visitors always see personalized pages; start it in
Experiments to keep measuring.

Idempotent: when the holdout exists, only the rollups are brought up to date. Cost: a few
bulk inserts (about 30 impressions and 10 events per shopper) and one rollup run.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from consent.purposes import ANALYTICS, PERSONALIZATION
from consent.services import consent_grant_bulk
from content.models import Slot, SlotRule
from content.registry import DemoOptions
from experiments.models import Experiment, Exposure, Metric, Variation
from insights.services import insights_compute
from personalization.segments.models import Segment, SegmentMembership
from personalization.visitors.models import Event, Impression, Visitor

KEY = "personalization-holdout"
DAYS = 42
HOLDOUT_SHARE = 0.3
PER_DEMO_VISITOR, MOST = 20, 1000
CLICK = {"holdout": 0.06, "personalized": 0.10}  # per impression
BUY = {"holdout": 0.25, "personalized": 0.35}  # per click
# Imported lists (static segments: nothing recomputes them) the shoppers belong to.
STATIC_LISTS = [("shop-newsletter", "Shop newsletter", 0.4), ("loyalty-club", "Loyalty club", 0.2)]


def _holdout(now: datetime) -> tuple[Experiment, Variation, Variation]:
    experiment = Experiment.objects.create(
        key=KEY, name="Personalization holdout", is_holdout=True,
        hypothesis="Personalized slots sell more than the same slots' default content.",
        status=Experiment.Status.PAUSED, start_at=now - timedelta(days=DAYS),
    )  # fmt: skip
    holdout = Variation.objects.create(experiment=experiment, position=0, key="holdout",
                                       name="Default content", is_control=True,
                                       weight=HOLDOUT_SHARE)  # fmt: skip
    personalized = Variation.objects.create(
        experiment=experiment, position=1, key="personalized", name="Personalized",
        weight=1 - HOLDOUT_SHARE,
    )  # fmt: skip
    Metric.objects.create(experiment=experiment, kind=Metric.Kind.CONVERSION,
                          event_type="purchase", window_hours=72, is_primary=True)  # fmt: skip
    return experiment, holdout, personalized


def _choices(slot: Slot) -> tuple[list[int], list[tuple[int, list[int]]]]:
    """The slot's default items and each rule's items (recommendation rules: the products)."""
    defaults = list(slot.default_items.values_list("pk", flat=True))
    rules = []
    for rule in slot.rules.filter(is_active=True).prefetch_related("items"):
        items = [i.pk for i in rule.items.all()]
        if rule.strategy == SlotRule.Strategy.RECOMMENDATIONS:
            items = defaults[::-1]  # the products the recommendations would pick from
        if items:
            rules.append((rule.pk, items))
    return defaults, rules


class _Writer:
    def __init__(self, rng: random.Random, slots: dict[str, tuple], now: datetime):
        self.rng, self.slots, self.now = rng, slots, now
        self.impressions: list[Impression] = []
        self.events: list[Event] = []
        self.count = 0

    def event(self, visitor: Visitor, kind: str, at: datetime, **fields) -> None:
        self.count += 1
        self.events.append(Event(visitor=visitor, type=kind, occurred_at=at, received_at=at,
                                 event_id=f"insights-demo-{visitor.pk}-{self.count}",
                                 **fields))  # fmt: skip

    def visit(self, visitor: Visitor, arm: str, at: datetime, appetite: float) -> None:
        self.event(visitor, Event.Type.VIEW, at, properties={"path": "/"})
        for key, (defaults, rules) in self.slots.items():
            if arm == "holdout" or not rules:
                rule_id, items, reason = None, defaults[:3], "holdout"
            else:
                rule_id, items = self.rng.choice(rules)
                items, reason = items[:3], "rule"
            for item in items:
                self.impressions.append(Impression(visitor=visitor, item_id=item, slot=key,
                                                   shown_at=at, rule_id=rule_id, reason=reason,
                                                   counts_for_cap=False))  # fmt: skip
                if self.rng.random() >= CLICK[arm] * appetite:
                    continue
                click_at = at + timedelta(minutes=self.rng.uniform(0.5, 5))
                self.event(visitor, Event.Type.CLICK, click_at, item_id=item,
                           properties={"slot": key})  # fmt: skip
                if self.rng.random() < min(BUY[arm] * appetite, 0.9):
                    value = Decimal(self.rng.randrange(2000, 20000)) / 100
                    self.event(visitor, Event.Type.PURCHASE,
                               click_at + timedelta(minutes=self.rng.uniform(1, 90)),
                               item_id=item, value=value)  # fmt: skip


def _shoppers(count: int, now: datetime, rng: random.Random) -> list[Visitor]:
    firsts = [now - timedelta(days=rng.uniform(0, DAYS), minutes=rng.uniform(0, 600))
              for _ in range(count)]  # fmt: skip
    Visitor.objects.bulk_create(
        Visitor(external_id=f"shopper-{n}", first_seen=first, last_seen=first, sessions=1)
        for n, first in enumerate(firsts, start=1)
    )
    return list(Visitor.objects.filter(external_id__startswith="shopper-").order_by("pk"))


@transaction.atomic
def seed_history(*, shoppers: int, seed: int, now: datetime | None = None) -> bool:
    """Write the shoppers' six weeks; False when the holdout exists already."""
    if Experiment.objects.filter(key=KEY).exists():
        return False
    now = now or timezone.now()
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    experiment, holdout, personalized = _holdout(now)
    slots = {s.key: _choices(s) for s in Slot.objects.filter(key__startswith="homepage-")}
    writer, exposures = _Writer(rng, slots, now), []
    visitors = _shoppers(shoppers, now, rng)
    for visitor in visitors:
        arm = "holdout" if rng.random() < HOLDOUT_SHARE else "personalized"
        first = visitor.first_seen
        exposures.append(
            Exposure(
                visitor=visitor,
                experiment=experiment,
                exposed_at=first,
                variation=holdout if arm == "holdout" else personalized,
            )
        )
        before = rng.choice([0, 0, 1, 2, 4, 8])
        for _ in range(before):
            writer.event(visitor, Event.Type.VIEW, first - timedelta(days=rng.uniform(1, 29)))
        appetite = 0.6 + 0.15 * before
        visits = [first, *sorted(first + timedelta(days=rng.uniform(0, 20))
                                  for _ in range(rng.randint(0, 4)))]  # fmt: skip
        for at in (v for v in visits if v <= now):
            writer.visit(visitor, arm, at, appetite)
    Exposure.objects.bulk_create(exposures)
    Impression.objects.bulk_create(writer.impressions, batch_size=5000)
    Event.objects.bulk_create(writer.events, batch_size=5000)
    consent_grant_bulk(visitor_ids=[v.pk for v in visitors], purposes=[ANALYTICS, PERSONALIZATION])
    lists = [(Segment.objects.get_or_create(key=key, defaults={
        "name": name, "kind": Segment.Kind.STATIC, "description": "Demo shoppers."})[0], share)
        for key, name, share in STATIC_LISTS]  # fmt: skip
    SegmentMembership.objects.bulk_create(
        [SegmentMembership(segment=segment, visitor=v) for v in visitors
         for segment, share in lists if rng.random() < share], ignore_conflicts=True,
    )  # fmt: skip
    return True


def insights_demo_seed(options: DemoOptions) -> None:
    """`seed_demo`'s shop history with a holdout, and the insights rollups over everything."""
    shoppers = min(MOST, PER_DEMO_VISITOR * max(options.visitors, 1))
    created = seed_history(shoppers=shoppers, seed=options.seed)
    with transaction.atomic():  # one commit: SQLite writes each commit to disk
        result = insights_compute()
    history = (f"{shoppers} shoppers over {DAYS} days with the holdout {KEY} (paused: start it to "
               "keep measuring); " if created else "")  # fmt: skip
    options.write(f"demo insights: {history}rollups of {result.days} days")

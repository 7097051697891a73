"""Raw rows for insights tests: impressions, clicks and purchases over ten days, and a holdout."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from content.models import Slot, SlotRule
from experiments.models import Experiment, Exposure, Variation
from personalization.visitors.models import Event, Impression, Visitor
from tests.factories import ContentItemFactory, SlotFactory, SlotRuleFactory, VisitorFactory

DAYS = 10


@pytest.fixture
def every_cell(settings):
    """Show every cell, however few its visitors: the tests compare exact figures."""
    settings.TAILOR_INSIGHTS_MIN_VISITORS = 1


class History:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.now = timezone.now()
        self.items = [ContentItemFactory() for _ in range(4)]
        self.slots = [Slot.objects.filter(key=key).first() or SlotFactory(key=key)
                      for key in ("home-hero", "home-rail")]  # fmt: skip
        self.rules: list[SlotRule] = [
            SlotRuleFactory(slot=slot, position=n) for slot in self.slots for n in (1, 2)
        ]
        self.count = 0

    def event(self, visitor, kind, at, received_at=None, **fields) -> Event:
        self.count += 1
        return Event.objects.create(
            visitor=visitor, type=kind, occurred_at=at, received_at=received_at or at,
            event_id=f"history-{self.rng.random():.12f}-{self.count}", **fields,
        )  # fmt: skip

    def visit(self, visitor: Visitor, at, *, personalized: bool = True) -> None:
        for slot in self.slots:
            rule = self.rng.choice([r for r in self.rules if r.slot_id == slot.pk])
            item = self.rng.choice(self.items)
            Impression.objects.create(
                visitor=visitor, item=item, slot=slot.key, shown_at=at,
                rule_id=rule.pk if personalized else None,
                reason="rule" if personalized else "holdout",
            )  # fmt: skip
            if self.rng.random() < (0.5 if personalized else 0.25):
                click = at + timedelta(minutes=self.rng.uniform(1, 30))
                self.event(visitor, "click", click, item=item, properties={"slot": slot.key})
                if self.rng.random() < 0.5:
                    # Some inside the 72-hour window, some after it.
                    later = click + timedelta(hours=self.rng.choice([1, 20, 70, 80, 100]))
                    if later < self.now:
                        self.event(visitor, "purchase", later, item=item,
                                   value=Decimal(self.rng.randrange(100, 9000)) / 100)  # fmt: skip


@pytest.fixture
def history(db, every_cell) -> History:
    """Forty visitors over ten days; clicks and purchases, some outside the window."""
    rng = random.Random(7)
    built = History(rng)
    for _ in range(40):
        visitor = VisitorFactory()
        for _ in range(rng.randint(1, 4)):
            at = built.now - timedelta(days=rng.uniform(0.1, DAYS), minutes=rng.uniform(0, 60))
            built.visit(visitor, at)
            built.event(visitor, "view", at)
    # A click on no slot and a purchase after it count on no slot.
    stray = VisitorFactory()
    built.event(stray, "click", built.now - timedelta(days=1), item=built.items[0])
    built.event(stray, "purchase", built.now - timedelta(days=1) + timedelta(hours=1),
                value=Decimal("12.00"))  # fmt: skip
    return built


@pytest.fixture
def holdout_history(db, every_cell):
    """A holdout: 60 visitors converting at 20 % against 140 personalized at 40 %."""
    rng = random.Random(11)
    built = History(rng)
    experiment = Experiment.objects.create(key="holdout", name="Holdout", is_holdout=True,
                                           status=Experiment.Status.RUNNING)  # fmt: skip
    control = Variation.objects.create(experiment=experiment, position=0, key="holdout",
                                       is_control=True, weight=0.3)  # fmt: skip
    treated = Variation.objects.create(experiment=experiment, position=1, key="on", weight=0.7)
    for n in range(200):
        in_holdout = n < 60
        visitor = VisitorFactory()
        exposed = built.now - timedelta(days=rng.uniform(4, DAYS))
        Exposure.objects.create(visitor=visitor, experiment=experiment, exposed_at=exposed,
                                variation=control if in_holdout else treated)  # fmt: skip
        for _ in range(n % 4):  # activity before exposure: CUPED's covariate
            built.event(visitor, "view", exposed - timedelta(days=rng.uniform(1, 20)))
        if rng.random() < (0.2 if in_holdout else 0.4) * (0.7 + 0.2 * (n % 4)):
            built.event(visitor, "purchase", exposed + timedelta(hours=rng.uniform(1, 60)),
                        value=Decimal(rng.randrange(1000, 9000)) / 100)  # fmt: skip
        if rng.random() < 0.2:  # after the window: not counted
            built.event(visitor, "purchase", exposed + timedelta(hours=90), value=Decimal("5"))
    return experiment

"""PostgreSQL sums features up in one query; Python's stream over the events gives the same."""

import random
from datetime import timedelta
from decimal import Decimal

import pytest

from content.services import tags_ensure
from personalization.features.aggregates import (
    Weighing,
    aggregates_in_database,
    aggregates_streamed,
)
from personalization.features.population import _measures_in_database, _measures_streamed
from personalization.features.scores import event_weights, session_gap
from personalization.visitors.models import Event
from tests.factories import ContentItemFactory
from tests.factories.personalization import VisitorFactory
from tests.personalization.test_features import NOW

PATHS = ["sports/football", "sports/running", "sports", "home/kitchen", "sale"]
TYPES = ["view", "view", "click", "add_to_cart", "purchase", "search", "rating", "wishlist"]


def varied_history(rng: random.Random) -> list[int]:
    """Visitors with sessions split by exactly the gap, equal times, purchases, bare items."""
    tags = tags_ensure(PATHS)
    items = [
        ContentItemFactory(tags=[tags[p] for p in rng.sample(PATHS, rng.randint(0, 3))])
        for _ in range(12)
    ]
    visitors = [VisitorFactory() for _ in range(25)]
    events = []
    for visitor in visitors[:-1]:  # the last one has no events
        moment = NOW - timedelta(days=rng.uniform(0, 120))
        for _ in range(rng.randint(1, 40)):
            moment += rng.choice(
                [timedelta(0), session_gap(), timedelta(minutes=rng.uniform(1, 90)),
                 timedelta(days=rng.uniform(0, 9))]
            )  # fmt: skip
            kind = rng.choice(TYPES)
            value = Decimal(rng.choice(["9.99", "20", "35.5", "5000.1234"]))
            events.append(
                Event(
                    event_id=f"varied-{len(events)}", visitor=visitor, type=kind,
                    item=None if kind == "search" else rng.choice(items),
                    value=value if kind == "purchase" and rng.random() < 0.9 else None,
                    occurred_at=moment,
                )
            )  # fmt: skip
    Event.objects.bulk_create(events)
    return [v.pk for v in visitors]


@pytest.mark.django_db
@pytest.mark.parametrize("clip", [None, Decimal("120.5000")])
def test_the_database_sums_up_a_chunk_exactly_as_python_does(clip):
    ids = varied_history(random.Random(11))
    weighing = Weighing(
        now=NOW, purchase_clip=clip, weights={**event_weights(), "custom": 0.7},
        half_life=23.0, gap=session_gap(),
    )  # fmt: skip

    in_database = aggregates_in_database(ids, weighing)

    assert len(in_database) == len(ids) - 1
    assert in_database == aggregates_streamed(ids, weighing)


@pytest.mark.django_db
@pytest.mark.parametrize("step", [1, 2])
def test_the_database_measures_the_population_exactly_as_python_does(step):
    varied_history(random.Random(5))
    clip = Decimal("120.5000")

    in_database = _measures_in_database(now=NOW, clip=clip, step=step)

    assert in_database
    assert sorted(in_database) == sorted(_measures_streamed(now=NOW, clip=clip, step=step))

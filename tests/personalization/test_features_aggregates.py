"""PostgreSQL works features out in one statement; Python, streaming the events, gets the same."""

import dataclasses
import math
import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection

from consent.services import consent_record
from content.services import tags_ensure
from personalization.features.aggregates import Weighing
from personalization.features.compute import allowed_visitors, features_rows
from personalization.features.in_database import _AGE_SECONDS, _round_4
from personalization.features.models import VisitorFeatures
from personalization.features.population import _measures_in_database, _measures_streamed
from personalization.features.scores import event_weights, half_life_days, session_gap
from personalization.features.services import features_chunk_compute, population_stats
from personalization.visitors.models import Event, Visitor
from tests.factories import ContentItemFactory
from tests.factories.personalization import VisitorFactory
from tests.personalization.test_features import NOW

PATHS = ["sports/football", "sports/running", "sports", "home/kitchen", "sale"]
TYPES = ["view", "view", "click", "add_to_cart", "purchase", "search", "rating", "wishlist"]
FIELDS = [f.attname for f in VisitorFeatures._meta.concrete_fields if f.name != "id"]


def varied_history(rng: random.Random) -> list[int]:
    """Visitors with sessions split by exactly the gap, equal times, purchases, bare items."""
    tags = tags_ensure(PATHS)
    items = [
        ContentItemFactory(tags=[tags[p] for p in rng.sample(PATHS, rng.randint(0, 3))])
        for _ in range(12)
    ]
    visitors = [
        VisitorFactory(first_seen=NOW - timedelta(days=rng.uniform(0, 60))) for _ in range(25)
    ]
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


def engagement_on_a_tie() -> int:
    """13 sessions and two event types in 30 days, the last one now: engagement 0.78125."""
    visitor = VisitorFactory(first_seen=NOW - timedelta(days=365))
    item = ContentItemFactory()
    Event.objects.bulk_create(
        Event(
            event_id=f"tie-{day}",
            visitor=visitor,
            type="view" if day % 2 else "click",
            item=item,
            occurred_at=NOW - timedelta(days=day),
        )
        for day in range(13)
    )
    return visitor.pk


def allowing(ids: list[int]) -> None:
    """All but every fifth of them allow personalization."""
    visitors = Visitor.objects.in_bulk(ids)
    for n, pk in enumerate(ids):
        choices = {"analytics": True, "personalization": n % 5 != 4}
        consent_record(visitor=visitors[pk], choices=choices, source="admin")


@pytest.mark.django_db
@pytest.mark.parametrize("clip", [None, Decimal("120.5000")])
def test_the_database_stores_every_feature_exactly_as_python_works_it_out(clip, settings):
    settings.TAILOR_EVENT_WEIGHTS = {"custom": 0.7}
    settings.TAILOR_AFFINITY_HALF_LIFE_DAYS = 23.0
    ids = [*varied_history(random.Random(11)), engagement_on_a_tie()]
    allowing(ids)
    stats = dataclasses.replace(population_stats(now=NOW), purchase_clip=clip)
    first_seen, allowed = allowed_visitors(ids)
    weighing = Weighing(
        now=NOW, purchase_clip=clip, weights=event_weights(), half_life=half_life_days(),
        gap=session_gap(),
    )  # fmt: skip
    in_python = {f.visitor_id: f for f in features_rows(allowed, first_seen, stats, weighing)}

    summary = features_chunk_compute(visitor_ids=ids, stats=stats)

    stored = {f.visitor_id: f for f in VisitorFeatures.objects.filter(visitor_id__in=ids)}
    assert summary["computed"] == len(stored) == len(in_python) == len(ids) - len(ids) // 5
    assert in_python[ids[-1]].engagement == 0.7812
    for pk, features in stored.items():
        expected = {name: getattr(in_python[pk], name) for name in FIELDS}
        assert {name: getattr(features, name) for name in FIELDS} == expected, pk


@pytest.mark.django_db
def test_the_database_rounds_to_four_places_exactly_as_python_does():
    rng = random.Random(3)
    halves = [k / 32 for k in range(33)] + [(2 * k + 1) / 20_000 for k in range(10_000)]
    near = [math.nextafter(x, direction) for x in halves[:200] for direction in (0, 1)]
    values = [0.0, 1.0, 0.62345, 0.78125, *halves, *near, *(rng.random() for _ in range(2_000))]

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_round_4('x')} FROM unnest(%s::float8[]) WITH ORDINALITY AS v(x, n) "
            "ORDER BY n",
            [values],
        )
        rounded = [row[0] for row in cursor.fetchall()]

    assert rounded == [round(x, 4) for x in values]


@pytest.mark.django_db
def test_the_database_counts_seconds_of_age_exactly_as_timedelta_does():
    rng = random.Random(5)
    ages = [
        timedelta(microseconds=rng.randint(-(10**12), 60 * 365 * 86_400 * 10**6))
        for _ in range(5_000)
    ]
    moments = [NOW - age for age in [timedelta(0), timedelta(microseconds=1), *ages]]

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_AGE_SECONDS.format(moment='m')} "
            "FROM unnest(%(moments)s::timestamptz[]) WITH ORDINALITY AS v(m, n) ORDER BY n",
            {"now": NOW, "moments": moments},
        )
        seconds = [row[0] for row in cursor.fetchall()]

    assert seconds == [(NOW - moment).total_seconds() for moment in moments]


@pytest.mark.django_db
@pytest.mark.parametrize("step", [1, 2])
def test_the_database_measures_the_population_exactly_as_python_does(step):
    varied_history(random.Random(5))
    clip = Decimal("120.5000")

    in_database = _measures_in_database(now=NOW, clip=clip, step=step)

    assert in_database
    assert sorted(in_database) == sorted(_measures_streamed(now=NOW, clip=clip, step=step))

from datetime import timedelta

import pytest
from django.utils import timezone

from config.schedules import DEFAULT_SCHEDULES
from consent.gdpr.retention import consent_retention_apply
from consent.models import Purpose
from consent.tasks import apply_consent_retention
from personalization.features.models import VisitorFeatures
from personalization.visitors.models import Event, Visitor

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def retention(**days: int | None) -> None:
    for key, value in days.items():
        Purpose.objects.filter(key=key).update(retention_days=value)


def events_aged(visitor: Visitor, *days: float) -> None:
    Event.objects.bulk_create(
        Event(
            event_id=f"{visitor.pk}-{n}",
            visitor=visitor,
            type="view",
            occurred_at=NOW - timedelta(days=age),
        )
        for n, age in enumerate(days)
    )


def event_ages() -> list[int]:
    times = Event.objects.values_list("occurred_at", flat=True)
    return sorted((NOW - at).days for at in times)


def test_events_older_than_the_analytics_retention_are_deleted_and_newer_ones_kept():
    retention(analytics=30)
    events_aged(Visitor.objects.create(), 31, 45, 29, 1)

    deleted = consent_retention_apply(now=NOW)

    assert deleted["personalization.Event"] == 2
    assert event_ages() == [1, 29]


def test_features_older_than_the_personalization_retention_are_deleted():
    retention(personalization=90)
    stale, fresh = Visitor.objects.create(), Visitor.objects.create()
    VisitorFeatures.objects.create(visitor=stale, computed_at=NOW - timedelta(days=91))
    VisitorFeatures.objects.create(visitor=fresh, computed_at=NOW - timedelta(days=89))

    deleted = consent_retention_apply(now=NOW)

    assert deleted["personalization.VisitorFeatures"] == 1
    assert list(VisitorFeatures.objects.values_list("visitor", flat=True)) == [fresh.pk]


def test_a_purpose_without_retention_keeps_its_data():
    retention(analytics=None, personalization=None)
    visitor = Visitor.objects.create()
    events_aged(visitor, 5000)
    VisitorFeatures.objects.create(visitor=visitor, computed_at=NOW - timedelta(days=5000))

    assert consent_retention_apply(now=NOW) == {}
    assert Event.objects.count() == VisitorFeatures.objects.count() == 1


def test_expired_rows_go_batch_after_batch_until_none_is_left():
    retention(analytics=10)
    events_aged(Visitor.objects.create(), 11, 12, 13, 14, 15, 2)

    deleted = consent_retention_apply(now=NOW, batch_size=2)

    assert deleted["personalization.Event"] == 5
    assert event_ages() == [2]


def test_the_periodic_task_applies_the_default_retention_and_is_scheduled():
    events_aged(Visitor.objects.create(), 400, 300)  # analytics keeps 395 days by default

    assert apply_consent_retention.delay().get()["personalization.Event"] == 1
    assert event_ages() == [300]
    assert "tailor.apply_consent_retention" in {s.task for s in DEFAULT_SCHEDULES}

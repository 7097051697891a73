from datetime import timedelta

import pytest
from django.utils import timezone

from personalization.visitors.models import Event
from personalization.visitors.retention import events_delete_expired
from personalization.visitors.tasks import delete_expired_events
from tests.factories.personalization import EventFactory, VisitorFactory
from tests.personalization.test_features import NOW


def events_aged(*days: float) -> list[Event]:
    visitor = VisitorFactory()
    return [EventFactory(visitor=visitor, occurred_at=NOW - timedelta(days=d)) for d in days]


def remaining_ages() -> list[float]:
    return sorted(
        (NOW - at).total_seconds() / 86_400
        for at in Event.objects.values_list("occurred_at", flat=True)
    )


@pytest.mark.django_db
def test_only_events_older_than_the_retention_period_are_deleted(settings):
    settings.EVENT_RETENTION_DAYS = 30
    events_aged(31, 30, 1)

    deleted = events_delete_expired(now=NOW)

    assert deleted == 1
    assert remaining_ages() == [1, 30]


@pytest.mark.django_db
def test_expired_events_are_deleted_batch_after_batch_until_none_is_left(settings):
    settings.EVENT_RETENTION_DAYS = 30
    events_aged(40, 41, 42, 43, 44, 2)

    deleted = events_delete_expired(now=NOW, batch_size=2)

    assert deleted == 5
    assert remaining_ages() == [2]


@pytest.mark.django_db
def test_the_retention_task_deletes_events_past_the_default_period(settings):
    settings.EVENT_RETENTION_DAYS = 395
    visitor = VisitorFactory()
    EventFactory(visitor=visitor, occurred_at=timezone.now() - timedelta(days=400))
    kept = EventFactory(visitor=visitor, occurred_at=timezone.now() - timedelta(days=300))

    assert delete_expired_events.delay().get() == 1
    assert list(Event.objects.all()) == [kept]

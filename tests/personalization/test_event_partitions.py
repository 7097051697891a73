"""On PostgreSQL the events table is partitioned by month: events land in their month, stay
idempotent across months, and retention and erasure reach every partition."""

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from rest_framework.test import APIClient

from config.services import api_key_create
from consent.gdpr.retention import consent_retention_apply
from consent.models import Purpose
from personalization.visitors.models import Event
from personalization.visitors.partitions import (
    event_partitions,
    event_partitions_maintain,
    month_of,
)
from personalization.visitors.retention import events_delete_expired
from personalization.visitors.tasks import maintain_event_partitions
from tests.factories.personalization import EventFactory, VisitorFactory, grant
from tests.personalization.test_event_source_migration import executor, latest, migrate, migration

pytestmark = pytest.mark.django_db

URL = "/api/v1/events"


def at(year: int, month: int, day: int = 15) -> datetime:
    return datetime(year, month, day, 12, tzinfo=UTC)


def rows_by_partition() -> dict[str, list[str]]:
    """Event ids by the partition that holds them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text, event_id FROM personalization_event ORDER BY 2"
        )
        found: dict[str, list[str]] = {}
        for table, event_id in cursor.fetchall():
            found.setdefault(table, []).append(event_id)
    return found


def keys() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT source, event_id FROM personalization_event_key ORDER BY 2")
        return cursor.fetchall()


def exists(table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [table])
        return cursor.fetchone()[0]


def shop() -> APIClient:
    _, secret = api_key_create(name="shop", scopes=["events:write"])
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")


@pytest.fixture
def customer():
    visitor = VisitorFactory(external_id="crm-1")
    grant(visitor, "analytics")
    return visitor


def send(client: APIClient, *events: tuple[str, datetime]) -> dict:
    batch = [
        {"event_id": event_id, "visitor_id": "crm-1", "type": "view", "occurred_at": t.isoformat()}
        for event_id, t in events
    ]
    response = client.post(URL, {"events": batch}, format="json")
    assert response.status_code == 202, response.content
    return response.json()


def test_the_migration_makes_the_events_table_partitioned_by_range_of_occurred_at():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT partstrat, pg_get_partkeydef('personalization_event'::regclass) "
            "FROM pg_partitioned_table WHERE partrelid = 'personalization_event'::regclass"
        )
        assert cursor.fetchone() == ("r", "RANGE (occurred_at)")
    assert exists("personalization_event_default")
    now = month_of(datetime.now(UTC))
    assert now in event_partitions()


def test_events_of_several_months_land_in_the_partitions_of_their_months(customer):
    event_partitions_maintain(now=at(2024, 1))  # January to April 2024

    send(shop(), ("jan", at(2024, 1)), ("feb", at(2024, 2, 29)), ("apr", at(2024, 4, 30)))

    assert rows_by_partition() == {
        "personalization_event_y2024m01": ["jan"],
        "personalization_event_y2024m02": ["feb"],
        "personalization_event_y2024m04": ["apr"],
    }


def test_a_late_event_without_its_month_waits_in_default_and_moves_to_its_month_later(customer):
    send(shop(), ("old", at(2019, 6)))
    assert rows_by_partition() == {"personalization_event_default": ["old"]}
    stored = Event.objects.get(event_id="old")

    created = event_partitions_maintain(now=datetime.now(UTC))

    assert "personalization_event_y2019m06" in created
    assert rows_by_partition() == {"personalization_event_y2019m06": ["old"]}
    moved = Event.objects.get(event_id="old")
    assert (moved.pk, moved.visitor_id, moved.occurred_at) == (
        stored.pk, stored.visitor_id, stored.occurred_at,
    )  # fmt: skip
    assert len(keys()) == 1


def test_the_same_event_sent_twice_is_stored_once(customer):
    client = shop()
    send(client, ("e-1", at(2024, 1)))

    again = send(client, ("e-1", at(2024, 1)))

    assert (again["accepted"], again["duplicates"]) == (0, 1)
    assert Event.objects.filter(event_id="e-1").count() == 1


def test_the_same_event_id_with_a_time_in_another_month_is_still_a_duplicate(customer):
    event_partitions_maintain(now=at(2024, 1))
    client = shop()
    send(client, ("e-1", at(2024, 1)))

    again = send(client, ("e-1", at(2024, 3)))

    assert (again["accepted"], again["duplicates"]) == (0, 1)
    assert rows_by_partition() == {"personalization_event_y2024m01": ["e-1"]}


def test_retention_drops_whole_old_months_and_deletes_rows_of_the_straddling_one(settings):
    settings.EVENT_RETENTION_DAYS = 30
    event_partitions_maintain(now=at(2024, 1))
    visitor = VisitorFactory()
    for event_id, t in [("jan", at(2024, 1)), ("feb", at(2024, 2, 20)), ("mar", at(2024, 3, 10))]:
        EventFactory(visitor=visitor, event_id=event_id, occurred_at=t)
    EventFactory(visitor=visitor, event_id="feb-early", occurred_at=at(2024, 2, 2))

    deleted = events_delete_expired(now=at(2024, 3, 15))  # cutoff: 14 February

    assert deleted == 2
    assert not exists("personalization_event_y2024m01")
    assert exists("personalization_event_y2024m02") and exists("personalization_event_y2024m03")
    assert rows_by_partition() == {
        "personalization_event_y2024m02": ["feb"],
        "personalization_event_y2024m03": ["mar"],
    }
    assert [event_id for _, event_id in keys()] == ["feb", "mar"]


def test_consent_retention_of_analytics_drops_old_months_too():
    Purpose.objects.filter(key="analytics").update(retention_days=30)
    event_partitions_maintain(now=at(2024, 1))
    visitor = VisitorFactory()
    EventFactory(visitor=visitor, event_id="jan", occurred_at=at(2024, 1))
    EventFactory(visitor=visitor, event_id="mar", occurred_at=at(2024, 3, 10))

    deleted = consent_retention_apply(now=at(2024, 3, 15))

    assert deleted["personalization.Event"] == 1
    assert not exists("personalization_event_y2024m01")
    assert list(Event.objects.values_list("event_id", flat=True)) == ["mar"]


def test_erasure_deletes_the_subjects_events_from_every_partition_and_their_keys():
    event_partitions_maintain(now=at(2024, 1))
    subject, other = VisitorFactory(external_id="alice-crm"), VisitorFactory()
    for n, t in enumerate([at(2024, 1), at(2024, 2), at(2024, 4), at(2018, 1)]):
        EventFactory(visitor=subject, event_id=f"alice-{n}", occurred_at=t)
    EventFactory(visitor=other, event_id="other", occurred_at=at(2024, 2))

    call_command("erase_subject", "alice-crm", "--yes")

    assert rows_by_partition() == {"personalization_event_y2024m02": ["other"]}
    assert [event_id for _, event_id in keys()] == ["other"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_partition_task_on_a_real_worker_gives_a_late_event_a_month_of_its_own(
    tasks_on_worker,
):
    visitor = VisitorFactory()
    EventFactory(visitor=visitor, event_id="late", occurred_at=at(2011, 3))
    try:
        created = maintain_event_partitions.delay().get(timeout=60)

        assert "personalization_event_y2011m03" in created
        assert rows_by_partition() == {"personalization_event_y2011m03": ["late"]}
        assert month_of(datetime.now(UTC)) in event_partitions()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS personalization_event_y2011m03")


def test_a_stored_events_key_cannot_be_changed():
    EventFactory(event_id="e-1", occurred_at=at(2024, 1))

    with pytest.raises(IntegrityError, match="do not change"), transaction.atomic():
        Event.objects.filter(event_id="e-1").update(event_id="e-2")


@pytest.mark.django_db(transaction=True)
def test_the_migration_reverses_to_a_plain_table_and_back_keeping_every_event():
    EventFactory(event_id="e-1", occurred_at=at(2024, 1))
    EventFactory(event_id="e-2", occurred_at=at(2026, 1))
    partitioning = migration("_event_partitions")
    before = list(executor().loader.get_migration(*partitioning).dependencies)

    migrate(before)
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'personalization_event'")
        assert cursor.fetchone() == ("r",)
        assert not exists("personalization_event_key")
    migrate(latest())

    try:
        assert sorted(Event.objects.values_list("event_id", flat=True)) == ["e-1", "e-2"]
        assert [event_id for _, event_id in keys()] == ["e-1", "e-2"]
        assert month_of(at(2024, 1)) in event_partitions()
    finally:  # the months of these events stay out of the other tests
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE personalization_event_y2024m01")
            cursor.execute("DROP TABLE IF EXISTS personalization_event_y2026m01")

"""The compute_features task and command: in process, queued, and on a real worker."""

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from consent.models import Purpose
from consent.services import consent_record
from personalization.features.models import VisitorFeatures
from personalization.features.tasks import compute_features
from personalization.visitors.models import Visitor
from tests.factories.personalization import EventFactory, VisitorFactory


def visitors_with_events(consenting: int, refusing: int = 0) -> list[Visitor]:
    """Visitors with 1, 2, 3, … events; the first `consenting` allow personalization."""
    visitors = []
    for n in range(consenting + refusing):
        visitor = VisitorFactory()
        consent_record(
            visitor=visitor,
            choices={"analytics": True, "personalization": n < consenting},
            source="admin",
        )
        for hours in range(n + 1):
            EventFactory(visitor=visitor, occurred_at=timezone.now() - timedelta(hours=hours))
        visitors.append(visitor)
    return visitors


def event_counts() -> dict[int, int]:
    return dict(VisitorFeatures.objects.values_list("visitor_id", "event_count"))


@pytest.mark.django_db
def test_the_task_run_in_process_computes_every_chunk_and_reports_skipped_visitors():
    visitors = visitors_with_events(consenting=3, refusing=1)

    summary = compute_features.delay(chunk_size=2).get()

    assert (summary["computed"], summary["skipped_consent"], summary["chunks"]) == (3, 1, 2)
    assert event_counts() == {visitors[0].pk: 1, visitors[1].pk: 2, visitors[2].pk: 3}


@pytest.mark.django_db
def test_the_command_computes_features_and_prints_a_summary():
    visitors_with_events(consenting=2, refusing=1)
    out = StringIO()

    call_command("compute_features", "--chunk-size", "2", stdout=out, stderr=StringIO())

    assert "2 visitors computed, 1 skipped for consent" in out.getvalue()
    assert VisitorFeatures.objects.count() == 2


@pytest.mark.django_db
def test_the_command_with_async_and_no_broker_runs_the_task_in_process():
    visitors_with_events(consenting=1)
    out = StringIO()

    call_command("compute_features", "--async", stdout=out, stderr=StringIO())

    assert "1 visitors computed" in out.getvalue()
    assert VisitorFeatures.objects.count() == 1


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_compute_features_on_a_real_worker_fills_in_every_visitors_features(tasks_on_worker):
    for key in ("analytics", "personalization"):  # an earlier transactional test may flush them
        Purpose.objects.get_or_create(key=key, defaults={"name": key, "description": key})
    visitors = visitors_with_events(consenting=3, refusing=1)

    dispatched = compute_features.delay(chunk_size=2).get(timeout=60)

    assert dispatched["chunks"] == 2
    deadline = time.monotonic() + 60
    while VisitorFeatures.objects.count() < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert event_counts() == {visitors[0].pk: 1, visitors[1].pk: 2, visitors[2].pk: 3}

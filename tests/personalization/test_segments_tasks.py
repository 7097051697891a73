"""The compute_segments task on a real Celery worker: chunks, then today's sizes."""

import time

import pytest
from django.utils import timezone

from consent.models import Purpose
from consent.services import consent_record
from personalization.features.models import VisitorFeatures
from personalization.segments.models import Segment, SegmentMembership, SegmentSizeSnapshot
from personalization.segments.selectors import segments_cache_clear
from personalization.segments.tasks import compute_segments
from tests.factories.personalization import SegmentFactory, VisitorFactory


def wait_for(check, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.2)
    return check()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_compute_segments_on_a_real_worker_fills_memberships_and_sizes(tasks_on_worker):
    segments_cache_clear()
    for key in ("analytics", "personalization"):  # an earlier transactional test may flush them
        Purpose.objects.get_or_create(key=key, defaults={"name": key, "description": key})
    SegmentFactory(key="active", condition={"lifecycle": "active"})
    visitors = []
    for n in range(5):
        visitor = VisitorFactory()
        consent_record(visitor=visitor, choices={"personalization": n < 4}, source="admin")
        VisitorFeatures.objects.create(
            visitor=visitor, computed_at=timezone.now(), lifecycle="active"
        )
        visitors.append(visitor)

    dispatched = compute_segments.delay(chunk_size=2).get(timeout=60)

    assert (dispatched["chunks"], dispatched["visitors"]) == (3, 5)
    assert wait_for(lambda: SegmentSizeSnapshot.objects.filter(segment__key="active").exists())
    members = set(SegmentMembership.objects.values_list("visitor_id", flat=True))
    assert members == {v.pk for v in visitors[:4]}
    assert SegmentSizeSnapshot.objects.get(segment__key="active").size == 4
    assert Segment.objects.get(key="active").estimated_size == 4

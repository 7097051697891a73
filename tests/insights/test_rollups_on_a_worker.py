"""The periodic rollup task runs on a real worker and leaves nothing to do when run again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from insights.models import DeliveryRollup
from insights.tasks import compute_insights
from personalization.visitors.models import Impression
from tests.factories import ContentItemFactory, VisitorFactory


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_compute_insights_on_a_worker_writes_the_days_then_has_nothing_left(tasks_on_worker):
    item, now = ContentItemFactory(), timezone.now()
    for days in (0, 1, 2):
        Impression.objects.create(visitor=VisitorFactory(), item=item, slot="home-hero",
                                  shown_at=now - timedelta(days=days, minutes=5))  # fmt: skip

    first = compute_insights.delay().get(timeout=60)
    second = compute_insights.delay().get(timeout=60)

    assert first["days"] >= 3 and first["cells"] > 0
    assert second == {"days": 0, "hours": 0, "cells": 0}
    days = DeliveryRollup.objects.filter(granularity="day", slot="home-hero")
    assert sorted(days.values_list("impressions", flat=True)) == [1, 1, 1]

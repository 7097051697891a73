"""Frequency caps counted ahead for many visitors (`caps_prefetch`), as an email batch does."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from personalization.decisions.caps import capped_items, caps_prefetch
from personalization.visitors.models import Impression
from tests.factories import ContentItemFactory, VisitorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sale():
    return ContentItemFactory(title="Spring sale")


def shown(visitor, item, *, days_ago: float, times: int, counts_for_cap: bool = True) -> None:
    at = timezone.now() - timedelta(days=days_ago)
    for _ in range(times):
        Impression.objects.create(
            visitor=visitor, item=item, slot="offer", shown_at=at, counts_for_cap=counts_for_cap
        )


def test_prefetched_counts_answer_without_a_query(sale):
    visitors = [VisitorFactory() for _ in range(3)]
    shown(visitors[0], sale, days_ago=1, times=2)
    now = timezone.now()
    caps_prefetch(visitors, [7], now)

    with CaptureQueriesContext(connection) as queries:
        capped = [capped_items(v, [sale.pk], cap=2, days=7, now=now) for v in visitors]

    assert (capped, len(queries)) == ([{sale.pk}, set(), set()], 0)


def test_prefetched_counts_leave_out_impressions_that_do_not_count_for_caps(sale):
    visitor = VisitorFactory()
    shown(visitor, sale, days_ago=1, times=2, counts_for_cap=False)
    now = timezone.now()
    caps_prefetch([visitor], [7], now)

    assert capped_items(visitor, [sale.pk], cap=2, days=7, now=now) == set()


def test_counts_prefetched_for_one_moment_are_not_used_for_another(sale):
    visitor = VisitorFactory()
    shown(visitor, sale, days_ago=1, times=2)
    now = timezone.now()
    caps_prefetch([visitor], [7], now)

    later = now + timedelta(days=7)  # the impressions are out of the week by then

    assert capped_items(visitor, [sale.pk], cap=2, days=7, now=later) == set()


def test_a_window_that_was_not_prefetched_is_counted_from_the_database(sale):
    visitor = VisitorFactory()
    shown(visitor, sale, days_ago=3, times=2)
    now = timezone.now()
    caps_prefetch([visitor], [1], now)

    assert capped_items(visitor, [sale.pk], cap=2, days=7, now=now) == {sale.pk}

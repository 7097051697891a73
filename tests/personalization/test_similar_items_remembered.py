"""Similar items are remembered per process, and never past the moment what is live changes."""

from datetime import timedelta

import pytest
from django.utils import timezone

from personalization.recommendations.related import similar_items
from tests.factories import ContentItemFactory, TagFactory

pytestmark = pytest.mark.django_db


def titles(scored) -> list[str]:
    return [s.item.title for s in scored]


def test_an_item_whose_window_opens_later_joins_the_remembered_similar_items_once_open():
    now = timezone.now()
    tents = TagFactory(name="Tents", slug="tents")
    anchor = ContentItemFactory(title="Dome tent", tags=[tents])
    ContentItemFactory(title="Tunnel tent", tags=[tents])
    ContentItemFactory(title="Winter tent", tags=[tents], publish_at=now + timedelta(hours=1))

    before = titles(similar_items(item=anchor, k=4, now=now))
    after = titles(similar_items(item=anchor, k=4, now=now + timedelta(hours=2)))

    assert "Winter tent" not in before
    assert {"Winter tent", "Tunnel tent"} <= set(after)


def test_remembered_similar_items_answer_again_without_a_query(django_assert_num_queries):
    now = timezone.now()
    tents = TagFactory(name="Tents", slug="tents")
    anchor = ContentItemFactory(title="Dome tent", tags=[tents])
    ContentItemFactory(title="Tunnel tent", tags=[tents])
    first = titles(similar_items(item=anchor, k=4, now=now))

    with django_assert_num_queries(0):
        again = titles(similar_items(item=anchor, k=4, now=now + timedelta(minutes=5)))

    assert again == first

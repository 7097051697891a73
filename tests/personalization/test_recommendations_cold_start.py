"""The cold-start ranking: one ranking for a visitor with no stored list and no affinities."""

import pytest

from personalization.recommendations.models import ModelRun
from personalization.recommendations.selectors import cold_start_ranks, visitor_cold_start_ranks
from tests.factories.personalization import SegmentFactory, VisitorFactory

POPULAR = {"global": [5, 1, 9], "segments": {"runners": [1, 2], "swimmers": [3, 2]}}


def test_segments_popular_items_come_first_in_the_order_given_then_the_most_popular():
    ranks = cold_start_ranks(popular=POPULAR, segment_keys=["swimmers", "runners"])

    assert list(ranks) == [3, 2, 1, 5, 9]
    assert list(ranks.values()) == [1, 2, 3, 4, 5]


def test_without_lists_there_is_no_ranking():
    assert cold_start_ranks(popular=None, segment_keys=["runners"]) == {}


@pytest.mark.django_db
def test_a_visitor_with_a_stored_list_or_affinities_is_no_cold_start(django_assert_num_queries):
    visitor = VisitorFactory()

    with django_assert_num_queries(0):
        assert (
            visitor_cold_start_ranks(visitor=visitor, stored={7: (1, 0.5, "hybrid")}, affinity={})
            == {}
        )
        assert visitor_cold_start_ranks(visitor=visitor, stored={}, affinity={"running": 0.4}) == {}


@pytest.mark.django_db
def test_a_newcomer_gets_their_active_segments_lists_by_segment_key(django_assert_num_queries):
    ModelRun.objects.create(is_current=True, popular=POPULAR)
    newcomer = VisitorFactory()
    for key in ("swimmers", "runners"):
        SegmentFactory(key=key, kind="static", condition={}).memberships.create(visitor=newcomer)

    with django_assert_num_queries(2):  # asked twice for one request: read once
        first = visitor_cold_start_ranks(visitor=newcomer, stored={}, affinity={})
        again = visitor_cold_start_ranks(visitor=newcomer, stored={}, affinity={"running": 0.0})

    assert list(first) == [1, 2, 3, 5, 9] and again == first

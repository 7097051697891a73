"""RFM quintile scores over a small population, with ties and populations under five."""

from datetime import timedelta
from decimal import Decimal

import pytest

from personalization.features.models import VisitorFeatures
from personalization.features.services import features_compute, population_stats
from tests.personalization.test_features import NOW, consenting_visitor, event


def visitor_with_sessions(sessions: int, *, last_days_ago: int = 1, spent: str | None = None):
    """`sessions` one-day-apart visits, the last `last_days_ago` days ago, and maybe a purchase."""
    visitor = consenting_visitor()
    for n in range(sessions):
        event(visitor, timedelta(days=last_days_ago + n))
    if spent is not None:
        event(visitor, timedelta(days=last_days_ago), "purchase", value=Decimal(spent))
    return visitor


def scores(visitors) -> list[str]:
    features_compute(visitor_ids=[v.pk for v in visitors], now=NOW)
    by_visitor = {f.visitor_id: f.rfm for f in VisitorFeatures.objects.all()}
    return [by_visitor[v.pk] for v in visitors]


@pytest.mark.django_db
def test_five_different_visitors_score_one_to_five():
    # Visitor k: k sessions, last seen k days ago, spent 10·k. Edges for 1..5 are
    # 1.8, 2.6, 3.4, 4.2 (and 18, 26, 34, 42 for money); no purchase is above the clip bound 70.
    visitors = [visitor_with_sessions(k, last_days_ago=k, spent=str(10 * k)) for k in range(1, 6)]

    assert scores(visitors) == ["511", "422", "333", "244", "155"]


@pytest.mark.django_db
def test_visitors_with_equal_values_share_a_score():
    visitors = [visitor_with_sessions(1) for _ in range(4)] + [visitor_with_sessions(2)]

    # Sessions 1, 1, 1, 1, 2 give edges 1, 1, 1, 1.2; a value on an edge falls below it.
    # Every visitor was last seen 1 day ago: all recency edges are 1, so r is 5 for all.
    assert scores(visitors) == ["511", "511", "511", "511", "551"]


@pytest.mark.django_db
def test_two_visitors_score_one_and_five():
    visitors = [visitor_with_sessions(1), visitor_with_sessions(3)]

    # Sessions 1 and 3 give edges 1.4, 1.8, 2.2, 2.6.
    assert [s[1] for s in scores(visitors)] == ["1", "5"]


@pytest.mark.django_db
def test_a_lone_visitor_scores_r5_f1_m1():
    visitor = visitor_with_sessions(2, spent="30")

    assert scores([visitor]) == ["511"]


@pytest.mark.django_db
def test_a_chunk_is_scored_against_the_whole_population():
    visitors = [visitor_with_sessions(k, last_days_ago=k) for k in range(1, 6)]
    stats = population_stats(now=NOW)

    features_compute(visitor_ids=[visitors[4].pk], stats=stats)

    assert VisitorFeatures.objects.get(visitor=visitors[4]).rfm == "151"

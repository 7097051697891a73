"""Sessions, recency, monetary value, engagement and favourite kinds, computed by hand.

The helpers at the top are shared by the other `test_features_*` modules.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from consent.services import consent_record
from personalization.features.models import VisitorFeatures
from personalization.features.services import features_compute
from personalization.visitors.models import Event, Visitor
from tests.factories import ContentItemFactory, ContentKindFactory
from tests.factories.personalization import EventFactory, VisitorFactory

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def consenting_visitor(**kwargs) -> Visitor:
    """A visitor first seen a year ago who allows analytics and personalization."""
    kwargs.setdefault("first_seen", NOW - timedelta(days=365))
    visitor = VisitorFactory(**kwargs)
    consent_record(
        visitor=visitor, choices={"analytics": True, "personalization": True}, source="admin"
    )
    return visitor


def event(visitor: Visitor, ago: timedelta, type: str = "view", **kwargs) -> Event:
    return EventFactory(visitor=visitor, occurred_at=NOW - ago, type=type, **kwargs)


def features_of(visitor: Visitor) -> VisitorFeatures:
    features_compute(visitor_ids=[visitor.pk], now=NOW)
    return VisitorFeatures.objects.get(visitor=visitor)


@pytest.mark.django_db
def test_events_less_than_the_session_gap_apart_make_one_session():
    visitor = consenting_visitor()
    event(visitor, timedelta(hours=2))
    event(visitor, timedelta(hours=2) - timedelta(minutes=29))

    assert features_of(visitor).sessions_7d == 1


@pytest.mark.django_db
def test_a_gap_of_exactly_thirty_minutes_starts_a_new_session():
    visitor = consenting_visitor()
    event(visitor, timedelta(hours=2))
    event(visitor, timedelta(hours=1, minutes=30))

    assert features_of(visitor).sessions_7d == 2


@pytest.mark.django_db
def test_a_session_counts_in_the_window_where_it_started():
    visitor = consenting_visitor()
    event(visitor, timedelta(days=7, minutes=10))
    event(visitor, timedelta(days=7) - timedelta(minutes=10))  # same session, 20 minutes later

    features = features_of(visitor)

    assert (features.sessions_7d, features.sessions_30d, features.sessions_90d) == (0, 1, 1)


@pytest.mark.django_db
def test_recency_is_the_days_since_the_last_event():
    visitor = consenting_visitor()
    event(visitor, timedelta(days=10))
    event(visitor, timedelta(days=2, hours=12))

    features = features_of(visitor)

    assert features.recency_days == 2.5
    assert features.event_count == 2


@pytest.mark.django_db
def test_a_visitor_without_events_gets_the_documented_defaults():
    visitor = consenting_visitor()

    features = features_of(visitor)

    assert features.event_count == 0
    assert features.recency_days is None
    assert features.rfm == "111"
    assert features.monetary_90d == 0
    assert features.engagement == 0
    assert features.lifecycle == VisitorFeatures.Lifecycle.DORMANT
    assert features.tag_affinities == {}
    assert features.favourite_kinds == []


@pytest.mark.django_db
def test_an_outlier_purchase_is_clipped_to_q3_plus_one_and_a_half_iqr():
    visitor = consenting_visitor()
    for days, value in enumerate(["10", "20", "30", "40", "1000"], start=1):
        event(visitor, timedelta(days=days), "purchase", value=Decimal(value))

    # Q1 = 20, Q3 = 40, IQR = 20: the bound is 40 + 30 = 70, so 1000 counts as 70.
    assert features_of(visitor).monetary_90d == Decimal("170.00")


@pytest.mark.django_db
def test_a_purchase_exactly_90_days_ago_is_not_in_monetary_90d():
    visitor = consenting_visitor()
    event(visitor, timedelta(days=90), "purchase", value=Decimal("50"))
    event(visitor, timedelta(days=89), "purchase", value=Decimal("20"))

    assert features_of(visitor).monetary_90d == Decimal("20.00")


@pytest.mark.django_db
def test_engagement_mixes_sessions_event_types_and_recency():
    visitor = consenting_visitor()
    event(visitor, timedelta(days=20))
    event(visitor, timedelta(days=10), "click")
    event(visitor, timedelta(0))

    # 3 sessions: 0.5 · 3/6; 2 types: 0.25 · 2/4; last event now: 0.25 · 1.
    assert features_of(visitor).engagement == 0.625


@pytest.mark.django_db
def test_favourite_kinds_are_the_three_kinds_with_most_decayed_weight(settings):
    settings.TAILOR_AFFINITY_HALF_LIFE_DAYS = 30
    visitor = consenting_visitor()
    product, article, offer, banner = (
        ContentItemFactory(kind=ContentKindFactory(key=key))
        for key in ("product", "article", "offer", "banner")
    )
    for _ in range(3):
        event(visitor, timedelta(0), item=product)  # 3
    event(visitor, timedelta(0), "purchase", item=article, value=Decimal("5"))  # 8
    event(visitor, timedelta(days=30), item=offer)  # 1 · 0.5
    event(visitor, timedelta(days=60), "search", item=banner)  # 0.5 · 0.25

    assert features_of(visitor).favourite_kinds == ["article", "product", "offer"]

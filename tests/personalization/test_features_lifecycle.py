"""Lifecycle stages at the exact 7, 30 and 90-day boundaries, one side per test."""

from datetime import timedelta

import pytest

from personalization.features.models import VisitorFeatures
from tests.personalization.test_features import NOW, consenting_visitor, event, features_of

Stage = VisitorFeatures.Lifecycle
MINUTE = timedelta(minutes=1)


@pytest.mark.django_db
def test_a_visitor_first_seen_just_under_7_days_ago_is_new():
    visitor = consenting_visitor(first_seen=NOW - timedelta(days=7) + MINUTE)
    event(visitor, timedelta(days=1))

    assert features_of(visitor).lifecycle == Stage.NEW


@pytest.mark.django_db
def test_a_visitor_first_seen_exactly_7_days_ago_is_no_longer_new():
    visitor = consenting_visitor(first_seen=NOW - timedelta(days=7))
    event(visitor, timedelta(days=1))

    assert features_of(visitor).lifecycle == Stage.ACTIVE


@pytest.mark.django_db
def test_an_event_older_than_the_profile_counts_as_first_seen():
    visitor = consenting_visitor(first_seen=NOW - timedelta(days=1))  # imported history
    event(visitor, timedelta(days=20))

    assert features_of(visitor).lifecycle == Stage.ACTIVE


@pytest.mark.django_db
def test_three_sessions_in_the_last_7_days_are_engaged():
    visitor = consenting_visitor()
    for days in (1, 3, 5):
        event(visitor, timedelta(days=days))

    assert features_of(visitor).lifecycle == Stage.ENGAGED


@pytest.mark.django_db
def test_two_sessions_in_the_last_7_days_are_only_active():
    visitor = consenting_visitor()
    for days in (1, 3):
        event(visitor, timedelta(days=days))
    event(visitor, timedelta(days=7))  # exactly 7 days ago: outside the window

    assert features_of(visitor).lifecycle == Stage.ACTIVE


@pytest.mark.django_db
def test_a_last_visit_just_under_30_days_ago_is_active():
    visitor = consenting_visitor()
    event(visitor, timedelta(days=30) - MINUTE)

    assert features_of(visitor).lifecycle == Stage.ACTIVE


@pytest.mark.django_db
def test_a_last_visit_exactly_30_days_ago_is_at_risk():
    visitor = consenting_visitor()
    event(visitor, timedelta(days=30))

    assert features_of(visitor).lifecycle == Stage.AT_RISK


@pytest.mark.django_db
def test_a_last_visit_just_under_90_days_ago_is_at_risk():
    visitor = consenting_visitor()
    event(visitor, timedelta(days=90) - MINUTE)

    assert features_of(visitor).lifecycle == Stage.AT_RISK


@pytest.mark.django_db
def test_a_last_visit_exactly_90_days_ago_is_dormant():
    visitor = consenting_visitor()
    event(visitor, timedelta(days=90))

    assert features_of(visitor).lifecycle == Stage.DORMANT

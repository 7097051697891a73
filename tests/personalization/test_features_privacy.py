"""Consent and merged profiles: who gets features, and whose events count."""

from datetime import timedelta

import pytest

from consent.services import consent_record
from personalization.features.models import VisitorFeatures
from personalization.features.services import features_compute
from personalization.visitors.services import visitor_merge
from tests.factories.personalization import VisitorFactory
from tests.personalization.test_features import NOW, consenting_visitor, event


@pytest.mark.django_db
def test_a_visitor_without_personalization_consent_gets_no_features():
    visitor = VisitorFactory()
    consent_record(
        visitor=visitor, choices={"analytics": True, "personalization": False}, source="admin"
    )
    event(visitor, timedelta(days=1))

    computed = features_compute(visitor_ids=[visitor.pk], now=NOW)

    assert computed == 0
    assert not VisitorFeatures.objects.filter(visitor=visitor).exists()


@pytest.mark.django_db
def test_features_computed_before_are_removed_without_personalization_consent():
    visitor = VisitorFactory()  # opt-in: no record means no consent
    VisitorFeatures.objects.create(visitor=visitor, computed_at=NOW, event_count=12)

    features_compute(visitor_ids=[visitor.pk], now=NOW)

    assert not VisitorFeatures.objects.filter(visitor=visitor).exists()


@pytest.mark.django_db
def test_a_merged_profile_counts_the_events_moved_into_it():
    anonymous, known = consenting_visitor(), consenting_visitor()
    event(anonymous, timedelta(days=2))
    event(anonymous, timedelta(days=1))
    event(known, timedelta(hours=1))
    visitor_merge(source=anonymous, target=known)

    computed = features_compute(visitor_ids=[anonymous.pk, known.pk], now=NOW)

    assert computed == 1
    assert VisitorFeatures.objects.get(visitor=known).event_count == 3
    assert not VisitorFeatures.objects.filter(visitor=anonymous).exists()

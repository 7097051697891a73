"""Withdrawing consent deletes the data kept only for the purposes withdrawn."""

import pytest

from consent.services import consent_record
from personalization.features.models import VisitorFeatures
from personalization.recommendations.models import Recommendation
from personalization.visitors.models import Event, Impression, Visitor
from tests.consent.test_export import seed_subject

pytestmark = pytest.mark.django_db


def withdraw(visitor: Visitor, capture, **choices: bool) -> None:
    with capture(execute=True):
        consent_record(visitor=visitor, choices=choices, source="banner")


def test_withdrawing_personalization_deletes_features_lists_and_impressions_but_keeps_events(
    django_capture_on_commit_callbacks,
):
    seeded = seed_subject("ada")
    visitor = seeded.visitor
    consent_record(visitor=visitor, choices={"analytics": True}, source="banner")

    withdraw(visitor, django_capture_on_commit_callbacks, personalization=False)

    assert not VisitorFeatures.objects.filter(visitor=visitor).exists()
    assert not Recommendation.objects.filter(visitor=visitor).exists()
    assert not Impression.objects.filter(visitor=visitor).exists()
    assert Event.objects.filter(visitor__in=[visitor, seeded.tombstone]).exists()


def test_withdrawing_analytics_deletes_the_visitors_events_merged_profiles_included(
    django_capture_on_commit_callbacks,
):
    seeded = seed_subject("bob")
    other = seed_subject("cyd")

    withdraw(seeded.visitor, django_capture_on_commit_callbacks, analytics=False)

    assert not Event.objects.filter(visitor__in=[seeded.visitor, seeded.tombstone]).exists()
    assert Event.objects.filter(visitor=other.visitor).exists()


def test_granting_consent_deletes_nothing(django_capture_on_commit_callbacks):
    seeded = seed_subject("dee")
    events = Event.objects.count()

    withdraw(seeded.visitor, django_capture_on_commit_callbacks, analytics=True)

    assert Event.objects.count() == events
    assert VisitorFeatures.objects.filter(visitor=seeded.visitor).exists()


def test_withdrawing_marketing_alone_keeps_the_personalization_data(
    django_capture_on_commit_callbacks,
):
    seeded = seed_subject("eve")
    consent_record(visitor=seeded.visitor, choices={"personalization": True}, source="banner")

    withdraw(
        seeded.visitor, django_capture_on_commit_callbacks, marketing=False, personalization=True
    )

    assert VisitorFeatures.objects.filter(visitor=seeded.visitor).exists()

"""Consent finds visitors through the resolver personalization registers, never by importing it."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from consent import registry
from consent.gdpr.subjects import subject_resolve
from consent.gdpr.withdrawal import withdrawn_data_purge
from consent.request import request_consent_record
from tests.factories.personalization import VisitorFactory


@pytest.fixture
def no_resolver(monkeypatch):
    monkeypatch.setattr(registry, "_subject_resolver", None)


@pytest.fixture
def resolver_restored(monkeypatch):
    """Lets a test register its own resolver; personalization's comes back afterwards."""
    monkeypatch.setattr(registry, "_subject_resolver", registry.subject_resolver())


def test_finding_a_subject_without_a_registered_resolver_says_how_to_register_one(no_resolver):
    with pytest.raises(ImproperlyConfigured, match=r"subject_resolver_register\(\)"):
        subject_resolve("alice")


@pytest.mark.django_db
def test_a_banner_choice_without_a_registered_resolver_fails_instead_of_recording_nothing(
    no_resolver,
):
    request = RequestFactory().post("/api/v1/consent")

    with pytest.raises(ImproperlyConfigured, match="no subject resolver"):
        request_consent_record(request=request, choices={"analytics": True})


@pytest.mark.django_db
def test_the_subject_of_an_identifier_is_whoever_the_registered_resolver_names(
    resolver_restored,
):
    visitor = VisitorFactory(external_id="crm-7")
    registry.subject_resolver_register(
        resolve=lambda identifier: visitor if identifier == "customer #7" else None,
        merged_ids=lambda visitor_ids: [],
        for_request=lambda request: visitor,
    )

    subject = subject_resolve("customer #7")

    assert subject is not None
    assert subject.visitor_ids == (visitor.pk,)
    assert subject.identifiers == ("crm-7", str(visitor.uid))
    assert subject_resolve("crm-7") is None


@pytest.mark.django_db
def test_a_subject_includes_profiles_merged_into_merged_profiles():
    survivor = VisitorFactory()
    merged = VisitorFactory(merged_into=survivor)
    merged_earlier = VisitorFactory(merged_into=merged)

    subject = subject_resolve(survivor.external_id)

    assert subject is not None
    assert subject.visitor_ids == (survivor.pk, merged.pk, merged_earlier.pk)


@pytest.mark.django_db
def test_a_merged_profiles_identifier_names_the_subject_of_its_survivor():
    survivor = VisitorFactory()
    merged = VisitorFactory(merged_into=survivor)

    subject = subject_resolve(merged.external_id)

    assert subject is not None
    assert subject.visitor_ids == (survivor.pk, merged.pk)


@pytest.mark.django_db
def test_a_withdrawal_without_a_registered_resolver_fails_clearly(no_resolver):
    visitor = VisitorFactory()

    with pytest.raises(ImproperlyConfigured, match="no subject resolver"):
        withdrawn_data_purge(visitor_id=visitor.pk)

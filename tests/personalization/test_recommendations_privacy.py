"""Recommendations are personal data: exported, and gone when personalization consent goes."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from consent.services import consent_record
from personalization.recommendations.models import Recommendation
from tests.personalization.test_recommendations_compute import shop

pytestmark = pytest.mark.django_db


def test_after_a_withdrawal_the_api_serves_nothing_and_the_next_run_deletes_every_list(
    django_capture_on_commit_callbacks,
):
    from personalization.recommendations.related import recommendations_for

    _, people = shop()
    call_command("compute_recommendations", stdout=StringIO(), stderr=StringIO())
    leaving, staying = people[0], people[1]
    with django_capture_on_commit_callbacks(execute=True):
        consent_record(visitor=leaving, choices={"personalization": False}, source="admin")

    assert recommendations_for(visitor=leaving, k=5)[0] == []
    call_command("compute_recommendations", stdout=StringIO(), stderr=StringIO())

    assert not Recommendation.objects.filter(visitor=leaving).exists()  # in no run at all
    assert Recommendation.objects.filter(visitor=staying).exists()


def test_a_subject_export_lists_the_recommendations_served(tmp_path):
    _, people = shop()
    call_command("compute_recommendations", stdout=StringIO(), stderr=StringIO())
    visitor = people[1]
    out = tmp_path / "export.json"

    call_command("export_subject", visitor.external_id, "--output", str(out), stdout=StringIO())

    text = out.read_text()
    json.loads(text)  # a valid JSON document
    assert "Recommendations served" in text
    stored = set(
        Recommendation.objects.filter(visitor=visitor).values_list("item__external_id", flat=True)
    )
    assert stored and all(external_id in text for external_id in stored)

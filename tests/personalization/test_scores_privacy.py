"""Scores are personal data: exported with the subject, erased with them."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from personalization.scores.models import VisitorScore
from tests.factories.personalization import VisitorFactory
from tests.factories.scores import scores_current

pytestmark = pytest.mark.django_db


def test_a_subject_export_lists_the_visitors_scores(tmp_path):
    visitor = VisitorFactory()
    scores_current({visitor: {"churn": 0.8125, "purchase": 0.0625}})
    out = tmp_path / "export.json"

    call_command("export_subject", visitor.external_id, "--output", str(out), stdout=StringIO())

    text = out.read_text()
    json.loads(text)
    assert "Predicted probabilities" in text
    assert "0.8125" in text and "0.0625" in text


def test_erasing_a_subject_deletes_their_scores_and_keeps_everyone_elses():
    leaving, staying = VisitorFactory(), VisitorFactory()
    scores_current({leaving: {"churn": 0.9}, staying: {"churn": 0.1}})

    call_command("erase_subject", leaving.external_id, "--yes", stdout=StringIO())

    assert not VisitorScore.objects.filter(visitor_id=leaving.pk).exists()
    assert VisitorScore.objects.filter(visitor=staying).exists()

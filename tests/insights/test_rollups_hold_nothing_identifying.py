"""Rollups are aggregates: no visitor in them, and erasing a visitor leaves them as they were."""

import pytest
from django.core.management import call_command
from django.db import models

from insights.models import AudienceRollup, DeliveryRollup, HoldoutRollup
from insights.services import insights_compute
from personalization.visitors.models import Visitor
from tests.insights.test_figures_match_raw_rows import _snapshot

ROLLUPS = (DeliveryRollup, AudienceRollup, HoldoutRollup)


def test_no_rollup_table_has_a_column_that_points_at_a_visitor():
    for model in ROLLUPS:
        for field in model._meta.get_fields():
            assert not isinstance(field, models.ForeignKey | models.UUIDField), field
            assert "visitor_id" not in field.name and "uid" not in field.name, field


@pytest.mark.django_db
def test_erasing_a_visitor_leaves_the_rollups_unchanged(history, holdout_history):
    insights_compute()
    before = _snapshot()
    visitor = Visitor.objects.filter(impressions__isnull=False).order_by("pk").first()

    call_command("erase_subject", str(visitor.uid), "--yes", stdout=None)
    insights_compute()

    assert not Visitor.objects.filter(pk=visitor.pk, impressions__isnull=False).exists()
    assert _snapshot() == before

"""Training reads a bounded sample of visitors; every visitor with history is still scored."""

from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from personalization.recommendations.models import ModelRun, Recommendation
from personalization.recommendations.services import recommendation_training_sample
from tests.personalization.test_recommendations_compute import shop

pytestmark = pytest.mark.django_db


def test_training_reads_at_most_the_configured_visitors_yet_lists_everyone(settings):
    settings.TAILOR_RECOMMENDATION_TRAINING_VISITORS = 8
    _, people = shop(visitors=16)

    call_command("compute_recommendations", stdout=StringIO(), stderr=StringIO())

    run = ModelRun.objects.get(kind=ModelRun.Kind.COMPUTE)
    assert run.parameters["training_visitors"] == 8
    listed = set(Recommendation.objects.filter(run=run).values_list("visitor_id", flat=True))
    assert listed == {visitor.pk for visitor in people}


def test_the_training_sample_is_seeded_sorted_and_skipped_when_everyone_fits():
    ids = np.arange(100, 1100, dtype=np.int64)

    first = recommendation_training_sample(ids, limit=50, seed=3)
    again = recommendation_training_sample(ids, limit=50, seed=3)

    assert first is not None and len(first) == 50 == len(set(first.tolist()))
    assert np.array_equal(first, again) and np.all(np.diff(first) > 0)
    assert set(first.tolist()) <= set(ids.tolist())
    assert recommendation_training_sample(ids, limit=1000, seed=3) is None

"""A merged profile's scores go, and the survivor is scored again on its combined history."""

import pytest
from django.utils import timezone

from personalization.scores.models import VisitorScore
from personalization.scores.services import scores_compute_all
from personalization.scores.synthetic import synthetic_generate
from personalization.visitors.services import visitor_merge
from tests.factories import VisitorFactory, grant
from tests.factories.scores import population_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def scored():
    """400 synthetic consenting visitors with histories, scored by a current run."""
    visitors, _ = population_store(synthetic_generate(visitors=400, seed=5), now=timezone.now())
    scores_compute_all(chunk_size=200)
    return visitors


def probabilities(visitor) -> dict[str, float]:
    return dict(VisitorScore.objects.filter(visitor=visitor).values_list("target", "probability"))


def test_a_merge_moves_the_scores_to_the_survivor_scored_on_the_history_it_received(
    scored, django_capture_on_commit_callbacks
):
    anonymous, account = scored[0], VisitorFactory()
    grant(account, "personalization")
    before = probabilities(anonymous)

    with django_capture_on_commit_callbacks(execute=True):
        visitor_merge(source=anonymous, target=account)

    assert set(before) == {"churn", "purchase"}
    assert probabilities(account) == pytest.approx(before)
    assert probabilities(anonymous) == {}

from datetime import timedelta

import pytest
from django.utils import timezone

from experiments.bandits import bandit_update, thompson_weights
from experiments.models import AllocationSnapshot, Exposure, Variation
from experiments.tasks import update_bandits
from tests.factories import EventFactory, VisitorFactory
from tests.factories.experiments import ExperimentFactory


def test_a_clearly_better_arm_gets_most_of_the_traffic_and_the_others_their_minimum():
    weights, best = thompson_weights([10, 40, 12], [200, 200, 200], min_share=0.1)

    assert sum(weights) == pytest.approx(1.0)
    assert weights[1] == pytest.approx(0.8, abs=0.01)
    assert min(weights) >= 0.1
    assert best[1] > 0.99


def test_arms_that_look_alike_share_the_traffic_evenly():
    weights, _ = thompson_weights([20, 20], [200, 200], min_share=0.1)

    assert weights == pytest.approx([0.5, 0.5], abs=0.02)


def test_an_impossible_minimum_share_is_refused():
    with pytest.raises(ValueError, match="impossible"):
        thompson_weights([1, 2, 3], [10, 10, 10], min_share=0.4)


def bandit_with_results(converting: dict[str, int], visitors: int = 100):
    experiment = ExperimentFactory(
        key="hero-bandit", is_bandit=True, bandit_min_share=0.1, status="running",
        start_at=timezone.now() - timedelta(days=2),
    )  # fmt: skip
    for variation in experiment.variations.all():
        for n in range(visitors):
            exposure = Exposure.objects.create(
                visitor=VisitorFactory(), experiment=experiment, variation=variation,
                exposed_at=timezone.now() - timedelta(days=1),
            )  # fmt: skip
            if n < converting[variation.key]:
                EventFactory(
                    visitor=exposure.visitor, type="purchase",
                    occurred_at=exposure.exposed_at + timedelta(hours=2),
                )  # fmt: skip
    return experiment


@pytest.mark.django_db
def test_an_update_moves_the_weights_to_the_better_variation_and_keeps_a_snapshot():
    experiment = bandit_with_results({"control": 5, "treatment": 25})

    snapshot = bandit_update(experiment=experiment)

    weights = dict(experiment.variations.values_list("key", "weight"))
    assert weights["treatment"] > 0.85 and weights["control"] >= 0.1
    assert snapshot.weights == pytest.approx(weights)


@pytest.mark.django_db
def test_an_experiment_that_is_not_a_bandit_keeps_its_weights():
    experiment = ExperimentFactory(status="running")

    assert bandit_update(experiment=experiment) is None
    assert set(experiment.variations.values_list("weight", flat=True)) == {0.5}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_periodic_task_updates_running_bandits_on_a_worker(tasks_on_worker):
    bandit_with_results({"control": 2, "treatment": 12}, visitors=40)

    result = update_bandits.delay().get(timeout=60)

    assert result == {"updated": 1, "failed": 0}
    assert Variation.objects.get(key="treatment").weight > 0.5
    assert AllocationSnapshot.objects.count() == 1

"""Experiments on a slot, and visitors known to land in a given variation."""

import pytest

from experiments import bucketing
from experiments.models import Experiment
from personalization.visitors.models import Visitor
from tests.factories import ContentItemFactory, SlotFactory, VisitorFactory, grant
from tests.factories.experiments import ExperimentFactory


def visitor_in(experiment: Experiment, variation_key: str, *purposes: str) -> Visitor:
    """A new visitor (with consent to `purposes`, personalization by default) that GrowthBook's
    hashing puts in `variation_key`."""
    variations = list(experiment.variations.order_by("position"))
    wanted = next(v.position for v in variations if v.key == variation_key)
    for _ in range(200):
        visitor = VisitorFactory()
        result = bucketing.assign(
            key=experiment.key, hash_value=str(visitor.uid), num_variations=len(variations),
            seed=experiment.seed or experiment.key, hash_version=experiment.hash_version,
            coverage=experiment.coverage, weights=[v.weight for v in variations],
        )  # fmt: skip
        if result.variation == wanted:
            grant(visitor, *(purposes or ("analytics", "personalization")))
            return visitor
        visitor.delete()
    raise AssertionError(f"no visitor lands in {variation_key}")


@pytest.fixture
def hero_test(db) -> Experiment:
    """A running test on the home page hero: the default banner vs a spring sale banner."""
    slot = SlotFactory(key="homepage-hero", default_items=[ContentItemFactory(title="Everyday")])
    experiment = ExperimentFactory(key="hero-test", slot=slot, status="running")
    treatment = experiment.variations.get(key="treatment")
    treatment.items.set([ContentItemFactory(title="Spring sale")])
    return experiment

"""The demo experiment for `seed_demo`: which title of the home page's recommended rail works.

`home-rail-title` runs on no slot: the home page asks `{% experiment "home-rail-title" %}` and
shows "Recommended for you" (control) or "Picked for you" (treatment). Demo visitors who allow
personalization get their real variation and an exposure a day before their last visit, so the
results page has figures at once: conversions are their own add-to-cart events in the 72 hours
after it. Idempotent: an existing experiment is left as an editor may have changed it.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from consent.purposes import PERSONALIZATION
from consent.selectors import consent_states
from content.registry import DemoOptions
from experiments.assignment import experiment_definition, hash_assign
from experiments.models import Experiment, Exposure, Metric, Variation
from experiments.services import experiment_start
from personalization.visitors.models import Visitor

KEY = "home-rail-title"


@transaction.atomic
def seed_experiment(*, now: datetime | None = None) -> bool:
    """Create and start the demo experiment and its exposures; False when it exists already."""
    if Experiment.objects.filter(key=KEY).exists():
        return False
    now = now or timezone.now()
    experiment = Experiment.objects.create(
        key=KEY, name="Home rail title",
        hypothesis="A warmer title ('Picked for you') makes visitors add more to their cart.",
        start_at=now - timedelta(days=90), baseline_rate=0.3, minimum_effect=0.1,
    )  # fmt: skip
    Variation.objects.bulk_create(
        [
            Variation(
                experiment=experiment,
                position=0,
                key="recommended",
                name="Recommended for you",
                is_control=True,
                weight=0.5,
            ),
            Variation(
                experiment=experiment, position=1, key="picked", name="Picked for you", weight=0.5
            ),
        ]
    )
    Metric.objects.create(
        experiment=experiment, kind=Metric.Kind.CONVERSION, event_type="add_to_cart",
        window_hours=72, is_primary=True,
    )  # fmt: skip
    experiment_start(experiment=experiment, now=now)
    definition = experiment_definition(experiment)
    visitors = list(Visitor.objects.filter(external_id__startswith="demo-", merged_into=None))
    states = consent_states([v.pk for v in visitors])
    exposures = []
    for visitor in visitors:
        if not states[visitor.pk].get(PERSONALIZATION):
            continue
        variation = hash_assign(definition, str(visitor.uid))
        if variation is not None:
            exposures.append(
                Exposure(
                    visitor=visitor, experiment=experiment, variation_id=variation.id,
                    exposed_at=max(visitor.first_seen, visitor.last_seen - timedelta(days=1)),
                )
            )  # fmt: skip
    Exposure.objects.bulk_create(exposures, ignore_conflicts=True)
    return True


def experiment_demo_seed(options: DemoOptions) -> None:
    """`seed_demo`'s experiment, once the demo visitors exist: their exposures are its results."""
    if seed_experiment():
        options.write(f"demo experiment: {KEY} (running)")

"""What an experiment costs: assignment per call, and a page's requests per second.

1. Microseconds per assignment: GrowthBook's bucketing alone (`experiments.bucketing.assign`),
   then `variation_assign` (targeting condition, sticky exposure lookup in the per-request
   memo, bucketing), then `decide()` for a slot with a running experiment beside the same slot
   without one. The ratios are what the experiment adds to a decision.
2. Requests per second of the home page under gunicorn (the pattern of `bench_home`) for a
   visitor with consent, in alternating rounds: no experiment running, then a running
   experiment on the home page hero (assignment, the visitor's exposures read once per
   request, the exposure written once). The ratio with / without is the page cost.
"""

import time

import bench_home
from django.db import connection
from support import best_of, gunicorn, measure, test_database

from content.models import ContentItem, Slot
from experiments import bucketing
from experiments.assignment import running_experiments, variation_assign, visitor_exposures
from experiments.cache import experiments_version_bump
from experiments.models import Experiment, Exposure, Metric, Variation
from personalization.decisions.attributes import visitor_attributes
from personalization.decisions.engine import decide
from personalization.visitors.models import Visitor

ROUNDS = 3
CALLS = 20000


def seed() -> tuple[Visitor, str]:
    cookie = bench_home.seed()  # the catalogue, a consenting visitor with features, the cookies
    visitor = Visitor.objects.get(external_id="bench-fan")
    slot = Slot.objects.get(key="homepage-hero")
    experiment = Experiment.objects.create(
        key="hero-test", name="Hero test", slot=slot, status=Experiment.Status.PAUSED,
        condition={"device": {"$ne": "bot"}},
    )  # fmt: skip
    Variation.objects.create(experiment=experiment, position=0, key="control", is_control=True)
    sale = Variation.objects.create(experiment=experiment, position=1, key="sale")
    sale.items.set(ContentItem.objects.filter(status="published").order_by("pk")[:1])
    Metric.objects.create(experiment=experiment, is_primary=True)
    # A second slot without an experiment, the same as the hero otherwise.
    plain = Slot.objects.create(key="plain-hero", name="Plain hero", max_items=slot.max_items)
    plain.default_items.set(slot.default_items.all())
    return visitor, cookie


def set_running(running: bool) -> None:
    status = Experiment.Status.RUNNING if running else Experiment.Status.PAUSED
    Experiment.objects.filter(key="hero-test").update(status=status)
    experiments_version_bump()
    time.sleep(1.5)  # every gunicorn worker looks at the shared version at most once a second


def micro(visitor: Visitor) -> list[tuple[str, float]]:
    set_running(True)
    definition = running_experiments().by_key["hero-test"]
    attributes = visitor_attributes(visitor, {"device": "desktop"})
    visitor_exposures(visitor)  # the per-request memo, read once as a page does
    uid = str(visitor.uid)

    def raw():
        bucketing.assign(key="hero-test", hash_value=uid, num_variations=2)

    def assign():
        variation_assign(experiment=definition, visitor=visitor, attributes=attributes)

    def with_experiment():
        decide("homepage-hero", visitor, attributes=attributes)

    def without_experiment():
        decide("plain-hero", visitor, attributes=attributes)

    with_experiment(), without_experiment()  # load the caches
    return [
        (name, best_of(fn, repeat=5, number=CALLS) * 1e6)
        for name, fn in (
            ("bucketing.assign (GrowthBook hash + ranges)", raw),
            ("variation_assign (targeting, sticky, hash)", assign),
            ("decide(): slot without an experiment", without_experiment),
            ("decide(): slot with a running experiment", with_experiment),
        )
    ]


def pages(cookie: str) -> tuple[float, float]:
    without, with_ = [], []
    with gunicorn() as port:
        for round_number in range(ROUNDS + 1):
            set_running(False)
            rate = measure(port, cookie)
            set_running(True)
            rate_with = measure(port, cookie)
            if round_number:  # the first round warms both paths' caches
                without.append(rate)
                with_.append(rate_with)
    return max(without), max(with_)


def main() -> None:
    with test_database():
        if connection.vendor != "postgresql":
            raise SystemExit("bench_experiments needs PostgreSQL: run it with `make bench`")
        visitor, cookie = seed()
        figures = micro(visitor)
        without, with_ = pages(cookie)
        # The visitor was on the hero page thousands of times: exposed exactly once.
        exposures = Exposure.objects.filter(visitor=visitor).count()
        variation = decide("homepage-hero", visitor).variation
    base = figures[0][1]
    print(f"assignment, best of 5 runs of {CALLS} calls")
    print(f"{'call':<48}{'µs/call':>10}{'ratio':>8}")
    for name, micros in figures:
        print(f"{name:<48}{micros:>10.2f}{micros / base:>8.2f}")
    print(f"decide() with / without an experiment: {figures[3][1] / figures[2][1]:.2f}")
    print()
    print(f"home page under gunicorn (2 workers), 4 keep-alive clients, best of {ROUNDS}")
    print(f"{'page':<48}{'requests/s':>12}{'ratio':>8}")
    print(f"{'personalized, no experiment running':<48}{without:>12.1f}{1:>8.2f}")
    print(f"{'personalized, experiment on the hero slot':<48}{with_:>12.1f}{with_ / without:>8.2f}")
    print(f"the visitor's variation: {variation}; exposures recorded: {exposures}")


if __name__ == "__main__":
    main()

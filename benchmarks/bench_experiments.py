"""What an experiment costs: assignment per call, and a page's requests per second.

1. Microseconds per assignment: GrowthBook's bucketing alone (`experiments.bucketing.assign`),
   then `variation_assign` (targeting condition, sticky exposure lookup in the per-request
   memo, bucketing), then `decide()` for a slot with a running experiment beside the same slot
   without one. The ratios are what the experiment adds to a decision.
2. Requests per second of the home page under gunicorn (the pattern of `bench_home`), each
   request one of `bench_home`'s demo visitors with consent drawn at random, in alternating
   rounds: no experiment running, then a running experiment on the home page hero
   (assignment, the visitor's exposures read once per request, the exposure written once per
   visitor). The ratio with / without is the page cost.
"""

import time

import bench_home
from django.conf import settings
from django.core import signing
from django.db import connection
from django.db.models import Count, Max
from support import best_of, gunicorn, measure, test_database

from content.models import ContentItem, Slot
from experiments import bucketing
from experiments.assignment import running_experiments, variation_assign, visitor_exposures
from experiments.cache import experiments_version_bump
from experiments.models import Experiment, Exposure, Metric, Variation
from personalization.decisions.attributes import visitor_attributes
from personalization.decisions.engine import decide
from personalization.visitors.models import Visitor
from personalization.visitors.selectors import COOKIE_SALT

ROUNDS = 3
CALLS = 20000
bench_home.VISITORS = 600


def seed() -> tuple[Visitor, list[str]]:
    """The experiment, one consenting visitor for the micro-benchmarks, everyone's cookies."""
    cookies = bench_home.seed()  # the catalogue, demo visitors with histories, their cookies
    signer = signing.get_cookie_signer(salt=settings.TAILOR_VISITOR_COOKIE + COOKIE_SALT)
    visitor = Visitor.objects.get(uid=signer.unsign(cookies[0].split(";")[0].split("=", 1)[1]))
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
    return visitor, cookies


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


def pages(cookies: list[str]) -> tuple[float, float]:
    without, with_ = [], []
    with gunicorn() as port:
        for round_number in range(ROUNDS + 1):
            set_running(False)
            rate = measure(port, cookies)
            set_running(True)
            rate_with = measure(port, cookies)
            if round_number:  # the first round warms both paths' caches
                without.append(rate)
                with_.append(rate_with)
    return max(without), max(with_)


def main() -> None:
    with test_database():
        if connection.vendor != "postgresql":
            raise SystemExit("bench_experiments needs PostgreSQL: run it with `make bench`")
        visitor, cookies = seed()
        figures = micro(visitor)
        without, with_ = pages(cookies)
        # Every visitor saw the hero page many times: each was exposed once.
        exposed = Exposure.objects.values("visitor").annotate(n=Count("pk"))
        exposures = exposed.aggregate(visitors=Count("visitor"), most=Max("n"))
        variation = decide("homepage-hero", visitor).variation
    base = figures[0][1]
    print(f"assignment, best of 5 runs of {CALLS} calls")
    print(f"{'call':<48}{'µs/call':>10}{'ratio':>8}")
    for name, micros in figures:
        print(f"{name:<48}{micros:>10.2f}{micros / base:>8.2f}")
    print(f"decide() with / without an experiment: {figures[3][1] / figures[2][1]:.2f}")
    print()
    print(
        f"home page under gunicorn (2 workers), 4 keep-alive clients, each request one of "
        f"{len(cookies):,} visitors drawn at random, best of {ROUNDS}"
    )
    print(f"{'page':<48}{'requests/s':>12}{'ratio':>8}")
    print(f"{'personalized, no experiment running':<48}{without:>12.1f}{1:>8.2f}")
    print(f"{'personalized, experiment on the hero slot':<48}{with_:>12.1f}{with_ / without:>8.2f}")
    print(
        f"the first visitor's variation: {variation}; {exposures['visitors']:,} visitors exposed, "
        f"at most {exposures['most']} exposure each"
    )


if __name__ == "__main__":
    main()

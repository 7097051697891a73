"""Demo visitors `demo-1` … `demo-N` with histories of different shapes, for `seed_demo`.

Every visitor has a taste: one or two favourite subjects of the demo catalogue (running,
audio, …), the second often a natural companion of the first (running and shoes, phones and
audio), so that what a visitor did predicts what they will do next. On top of that come
shapes of life: new visitors with one short visit, regulars with many, big spenders, visitors
who were active a while ago and are now at risk, and browsers who never buy. Item popularity
follows the items' priority, so "most popular" is a real but beatable baseline.

The first visitors are fixed so that the demo and the browser tests can rely on them:

* `demo-1`: a runner on a desktop (sports);      * `demo-2`: an audio lover on a desktop (tech);
* `demo-3`: a hiker (outdoors);                   * `demo-4`: new, one short visit;
* `demo-5`: at risk, nothing for two months;     * `demo-6`: no personalization consent.

Idempotent: a visitor that exists keeps its history. Cost: one bulk insert of visitors, one of
events (about 50 per visitor on average), one of consent records, then features, predictive
scores, segments, clusters (from 40 new visitors) and a recommendation model run.

The shapes carry the signal the churn and purchase scores learn: regulars and big spenders
come back, browsers drift off, at-risk visitors stopped 40 to 80 days ago. The segment
`likely-to-churn` and the win-back rules of the home page hero and the newsletter
(`{"scores.churn": {"$gte": 0.7}}`) follow the scores.
"""

import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from threadpoolctl import threadpool_limits

from consent.purposes import ANALYTICS, MARKETING, PERSONALIZATION
from consent.services import consent_grant_bulk
from content.models import ContentItem
from content.registry import DemoOptions
from personalization.clustering.services import clusters_compute_all
from personalization.features.services import features_compute_all
from personalization.recommendations.algorithms.evaluation import EvaluationError
from personalization.recommendations.services import (
    recommendations_compute_all,
    recommendations_evaluate,
)
from personalization.scores.services import ScoreError, scores_compute_all
from personalization.segments.models import Segment, SegmentMembership, SegmentSizeSnapshot
from personalization.segments.services import segments_compute_all
from personalization.visitors.models import Event, Visitor

DEMO_CLUSTERS_FROM = 40
SIZE_HISTORY_DAYS = 56  # eight weeks of daily segment sizes

COMPANIONS = {
    "running": ["shoes", "football", "cycling"],
    "football": ["running", "shoes"],
    "cycling": ["jackets", "running"],
    "hiking": ["camping", "jackets", "shoes"],
    "camping": ["hiking", "kitchen"],
    "phones": ["audio", "laptops"],
    "laptops": ["audio", "phones"],
    "audio": ["phones", "laptops"],
    "kitchen": ["garden"],
    "garden": ["kitchen", "camping"],
    "shoes": ["jackets", "running"],
    "jackets": ["shoes", "hiking"],
}
SHAPES = ("regular", "regular", "explorer", "big_spender", "new", "at_risk", "browser")
FIXED = {
    1: ("regular", "running", "shoes", "desktop"),
    2: ("regular", "audio", "phones", "desktop"),
    3: ("regular", "hiking", "camping", "desktop"),
    4: ("new", "kitchen", None, "mobile"),
    5: ("at_risk", "cycling", "jackets", "desktop"),
    6: ("regular", "football", "running", "desktop"),
}
NO_PERSONALIZATION = 6  # demo-6, demo-16, …: analytics only
COUNTRIES = [("DE", "de"), ("FR", "fr"), ("NL", "nl"), ("ES", "es"), ("GB", "en"), ("IT", "it")]
AGE_BANDS = ["18-24", "25-34", "35-44", "45-54", "55+"]


@dataclass(frozen=True)
class VisitorsSummary:
    created: int
    events: int
    scores: str = ""


@dataclass(frozen=True)
class _Catalogue:
    by_subject: dict[str, list[ContentItem]]  # products and articles of each subject
    weights: dict[str, list[float]]  # priority-based popularity within the subject


def _catalogue() -> _Catalogue:
    by_subject: dict[str, list[ContentItem]] = {}
    items = (
        ContentItem.objects.filter(kind__key__in=["product", "article"])
        .select_related("kind")
        .prefetch_related("tags")
    )
    for item in items.order_by("pk"):
        for tag in item.tags.all():
            if tag.slug in COMPANIONS:
                by_subject.setdefault(tag.slug, []).append(item)
    weights = {
        subject: [1.0 + item.priority for item in subject_items]
        for subject, subject_items in by_subject.items()
    }
    return _Catalogue(by_subject=by_subject, weights=weights)


def _sessions(shape: str, rng: random.Random, now: datetime) -> list[datetime]:
    """Start times of the visitor's sessions, oldest first."""
    if shape == "new":
        return [now - timedelta(hours=rng.uniform(1, 40))]
    if shape == "at_risk":
        last = now - timedelta(days=rng.uniform(40, 80))
        return sorted(last - timedelta(days=rng.uniform(0, 90)) for _ in range(rng.randint(4, 9)))
    count = {"regular": (5, 14), "explorer": (3, 8), "big_spender": (6, 12), "browser": (2, 6)}
    low, high = count[shape]
    return sorted(
        now - timedelta(days=rng.uniform(0.2, 90), minutes=rng.uniform(0, 600))
        for _ in range(rng.randint(low, high))
    )


def _history(
    number: int, visitor_id: int, rng: random.Random, catalogue: _Catalogue, now: datetime
) -> list[Event]:
    shape, first, second, device = FIXED.get(number) or (
        rng.choice(SHAPES),
        rng.choice(sorted(catalogue.by_subject)),
        None,
        rng.choice(["desktop", "desktop", "mobile", "tablet"]),
    )
    if second is None and shape != "new" and rng.random() < 0.8:
        second = rng.choice(COMPANIONS[first])
    subjects = [first] + ([second] if second else [])
    shares = [0.75, 0.25] if second else [1.0]
    if shape == "explorer":
        subjects += rng.sample(sorted(catalogue.by_subject), 2)
        shares = [0.4, 0.2, 0.2, 0.2][: len(subjects)]
    buys = {"big_spender": 0.35, "regular": 0.12, "browser": 0.0}.get(shape, 0.06)
    events: list[Event] = []
    for session, start in enumerate(_sessions(shape, rng, now)):
        moment = start
        for _ in range(rng.randint(2, 7)):
            subject = rng.choices(subjects, weights=shares)[0]
            item = rng.choices(catalogue.by_subject[subject], catalogue.weights[subject])[0]
            moment += timedelta(minutes=rng.uniform(0.5, 6))
            steps = ["view"]
            if rng.random() < 0.35:
                steps.append("click")
            if item.kind.key == "product" and rng.random() < buys * 2:
                steps.append("add_to_cart")
                if rng.random() < 0.5:
                    steps.append("purchase")
            for step in steps:
                moment += timedelta(seconds=rng.uniform(5, 90))
                price = (item.metadata or {}).get("price")
                events.append(
                    Event(
                        event_id=f"demo-{number}-{len(events) + 1}",
                        visitor_id=visitor_id, type=step, item=item,
                        value=Decimal(str(price)) if step == "purchase" and price else None,
                        context={"device": device, "session": session + 1},
                        occurred_at=moment, received_at=moment,
                    )
                )  # fmt: skip
    return events


DEMO_SEGMENTS = [
    ("big-spenders", "Big spenders", {"monetary_90d": {"$gte": 150}},
     "Visitors who spent 150 or more in the last 90 days."),
    ("runners", "Runners", {"affinity.running": {"$gte": 0.5}},
     "Visitors who care about running."),
    ("mobile-visitors", "Mobile visitors", {"device": "mobile"},
     "Visitors on a phone right now (evaluated live, per request)."),
    ("likely-to-churn", "Likely to churn", {"scores.churn": {"$gte": 0.6}},
     "Visitors the current score run gives a churn risk of 60 % or more (no visit in the "
     "next 30 days)."),
]  # fmt: skip


def seed_segments() -> int:
    """Create the demo segments that do not exist yet; an editor's changes are left alone."""
    created = 0
    for key, name, condition, description in DEMO_SEGMENTS:
        if Segment.objects.filter(key=key).exists():
            continue
        segment = Segment(key=key, name=name, condition=condition, description=description)
        segment.full_clean()
        segment.save()
        created += 1
    return created


@transaction.atomic
def seed_visitors(*, count: int, seed: int = 42, now: datetime | None = None) -> VisitorsSummary:
    """Create the demo visitors `demo-1` … `demo-<count>` that do not exist yet, with histories."""
    now = now or timezone.now()
    seed_segments()
    wanted = [f"demo-{n}" for n in range(1, count + 1)]
    existing = set(
        Visitor.objects.filter(external_id__in=wanted).values_list("external_id", flat=True)
    )
    missing = [n for n in range(1, count + 1) if f"demo-{n}" not in existing]
    catalogue = _catalogue()
    if not missing or not catalogue.by_subject:
        return VisitorsSummary(created=0, events=0)
    rngs = {n: random.Random(f"{seed}:{n}") for n in missing}  # noqa: S311 - demo data
    visitors = Visitor.objects.bulk_create(
        Visitor(
            external_id=f"demo-{n}",
            traits=dict(
                zip(("country", "language"), rngs[n].choice(COUNTRIES), strict=True),
                age_band=rngs[n].choice(AGE_BANDS),
            ),
        )
        for n in missing
    )
    events: list[Event] = []
    for n, visitor in zip(missing, visitors, strict=True):
        history = _history(n, visitor.pk, rngs[n], catalogue, now)
        if history:
            visitor.first_seen = history[0].occurred_at
            visitor.last_seen = history[-1].occurred_at
            visitor.sessions = history[-1].context["session"]
        events += history
    Visitor.objects.bulk_update(visitors, ["first_seen", "last_seen", "sessions"])
    Event.objects.bulk_create(events, batch_size=2000, ignore_conflicts=True)
    by_purposes: dict[tuple[str, ...], list[int]] = {}
    for n, visitor in zip(missing, visitors, strict=True):
        purposes = (ANALYTICS,) if n % 10 == NO_PERSONALIZATION else (
            ANALYTICS, PERSONALIZATION, MARKETING
        )  # fmt: skip
        by_purposes.setdefault(purposes, []).append(visitor.pk)
    for purposes, ids in by_purposes.items():
        consent_grant_bulk(visitor_ids=ids, purposes=list(purposes))
    # The demo's data is small: one thread per model fit is faster than OpenMP's threads,
    # which spin and wait for each other on a busy machine (measured: 22 s against 200 s).
    with threadpool_limits(limits=1):
        features_compute_all(now=now)
        scores = _scores_compute(now)
        segments_compute_all(now=now)
        segment_history_seed(now=now)
        if len(visitors) >= DEMO_CLUSTERS_FROM:  # fewer visitors make no meaningful groups
            clusters_compute_all()
        recommendations_compute_all(now=now)
        _evaluation_compute()
    return VisitorsSummary(created=len(visitors), events=len(events), scores=scores)


def segment_history_seed(*, now: datetime, days: int = SIZE_HISTORY_DAYS) -> int:
    """Daily sizes of the stored segments for the `days` before today, so that the size chart
    has weeks to show: a day's size counts today's members who had arrived by then (the demo
    has no history of its own). Days already recorded are left alone."""
    today = timezone.localdate(now)
    rows = []
    for segment in Segment.objects.filter(is_live=False):
        arrivals = sorted(
            timezone.localdate(first_seen)
            for first_seen in SegmentMembership.objects.filter(segment=segment)
            .exclude(visitor__first_seen__isnull=True)
            .values_list("visitor__first_seen", flat=True)
        )
        for back in range(days, 0, -1):
            day = today - timedelta(days=back)
            rows.append(
                SegmentSizeSnapshot(segment=segment, date=day, size=bisect_right(arrivals, day))
            )
    SegmentSizeSnapshot.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def _evaluation_compute() -> None:
    """An evaluation run beside the served one, so that the model comparison has figures."""
    try:
        recommendations_evaluate()
    except EvaluationError:  # too few visitors with enough history: the page says so
        return


def _scores_compute(now: datetime) -> str:
    """Churn and purchase scores (before segments: `likely-to-churn` reads them)."""
    try:
        summary = scores_compute_all(now=now)
    except ScoreError as exc:  # a handful of visitors leave too little history
        return f"no scores ({exc.message})"
    return f"scores for {summary['visitors']} visitors (ROC AUC {summary['score']})"


def visitors_demo_seed(options: DemoOptions) -> None:
    """`seed_demo`'s visitors, once the demo catalogue exists: their histories refer to it."""
    people = seed_visitors(count=options.visitors, seed=options.seed)
    options.write(
        f"demo visitors: {people.created} new (demo-1 … demo-{options.visitors}), "
        f"{people.events} events" + (f"; {people.scores}" if people.scores else "")
    )

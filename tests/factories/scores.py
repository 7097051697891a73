from datetime import datetime, timedelta
from decimal import Decimal

from django.core.cache import cache
from django.utils import timezone

from consent.models import ConsentRecord, PolicyVersion
from consent.selectors import state_cache_key
from personalization.scores.frame import EVENT_TYPES
from personalization.scores.models import ScoreRun, VisitorScore
from personalization.scores.synthetic import Synthetic
from personalization.visitors.models import Event, Visitor
from tests.factories.personalization import PurposeFactory


def scores_current(probabilities: dict[Visitor, dict[str, float]]) -> ScoreRun:
    """A finished, current score run that gave these visitors these probabilities."""
    ScoreRun.objects.filter(is_current=True).update(is_current=False)
    run = ScoreRun.objects.create(
        status=ScoreRun.Status.FINISHED, is_current=True, targets=["churn", "purchase"],
        finished_at=timezone.now(), score=0.8,
    )  # fmt: skip
    VisitorScore.objects.bulk_create(
        VisitorScore(run=run, visitor=visitor, target=target, probability=probability)
        for visitor, targets in probabilities.items()
        for target, probability in targets.items()
    )
    return run


def population_store(
    synthetic: Synthetic, *, now: datetime, consent: float = 1.0
) -> tuple[list[Visitor], dict[int, Visitor]]:
    """Visitors and events of a synthetic population, its `now` mapped to `now`.

    The first `consent` share of the visitors allow personalization (and analytics); returns
    the visitors in row order and visitor by row.
    """
    frame = synthetic.frame
    visitors = Visitor.objects.bulk_create(
        Visitor(external_id=f"synthetic-{pk}", first_seen=now) for pk in frame.visitor_ids
    )
    events = [
        Event(
            visitor=visitors[row], event_id=f"synthetic-{index}", type=EVENT_TYPES[kind],
            value=Decimal(f"{value:.2f}") if value else None,
            occurred_at=now - timedelta(days=float(synthetic.now - day)),
        )
        for index, (row, day, kind, value) in enumerate(
            zip(frame.visitor, frame.day, frame.kind, frame.value, strict=True)
        )
    ]  # fmt: skip
    Event.objects.bulk_create(events, batch_size=5000)
    allowed = visitors[: round(len(visitors) * consent)]
    policy = PolicyVersion.objects.order_by("-version").first()
    purposes = [PurposeFactory(key=key) for key in ("analytics", "personalization")]
    ConsentRecord.objects.bulk_create(
        ConsentRecord(visitor=v, purpose=purpose, granted=True, policy=policy,
                      source=ConsentRecord.Source.BANNER)
        for v in allowed
        for purpose in purposes
    )  # fmt: skip
    cache.delete_many([state_cache_key(v.pk) for v in visitors])
    return visitors, dict(enumerate(visitors))

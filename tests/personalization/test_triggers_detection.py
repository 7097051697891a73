"""Segment, score and not-followed triggers fire from what was computed, once per cooldown."""

from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from personalization.features.models import VisitorFeatures
from personalization.scores.models import ScoreRun, VisitorScore
from personalization.scores.services import score_run_make_current
from personalization.segments.services import segment_memberships_compute
from personalization.triggers.models import Trigger, TriggerCooldown, TriggerWatch
from personalization.triggers.tasks import triggers_watches_due
from tests.factories.personalization import SegmentFactory
from tests.factories.scores import scores_current
from tests.factories.triggers import TriggerFactory, endpoint_for
from tests.personalization.triggers_helpers import (
    consenting_visitor,
    payloads,
    reload_triggers,
    send_event,
)
from tests.webhook_receiver import Receiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def endpoint(receiver):
    return endpoint_for(receiver.url)[0]


def facts(receiver) -> list[dict]:
    return [p["data"]["facts"] for p in payloads(receiver)]


def compute_segments(*visitors) -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        segment_memberships_compute(visitor_ids=[v.pk for v in visitors])


def test_entering_and_leaving_a_segment_fire_their_triggers_once_each(endpoint, receiver):
    segment = SegmentFactory(key="regulars", condition={"sessions_90d": {"$gte": 5}})
    TriggerFactory(kind=Trigger.Kind.SEGMENT_ENTER, segment=segment, endpoints=[endpoint])
    TriggerFactory(kind=Trigger.Kind.SEGMENT_LEAVE, segment=segment, endpoints=[endpoint])
    reload_triggers()
    visitor = consenting_visitor("crm-1")
    features = VisitorFeatures.objects.create(
        visitor=visitor, sessions_90d=8, computed_at=timezone.now()
    )

    compute_segments(visitor)
    compute_segments(visitor)  # still a member: nothing changed, nothing fires
    features.sessions_90d = 1
    features.save()
    compute_segments(visitor)

    assert [(f["segment"], f["change"]) for f in facts(receiver)] == [
        ("regulars", "entered"), ("regulars", "left"),
    ]  # fmt: skip


def test_a_segment_trigger_fires_once_per_cooldown(endpoint, receiver):
    segment = SegmentFactory(key="regulars", condition={"sessions_90d": {"$gte": 5}})
    TriggerFactory(kind=Trigger.Kind.SEGMENT_ENTER, segment=segment, endpoints=[endpoint])
    reload_triggers()
    visitor = consenting_visitor("crm-2")
    features = VisitorFeatures.objects.create(
        visitor=visitor, sessions_90d=8, computed_at=timezone.now()
    )

    for sessions in (8, 1, 8):  # in, out, in again within the cooldown
        features.sessions_90d = sessions
        features.save()
        compute_segments(visitor)

    assert len(receiver.received) == 1


def test_a_score_crossing_its_threshold_fires_only_for_visitors_who_crossed(endpoint, receiver):
    TriggerFactory(
        kind=Trigger.Kind.SCORE_CROSSES, score_target="churn", threshold=0.7,
        direction=Trigger.Direction.UP, endpoints=[endpoint],
    )  # fmt: skip
    reload_triggers()
    rising, steady, already = (consenting_visitor(f"crm-{n}") for n in (3, 4, 5))
    scores_current({rising: {"churn": 0.4}, steady: {"churn": 0.2}, already: {"churn": 0.9}})
    run = ScoreRun.objects.create(status=ScoreRun.Status.FINISHED, targets=["churn"], score=0.8)
    VisitorScore.objects.bulk_create(
        VisitorScore(run=run, visitor=v, target="churn", probability=p)
        for v, p in ((rising, 0.85), (steady, 0.3), (already, 0.95))
    )

    with TestCase.captureOnCommitCallbacks(execute=True):
        score_run_make_current(run=run)

    assert [p["data"]["visitor"]["external_id"] for p in payloads(receiver)] == ["crm-3"]
    assert facts(receiver)[0] | {"previous": 0.4, "current": 0.85} == facts(receiver)[0]


def score_run_serving(probabilities: dict) -> None:
    """A new run with these churn scores becomes current, its listeners' work done."""
    run = ScoreRun.objects.create(status=ScoreRun.Status.FINISHED, targets=["churn"], score=0.8)
    VisitorScore.objects.bulk_create(
        VisitorScore(run=run, visitor=v, target="churn", probability=p)
        for v, p in probabilities.items()
    )
    with TestCase.captureOnCommitCallbacks(execute=True):
        score_run_make_current(run=run)


def test_a_score_trigger_fires_once_per_cooldown_however_often_the_score_crosses(
    endpoint, receiver
):
    TriggerFactory(
        kind=Trigger.Kind.SCORE_CROSSES, score_target="churn", threshold=0.7,
        endpoints=[endpoint],
    )  # fmt: skip
    reload_triggers()
    visitor = consenting_visitor("crm-20")
    scores_current({visitor: {"churn": 0.1}})

    for churn in (0.8, 0.2, 0.9):  # up, down, up again within the day's cooldown
        score_run_serving({visitor: churn})

    assert [f["current"] for f in facts(receiver)] == [0.8]


@pytest.fixture
def abandoned_cart(endpoint):
    trigger = TriggerFactory(
        kind=Trigger.Kind.EVENT_NOT_FOLLOWED, event_type="add_to_cart",
        followed_by_type="purchase", within_seconds=3600, endpoints=[endpoint],
    )  # fmt: skip
    reload_triggers()
    return trigger


def run_due_watches() -> None:
    with TestCase.captureOnCommitCallbacks(execute=True):
        triggers_watches_due.delay()


def test_a_cart_without_a_purchase_within_an_hour_fires_when_the_hour_is_over(
    abandoned_cart, receiver
):
    visitor = consenting_visitor("crm-6")
    send_event(visitor, "add_to_cart", at=timezone.now() - timedelta(minutes=30), event_id="c1")
    run_due_watches()
    assert receiver.received == []  # not due yet

    TriggerWatch.objects.update(due_at=timezone.now() - timedelta(seconds=1))
    run_due_watches()

    [fired] = facts(receiver)
    assert (fired["event"]["event_id"], fired["not_followed_by"]) == ("c1", "purchase")
    assert not TriggerWatch.objects.exists()


def test_a_cart_followed_by_a_purchase_in_time_never_fires(abandoned_cart, receiver):
    visitor = consenting_visitor("crm-7")
    send_event(visitor, "add_to_cart", at=timezone.now() - timedelta(hours=2))
    send_event(visitor, "purchase", at=timezone.now() - timedelta(hours=1, minutes=30))

    run_due_watches()

    assert receiver.received == [] and not TriggerWatch.objects.exists()


def test_a_purchase_stored_before_its_cart_was_watched_still_counts(abandoned_cart, receiver):
    """Events can arrive out of order: the due check looks at the events themselves."""
    visitor = consenting_visitor("crm-8")
    send_event(visitor, "purchase", at=timezone.now() - timedelta(minutes=70))
    send_event(visitor, "add_to_cart", at=timezone.now() - timedelta(minutes=90))

    run_due_watches()

    assert receiver.received == []


def test_a_not_followed_trigger_fires_once_per_cooldown(abandoned_cart, receiver):
    visitor = consenting_visitor("crm-9")
    for minutes in (200, 100):  # two abandoned carts, both due, within the day's cooldown
        send_event(visitor, "add_to_cart", at=timezone.now() - timedelta(minutes=minutes))
        run_due_watches()

    assert len(receiver.received) == 1
    assert TriggerCooldown.objects.filter(visitor=visitor).count() == 1

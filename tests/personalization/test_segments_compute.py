"""Precomputed memberships: rules over stored attributes, `$inSegment`, consent, sizes, queries."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from personalization.features.models import VisitorFeatures
from personalization.segments.models import Segment, SegmentMembership, SegmentSizeSnapshot
from personalization.segments.selectors import segment_definitions, segments_cache_clear
from personalization.segments.services import (
    segment_memberships_compute,
    segments_compute_all,
)
from personalization.segments.tasks import compute_segments
from personalization.visitors.models import Visitor
from tests.factories.personalization import (
    SegmentFactory,
    SegmentMembershipFactory,
    VisitorFactory,
    grant,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_definitions():
    segments_cache_clear()
    yield
    segments_cache_clear()


def customer(*, consents: bool = True, traits: dict | None = None, **features) -> Visitor:
    """A visitor with computed features who allows personalization (unless `consents=False`)."""
    visitor = VisitorFactory(traits=traits or {})
    grant(visitor, "analytics")
    grant(visitor, "personalization", granted=consents)
    features.setdefault("lifecycle", "active")
    VisitorFeatures.objects.create(visitor=visitor, computed_at=NOW, **features)
    return visitor


def members(key: str) -> set[int]:
    return set(
        SegmentMembership.objects.filter(segment__key=key).values_list("visitor_id", flat=True)
    )


def compute(*visitors: Visitor, now: datetime = NOW) -> dict[str, int]:
    return segment_memberships_compute(visitor_ids=[v.pk for v in visitors], now=now)


def test_rule_segments_get_the_visitors_whose_stored_attributes_match():
    SegmentFactory(key="big-spenders", condition={"monetary_90d": {"$gte": 100}})
    SegmentFactory(key="germans", condition={"traits.country": "DE", "lifecycle": "active"})
    rich = customer(monetary_90d=Decimal("250.00"))
    german = customer(traits={"country": "DE"}, monetary_90d=Decimal("20"))
    dormant_german = customer(traits={"country": "DE"}, lifecycle="dormant")

    compute(rich, german, dormant_german)

    assert members("big-spenders") == {rich.pk}
    assert members("germans") == {german.pk}


def test_in_segment_reads_segments_computed_before_it_in_the_same_run():
    # "a-loyal" sorts before "big-spenders": only dependency order gets it right.
    SegmentFactory(
        key="a-loyal", condition={"$inSegment": "big-spenders", "sessions_90d": {"$gte": 5}}
    )
    SegmentFactory(key="big-spenders", condition={"monetary_90d": {"$gte": 100}})
    loyal = customer(monetary_90d=Decimal(150), sessions_90d=8)
    rare = customer(monetary_90d=Decimal(150), sessions_90d=1)
    frequent = customer(monetary_90d=Decimal(10), sessions_90d=9)

    compute(loyal, rare, frequent)

    assert members("a-loyal") == {loyal.pk}
    assert members("big-spenders") == {loyal.pk, rare.pk}


def test_rules_can_read_static_lists():
    newsletter = SegmentFactory(key="newsletter", kind="static")
    SegmentFactory(
        key="active-readers", condition={"$inSegment": "newsletter", "lifecycle": "active"}
    )
    reader, other = customer(), customer()
    SegmentMembershipFactory(segment=newsletter, visitor=reader)

    compute(reader, other)

    assert members("active-readers") == {reader.pk}
    assert members("newsletter") == {reader.pk}


def test_visitors_without_personalization_consent_are_in_no_computed_segment():
    SegmentFactory(key="everyone-active", condition={"lifecycle": "active"})
    allowing, refusing = customer(), customer(consents=False)
    compute(allowing, refusing)
    assert members("everyone-active") == {allowing.pk}

    grant(allowing, "personalization", granted=False)
    result = compute(allowing, refusing)

    assert members("everyone-active") == set()
    assert (result["skipped_consent"], result["left"]) == (2, 1)


def test_recomputing_changes_nothing_and_keeps_the_day_a_visitor_joined():
    SegmentFactory(key="active", condition={"lifecycle": "active"})
    visitor = customer()
    compute(visitor)

    again = compute(visitor, now=NOW + timedelta(days=3))

    assert (again["joined"], again["left"]) == (0, 0)
    assert SegmentMembership.objects.get(visitor=visitor).since == NOW


def test_leaving_a_segment_removes_only_that_membership():
    SegmentFactory(key="active", condition={"lifecycle": "active"})
    SegmentFactory(key="big-spenders", condition={"monetary_90d": {"$gte": 100}})
    visitor = customer(monetary_90d=Decimal(500))
    compute(visitor)

    VisitorFeatures.objects.filter(visitor=visitor).update(monetary_90d=Decimal(5))
    result = compute(visitor)

    assert (members("active"), members("big-spenders")) == ({visitor.pk}, set())
    assert (result["joined"], result["left"]) == (0, 1)


def test_live_and_inactive_segments_are_not_precomputed():
    SegmentFactory(key="mobile-active", condition={"device": "mobile", "lifecycle": "active"})
    paused = SegmentFactory(key="paused", condition={"lifecycle": "active"})
    visitor = customer()
    compute(visitor)
    assert members("paused") == {visitor.pk}

    paused.is_active = False
    paused.save()
    compute(visitor)

    assert members("mobile-active") == members("paused") == set()


def test_a_chunk_runs_as_many_queries_for_200_visitors_as_for_10():
    SegmentFactory(key="active", condition={"lifecycle": "active"})
    SegmentFactory(key="big", condition={"monetary_90d": {"$gte": 50}, "$inSegment": "active"})
    SegmentFactory(key="list", kind="static")
    few = [customer(monetary_90d=Decimal(n * 10)) for n in range(10)]
    many = [customer(monetary_90d=Decimal(n)) for n in range(200)]
    definitions = segment_definitions()

    def queries(visitors: list[Visitor]) -> int:
        ids = [v.pk for v in visitors]
        with CaptureQueriesContext(connection) as context:
            segment_memberships_compute(visitor_ids=ids, segments=definitions, now=NOW)
        return len(context.captured_queries)

    assert queries(few) == queries(many) <= 12
    assert len(members("active")) == 210


def test_a_run_computes_every_chunk_and_records_todays_size_of_each_segment():
    SegmentFactory(key="active", condition={"lifecycle": "active"})
    SegmentFactory(key="mobile", condition={"device": "mobile"})
    static = SegmentFactory(key="list", kind="static")
    visitors = [customer() for _ in range(5)]
    SegmentMembershipFactory(segment=static, visitor=visitors[0])

    summary = segments_compute_all(chunk_size=2, now=NOW)
    segments_compute_all(chunk_size=2, now=NOW + timedelta(hours=1))  # same day: upsert

    assert (summary["chunks"], summary["computed"], summary["sizes"]) == (
        3,
        5,
        {"active": 5, "list": 1},
    )
    snapshots = SegmentSizeSnapshot.objects.values_list("segment__key", "date", "size")
    assert sorted(snapshots) == [("active", NOW.date(), 5), ("list", NOW.date(), 1)]
    assert Segment.objects.get(key="active").estimated_size == 5
    assert Segment.objects.get(key="mobile").estimated_size is None


def test_a_merged_profile_leaves_its_rule_segments_at_the_end_of_a_run():
    SegmentFactory(key="active", condition={"lifecycle": "active"})
    survivor, merged = customer(), customer()
    compute(survivor, merged)
    Visitor.objects.filter(pk=merged.pk).update(merged_into=survivor)

    segments_compute_all(now=NOW)

    assert members("active") == {survivor.pk}


def test_the_command_and_the_task_compute_memberships_and_print_a_summary():
    SegmentFactory(key="active", condition={"lifecycle": "active"})
    customer(), customer(consents=False)
    out = StringIO()

    call_command("compute_segments", "--chunk-size", "1", stdout=out, stderr=StringIO())
    summary = compute_segments.delay(chunk_size=5).get()

    assert "1 segments computed for 1 visitors (1 joined, 0 left, 1 without" in out.getvalue()
    assert "  active: 1" in out.getvalue()
    assert (summary["chunks"], summary["joined"], summary["sizes"]) == (1, 0, {"active": 1})

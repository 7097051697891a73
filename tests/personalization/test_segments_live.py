"""`visitor_segments`: stored memberships in one query, live segments evaluated per request."""

import logging

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from personalization.rules import evaluate_condition
from personalization.segments import selectors as segments_module
from personalization.segments.models import Segment
from personalization.segments.selectors import (
    SegmentSet,
    segment_definitions,
    segments_cache_clear,
    visitor_segments,
)
from tests.factories.personalization import SegmentFactory, SegmentMembershipFactory, VisitorFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_definitions():
    segments_cache_clear()
    yield
    segments_cache_clear()


def request_attributes(visitor, **context) -> dict:
    """What the decision engine does: the attribute dict holds its own SegmentSet."""
    attributes = {"device": "desktop", "hour": 12, "lifecycle": "active", **context}
    attributes["segments"] = visitor_segments(visitor, attributes)
    return attributes


def test_a_live_segment_matches_by_the_request_context():
    SegmentFactory(key="mobile", condition={"device": {"$in": ["mobile", "tablet"]}})
    visitor = VisitorFactory()

    on_phone = request_attributes(visitor, device="mobile")
    on_desktop = request_attributes(visitor, device="desktop")

    assert "mobile" in on_phone["segments"]
    assert "mobile" not in on_desktop["segments"]
    assert evaluate_condition({"$inSegment": "mobile"}, on_phone) is True
    assert evaluate_condition({"$inSegment": "mobile"}, on_desktop) is False


def test_stored_memberships_are_read_once_whatever_is_asked():
    vip, newsletter = (
        SegmentFactory(key="vip", condition={"lifecycle": "active"}),
        SegmentFactory(key="newsletter", kind="static"),
    )
    visitor = VisitorFactory()
    SegmentMembershipFactory(segment=vip, visitor=visitor)
    SegmentMembershipFactory(segment=newsletter, visitor=visitor)
    segment_definitions()  # loaded once per process, not per request
    segments = visitor_segments(visitor, {})

    with CaptureQueriesContext(connection) as context:
        answers = [
            "vip" in segments,
            "newsletter" in segments,
            "other" in segments,
            "vip" in segments,
        ]

    assert answers == [True, True, False, True]
    assert len(context.captured_queries) == 1


def test_a_live_segment_can_require_a_stored_one():
    big = SegmentFactory(key="big-spenders", condition={"monetary_90d": {"$gte": 100}})
    SegmentFactory(
        key="mobile-big-spenders", condition={"device": "mobile", "$inSegment": "big-spenders"}
    )
    SegmentFactory(
        key="evening-mobile", condition={"$inSegment": "mobile-big-spenders", "hour": {"$gte": 18}}
    )
    spender, other = VisitorFactory(), VisitorFactory()
    SegmentMembershipFactory(segment=big, visitor=spender)

    evening = request_attributes(spender, device="mobile", hour=20)

    assert "mobile-big-spenders" in evening["segments"]
    assert "evening-mobile" in evening["segments"]
    assert "mobile-big-spenders" not in request_attributes(other, device="mobile")["segments"]
    assert list(evening["segments"]) == ["big-spenders", "evening-mobile", "mobile-big-spenders"]


def test_bind_evaluates_live_segments_against_new_attributes():
    SegmentFactory(key="evening", condition={"hour": {"$gte": 18}})
    segments = SegmentSet(VisitorFactory(), {"hour": 9})
    assert "evening" not in segments

    segments.bind({"hour": 21})

    assert "evening" in segments


def test_unknown_and_inactive_segments_match_no_one():
    paused = SegmentFactory(key="paused", kind="static", is_active=False)
    visitor = VisitorFactory()
    SegmentMembershipFactory(segment=paused, visitor=visitor)

    segments = visitor_segments(visitor, {})

    assert "paused" not in segments and "nope" not in segments and 3 not in segments
    assert list(segments) == []


def test_an_anonymous_visitor_gets_live_segments_only():
    SegmentFactory(key="mobile", condition={"device": "mobile"})
    SegmentFactory(key="list", kind="static")

    attributes = request_attributes(None, device="mobile")

    assert list(attributes["segments"]) == ["mobile"]


def test_a_new_segment_is_seen_by_the_next_request():
    visitor = VisitorFactory()
    assert "evening" not in request_attributes(visitor, hour=20)["segments"]

    SegmentFactory(key="evening", condition={"hour": {"$gte": 18}})

    assert "evening" in request_attributes(visitor, hour=20)["segments"]


def test_a_failing_lookup_is_logged_and_counts_as_not_matched(monkeypatch, caplog):
    def broken():
        raise ConnectionError("cache down")

    monkeypatch.setattr(segments_module, "segment_definitions", broken)
    segments = visitor_segments(VisitorFactory(), {})

    with caplog.at_level(logging.ERROR, logger="personalization.segments.selectors"):
        assert "vip" not in segments
        assert list(segments) == []
    assert "Segment 'vip' failed" in caplog.text


def test_a_cycle_written_around_validation_does_not_recurse():
    SegmentFactory(key="a", condition={"device": "mobile"})
    SegmentFactory(key="b", condition={"device": "mobile", "$inSegment": "a"})
    Segment.objects.filter(key="a").update(condition={"device": "mobile", "$inSegment": "b"})
    segments_cache_clear()

    attributes = request_attributes(VisitorFactory(), device="mobile")

    assert "a" not in attributes["segments"] or "b" not in attributes["segments"]

"""Saving a segment: shape and type errors, `$inSegment` cycles, version, live flag, cache token."""

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError

from personalization.segments.models import Segment
from personalization.segments.selectors import (
    SEGMENTS_VERSION_KEY,
    segment_condition_warnings,
    segment_definitions,
    segments_cache_clear,
)
from tests.factories.personalization import SegmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_definitions():
    segments_cache_clear()
    yield
    segments_cache_clear()


def condition_errors(segment: Segment) -> list[str]:
    with pytest.raises(ValidationError) as info:
        segment.full_clean()
    return info.value.message_dict["condition"]


def test_a_segment_that_references_itself_is_refused_naming_the_cycle():
    vip = Segment(key="vip", name="VIP", condition={"$inSegment": "vip"})

    assert condition_errors(vip) == ["$inSegment makes a cycle: vip → vip"]


def test_an_indirect_cycle_is_refused_naming_every_segment_on_it():
    SegmentFactory(key="big-spenders", condition={"$inSegment": "vip"})
    SegmentFactory(key="loyal", condition={"$inSegment": "big-spenders"})
    vip = Segment(
        key="vip",
        name="VIP",
        condition={"$or": [{"lifecycle": "active"}, {"$inSegment": "loyal"}]},
    )

    assert condition_errors(vip) == ["$inSegment makes a cycle: vip → loyal → big-spenders → vip"]


def test_editing_a_segment_into_a_cycle_is_refused():
    big = SegmentFactory(key="big-spenders", condition={"monetary_90d": {"$gte": 100}})
    SegmentFactory(key="vip", condition={"$inSegment": "big-spenders"})
    big.condition = {"$not": {"$inSegment": "vip"}}

    assert condition_errors(big) == ["$inSegment makes a cycle: big-spenders → vip → big-spenders"]


def test_segments_that_share_references_without_a_cycle_are_accepted():
    SegmentFactory(key="active", condition={"lifecycle": "active"})
    SegmentFactory(key="big-spenders", condition={"$inSegment": "active"})
    SegmentFactory(key="loyal", condition={"$inSegment": "active"})
    vip = Segment(
        key="vip",
        name="VIP",
        condition={"$and": [{"$inSegment": "big-spenders"}, {"$inSegment": "loyal"}]},
    )

    vip.full_clean()


def test_shape_and_type_errors_name_the_path_and_the_reason():
    typed = Segment(
        key="x",
        name="X",
        condition={"$and": [{"lifecycle": "active"}, {"sessions_30d": {"$gte": "3"}}]},
    )
    shaped = Segment(key="y", name="Y", condition={"$and": {"lifecycle": "active"}})

    assert condition_errors(typed) == ["$and[1].sessions_30d: $gte needs a number"]
    assert condition_errors(shaped) == ["$and: $and needs a list of conditions"]


def test_an_unknown_attribute_is_refused():
    segment = SegmentFactory.build(key="x", condition={"visits": {"$gte": 3}})

    with pytest.raises(ValidationError) as refused:
        segment.full_clean()

    assert "visits: unknown attribute visits" in str(refused.value)


def test_a_segment_deleted_after_saving_is_a_warning_on_the_segments_naming_it():
    gone = SegmentFactory(key="gone")
    segment = SegmentFactory(key="x", condition={"$inSegment": "gone"})
    gone.delete()

    assert segment_condition_warnings(segment) == [
        '$inSegment "gone": no such segment, so it never matches'
    ]


def test_a_static_list_has_no_condition():
    segment = Segment(key="list", name="List", kind="static", condition={"lifecycle": "new"})

    assert condition_errors(segment) == [
        "Only rule segments have a condition: clear it, or pick Rule."
    ]


def test_the_version_goes_up_only_when_the_condition_changes():
    segment = SegmentFactory(condition={"lifecycle": "active"})
    segment.name = "Renamed"
    segment.save()
    assert segment.version == 1

    segment.condition = {"lifecycle": "new"}
    segment.save()
    reloaded = Segment.objects.get(pk=segment.pk)
    reloaded.save()

    assert Segment.objects.get(pk=segment.pk).version == 2


def test_a_segment_is_live_when_its_rule_reads_the_request():
    live = SegmentFactory(condition={"lifecycle": "active", "utm_source": "newsletter"})
    stored = SegmentFactory(condition={"lifecycle": "active"})

    assert (live.is_live, stored.is_live) == (True, False)
    stored.condition = {"hour": {"$gte": 18}}
    stored.save(update_fields=["condition"])
    assert Segment.objects.get(pk=stored.pk).is_live is True


def test_saving_or_deleting_a_segment_makes_every_process_reload_definitions():
    segment_definitions()
    token = cache.get(SEGMENTS_VERSION_KEY)

    segment = SegmentFactory(key="fresh", condition={"lifecycle": "new"})

    assert cache.get(SEGMENTS_VERSION_KEY) != token
    assert "fresh" in segment_definitions().by_key
    segment.delete()
    assert "fresh" not in segment_definitions().by_key


def test_a_segment_that_references_a_live_one_is_live_too():
    SegmentFactory(key="mobile", condition={"device": "mobile"})
    SegmentFactory(key="mobile-vip", condition={"$inSegment": "mobile", "lifecycle": "active"})
    SegmentFactory(key="vip", condition={"lifecycle": "active"})

    definitions = segment_definitions()

    assert [d.key for d in definitions.live] == ["mobile", "mobile-vip"]
    assert [d.key for d in definitions.stored_rules] == ["vip"]

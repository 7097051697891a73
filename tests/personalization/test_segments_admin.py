"""The segment admin: errors name the path, warnings after save, members and a size chart."""

from datetime import date, timedelta

import pytest
from django.contrib.messages import get_messages

from personalization.segments.charts import size_history_svg
from personalization.segments.models import Segment, SegmentSizeSnapshot
from personalization.segments.selectors import segments_cache_clear
from tests.factories import UserFactory
from tests.factories.personalization import SegmentFactory, SegmentMembershipFactory

pytestmark = pytest.mark.django_db
ADD_URL = "/admin/personalization/segment/add/"


@pytest.fixture(autouse=True)
def _fresh_definitions():
    segments_cache_clear()
    yield
    segments_cache_clear()


@pytest.fixture
def editor(client):
    client.force_login(UserFactory(superuser=True))
    return client


def form(condition: str, **fields) -> dict:
    return {
        "key": "vip",
        "name": "VIP",
        "kind": "rule",
        "is_active": "on",
        "condition": condition,
        **fields,
    }


def test_an_invalid_condition_is_refused_with_the_path_and_the_reason(editor):
    response = editor.post(
        ADD_URL, form('{"$and": [{"lifecycle": "active"}, {"sessions_30d": {"$gte": "3"}}]}')
    )

    assert response.status_code == 200
    assert "$and[1].sessions_30d: $gte needs a number" in response.content.decode()
    assert not Segment.objects.exists()


def test_a_cycle_is_refused_from_the_admin(editor):
    SegmentFactory(key="big-spenders", condition={"$inSegment": "vip"})

    response = editor.post(ADD_URL, form('{"$inSegment": "big-spenders"}'))

    assert "$inSegment makes a cycle: vip → big-spenders → vip" in response.content.decode()


def test_a_condition_reading_an_unknown_attribute_is_refused_naming_it(editor):
    response = editor.post(ADD_URL, form('{"visits": {"$gte": 3}}'))

    assert response.status_code == 200
    assert "visits: unknown attribute visits: not in the catalogue" in response.content.decode()
    assert not Segment.objects.filter(key="vip").exists()


def test_catalogue_warnings_are_shown_after_saving(editor):
    response = editor.post(ADD_URL, form('{"lifecycle": "vip"}'))

    assert response.status_code == 302
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    assert any('"vip" is not a known lifecycle' in message for message in shown)
    assert Segment.objects.get(key="vip").condition == {"lifecycle": "vip"}


def test_the_change_page_shows_members_and_the_size_history_as_inline_svg(editor):
    segment = SegmentFactory(key="newsletter", kind="static")
    SegmentMembershipFactory.create_batch(3, segment=segment)
    today = date(2025, 6, 1)
    for days, size in enumerate([1, 2, 3]):
        SegmentSizeSnapshot.objects.create(
            segment=segment, date=today + timedelta(days=days), size=size
        )

    html = editor.get(f"/admin/personalization/segment/{segment.pk}/change/").content.decode()

    assert '<div class="readonly">3</div>' in html
    assert "<svg" in html and "<polyline" in html and "2025-06-03: 3" in html
    assert "<script" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]


def test_the_list_shows_kind_size_and_live_flag(editor):
    SegmentFactory(key="mobile", condition={"device": "mobile"})
    SegmentFactory(key="newsletter", kind="static")

    html = editor.get("/admin/personalization/segment/").content.decode()

    assert "mobile" in html and "Static list" in html and "icon-yes.svg" in html


def test_the_chart_says_when_there_is_no_history_yet():
    assert size_history_svg([]) == "No sizes yet: compute_segments records one a day."
    assert "<circle" in size_history_svg([(date(2025, 6, 1), 0)])


def staff_with(client, *codenames: str):
    from django.contrib.auth.models import Permission

    user = UserFactory(username="segment-reader", staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client


def compute_now(client, django_capture_on_commit_callbacks):
    segment = SegmentFactory(key="vip", condition={"sessions_30d": {"$gte": 5}})
    data = {"action": "compute_now", "_selected_action": [segment.pk]}
    with django_capture_on_commit_callbacks() as queued:
        response = client.post("/admin/personalization/segment/", data, follow=True)
    return response, queued


def test_staff_who_may_only_view_segments_cannot_start_a_recompute(
    client, django_capture_on_commit_callbacks
):
    viewer = staff_with(client, "view_segment")

    response, queued = compute_now(viewer, django_capture_on_commit_callbacks)

    assert queued == []
    assert "being recomputed" not in response.content.decode()


def test_staff_who_may_change_segments_start_a_recompute(
    client, django_capture_on_commit_callbacks
):
    changer = staff_with(client, "view_segment", "change_segment")

    response, queued = compute_now(changer, django_capture_on_commit_callbacks)

    assert len(queued) == 1
    assert "being recomputed" in response.content.decode()

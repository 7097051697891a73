"""Buffered page views written in bulk: SQL on PostgreSQL, the ORM elsewhere, the same rows."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from personalization.visitors.models import Event, Visitor
from personalization.visitors.page_views import _page_views_write_orm
from personalization.visitors.services import PageView, page_views_write
from personalization.visitors.snapshots import snapshot_token_key
from tests.factories import VisitorFactory
from tests.factories.content import ContentItemFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
WRITERS = {"sql": page_views_write, "orm": _page_views_write_orm}


@pytest.fixture(params=sorted(WRITERS))
def write(request):
    """Each test runs against both ways of writing (on PostgreSQL, the SQL one is the default)."""
    return WRITERS[request.param]


def view(visitor: Visitor, minutes: float, item=None, **context) -> PageView:
    path = f"/items/{item.pk}/" if item else "/"
    return PageView(
        visitor.pk, getattr(item, "pk", None), path, context, NOW + timedelta(minutes=minutes)
    )


def sessions_of(visitor: Visitor) -> list[int]:
    events = Event.objects.filter(visitor=visitor).order_by("occurred_at")
    return [event.context["session"] for event in events]


def test_the_first_view_of_a_visitor_starts_their_first_session(write):
    visitor = VisitorFactory(sessions=0, last_seen=NOW)

    write([view(visitor, 1)])

    visitor.refresh_from_db()
    assert (visitor.sessions, visitor.last_seen) == (1, NOW + timedelta(minutes=1))
    assert sessions_of(visitor) == [1]


def test_a_view_exactly_thirty_minutes_after_the_last_starts_a_new_session(write):
    visitor = VisitorFactory(sessions=4, last_seen=NOW)

    write([view(visitor, 30)])

    assert sessions_of(visitor) == [5]


def test_a_view_under_thirty_minutes_after_the_last_continues_the_session(write):
    visitor = VisitorFactory(sessions=4, last_seen=NOW)

    write([view(visitor, 29.99)])

    visitor.refresh_from_db()
    assert visitor.sessions == 4
    assert sessions_of(visitor) == [4]


def test_views_of_one_batch_count_sessions_in_time_order_whatever_order_they_came_in(write):
    visitor = VisitorFactory(sessions=1, last_seen=NOW)

    write([view(visitor, 100), view(visitor, 10), view(visitor, 50), view(visitor, 45)])

    visitor.refresh_from_db()
    assert visitor.sessions == 3
    assert visitor.last_seen == NOW + timedelta(minutes=100)
    assert sessions_of(visitor) == [1, 2, 2, 3]


def test_a_view_of_an_erased_visitor_is_dropped_and_the_others_kept(write):
    kept, erased = VisitorFactory(), VisitorFactory()
    views = [view(kept, 1), view(erased, 1)]
    erased.delete()

    assert write(views) == 1

    assert list(Event.objects.values_list("visitor_id", flat=True)) == [kept.pk]


def test_a_view_of_a_profile_merged_twice_goes_to_the_last_survivor(write):
    survivor = VisitorFactory(sessions=2, last_seen=NOW)
    middle = VisitorFactory(merged_into=survivor, sessions=5, last_seen=NOW)
    merged = VisitorFactory(merged_into=middle, sessions=7, last_seen=NOW)

    write([view(merged, 40), view(middle, 41)])

    survivor.refresh_from_db()
    assert set(Event.objects.values_list("visitor_id", flat=True)) == {survivor.pk}
    assert (survivor.sessions, survivor.last_seen) == (3, NOW + timedelta(minutes=41))
    assert Visitor.objects.get(pk=merged.pk).sessions == 7


def test_views_of_a_merged_profile_and_its_survivor_count_one_session_between_them(write):
    survivor = VisitorFactory(sessions=1, last_seen=NOW)
    merged = VisitorFactory(merged_into=survivor)

    write([view(merged, 60), view(survivor, 61)])

    assert sessions_of(survivor) == [2, 2]


def test_a_view_stores_its_path_context_and_times_as_a_view_by_the_server(write):
    item = ContentItemFactory()
    visitor = VisitorFactory(sessions=1, last_seen=NOW)

    write([view(visitor, 5, item, device="mobile", utm_source="mail")])

    event = Event.objects.get()
    assert (event.type, event.source, event.item_id, event.value) == (
        "view",
        "server",
        item.pk,
        None,
    )
    assert event.properties == {"path": f"/items/{item.pk}/"}
    assert event.context == {
        "device": "mobile",
        "utm_source": "mail",
        "session": 1,
        "visit_count": 1,
    }
    assert event.occurred_at == event.received_at == NOW + timedelta(minutes=5)
    assert event.event_id.startswith("pv-")


def test_contexts_with_quotes_backslashes_and_other_scripts_are_stored_as_given(write):
    visitor = VisitorFactory(sessions=1, last_seen=NOW)
    tricky = {"utm_campaign": "say \"hi\" \\ {a,b} 'x'", "city": "Zürich 東京", "tags": [1, None]}

    write([view(visitor, 1, **tricky), view(visitor, 2, plain="yes")])

    contexts = [e.context for e in Event.objects.order_by("occurred_at")]
    assert contexts == [
        {**tricky, "session": 1, "visit_count": 1},
        {"plain": "yes", "session": 1, "visit_count": 1},
    ]


def test_new_sessions_and_item_views_make_snapshots_stale_and_other_views_do_not(write):
    item = ContentItemFactory()
    quiet = VisitorFactory(sessions=1, last_seen=NOW)
    returning = VisitorFactory(sessions=1, last_seen=NOW - timedelta(hours=3))
    shopping = VisitorFactory(sessions=1, last_seen=NOW)
    visitors = (quiet, returning, shopping)
    cache.set_many({snapshot_token_key(v.pk): "token" for v in visitors})

    write([view(quiet, 1), view(returning, 1), view(shopping, 1, item)])

    left = cache.get_many([snapshot_token_key(v.pk) for v in visitors])
    assert set(left) == {snapshot_token_key(quiet.pk)}


def test_the_sql_and_orm_ways_store_the_same_rows():
    item = ContentItemFactory()

    def world() -> dict[str, Visitor]:
        survivor = VisitorFactory(sessions=2, last_seen=NOW - timedelta(minutes=10))
        return {
            "new": VisitorFactory(sessions=0, last_seen=NOW),
            "mid-visit": VisitorFactory(sessions=3, last_seen=NOW - timedelta(minutes=5)),
            "returning": VisitorFactory(sessions=9, last_seen=NOW - timedelta(days=2)),
            "survivor": survivor,
            "merged": VisitorFactory(merged_into=survivor, sessions=4, last_seen=NOW),
            "erased": VisitorFactory(),
        }

    def views(visitors: dict[str, Visitor]) -> list[PageView]:
        plan = [
            ("new", 0, None), ("new", 45, item), ("mid-visit", 3, item), ("returning", 1, None),
            ("merged", 2, item), ("survivor", 50, None), ("erased", 1, None), ("new", 46, None),
        ]  # fmt: skip
        return [view(visitors[role], at, thing, hour=12, role=role) for role, at, thing in plan]

    def stored(visitors: dict[str, Visitor]) -> tuple[list, dict]:
        roles = {v.pk: role for role, v in visitors.items()}
        fields = ("visitor_id", "source", "type", "item_id", "value", "properties", "context",
                  "occurred_at", "received_at")  # fmt: skip
        events = Event.objects.filter(visitor_id__in=roles).order_by("occurred_at", "context__role")
        rows = [(roles[row[0]], *row[1:]) for row in events.values_list(*fields)]
        kept = Visitor.objects.filter(pk__in=roles).values_list("pk", "last_seen", "sessions")
        return rows, {roles[pk]: (last_seen, sessions) for pk, last_seen, sessions in kept}

    by_sql, by_orm = world(), world()
    batches = {"sql": views(by_sql), "orm": views(by_orm)}
    for visitors in (by_sql, by_orm):
        visitors["erased"].delete()

    page_views_write(batches["sql"])
    _page_views_write_orm(batches["orm"])

    assert stored(by_sql) == stored(by_orm)
    assert len(stored(by_sql)[0]) == 7


def test_a_batch_of_page_views_costs_three_statements_whatever_its_size():
    def statements(visitors: int) -> list[str]:
        views = [view(VisitorFactory(), minutes) for minutes in range(visitors) for _ in range(2)]
        with CaptureQueriesContext(connection) as captured:
            page_views_write(views)
        return [
            q["sql"].split()[0]
            for q in captured
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
        ]

    assert statements(2) == statements(50) == ["WITH", "UPDATE", "INSERT"]

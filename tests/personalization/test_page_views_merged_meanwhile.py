"""A profile merged while a flush of its page views waits for the lock on it."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from personalization.visitors.models import Event, Visitor
from personalization.visitors.services import PageView, page_views_write, visitor_merge
from tests.factories import VisitorFactory


def in_thread(work) -> threading.Thread:
    def run() -> None:
        try:
            work()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def until_a_session_waits_for_a_lock() -> None:
    deadline = time.monotonic() + 20
    while not lock_waiters():
        assert time.monotonic() < deadline, "the flush never waited for the merge"
        time.sleep(0.02)


@pytest.mark.django_db(transaction=True)
def test_a_view_of_a_profile_merged_while_its_flush_waits_goes_to_the_survivor():
    hour_ago = timezone.now() - timedelta(hours=1)
    source = VisitorFactory(sessions=1, last_seen=hour_ago)
    target = VisitorFactory(sessions=3, last_seen=hour_ago)
    merged, commit, written = threading.Event(), threading.Event(), []

    def merge() -> None:
        with transaction.atomic():
            visitor_merge(source=Visitor.objects.get(pk=source.pk), target=target)
            merged.set()
            commit.wait(30)

    merging = in_thread(merge)
    assert merged.wait(30)
    flushing = in_thread(
        lambda: written.append(
            page_views_write([PageView(source.pk, None, "/", {}, timezone.now())])
        )
    )
    until_a_session_waits_for_a_lock()
    commit.set()
    merging.join(30)
    flushing.join(30)

    target.refresh_from_db()
    assert written == [1]
    assert list(Event.objects.values_list("visitor_id", flat=True)) == [target.pk]
    assert target.sessions == 1 + 3 + 1  # the merged profile's, its own, and this visit

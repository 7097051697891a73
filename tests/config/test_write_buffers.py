"""Write-behind buffers: rows recorded on the request path are written together."""

import time
from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.utils import timezone

from config.buffers import WriteBuffer
from personalization.visitors.models import Event, Visitor
from personalization.visitors.services import PageView, page_views_write
from tests.factories import VisitorFactory


def collecting() -> tuple[WriteBuffer[int], list[list[int]]]:
    written: list[list[int]] = []
    return WriteBuffer("number", written.append), written


def test_rows_wait_until_the_buffer_is_full_then_are_written_together(settings):
    settings.TAILOR_WRITE_BUFFER_SIZE = 3
    settings.TAILOR_WRITE_BUFFER_SECONDS = 60
    buffer, written = collecting()

    buffer.add(1)
    buffer.add(2)
    waiting = list(written)
    buffer.add(3)

    assert waiting == []
    assert written == [[1, 2, 3]]
    assert buffer.pending() == 0


def test_rows_that_wait_too_long_are_written_by_the_timer(settings):
    settings.TAILOR_WRITE_BUFFER_SIZE = 100
    settings.TAILOR_WRITE_BUFFER_SECONDS = 0.05
    buffer, written = collecting()

    buffer.add(7)
    deadline = time.monotonic() + 5
    while not written and time.monotonic() < deadline:
        time.sleep(0.01)

    assert written == [[7]]


def test_a_failed_write_is_dropped_without_raising(settings, caplog):
    settings.TAILOR_WRITE_BUFFER_SIZE = 1

    def failing(rows):
        raise DatabaseError("the database is away")

    WriteBuffer("number", failing).add(1)

    assert "Could not write 1 buffered number rows" in caplog.text


def view(visitor: Visitor, minutes: float, path: str = "/") -> PageView:
    at = timezone.now() + timedelta(minutes=minutes)
    return PageView(visitor_id=visitor.pk, item_id=None, path=path, context={}, occurred_at=at)


@pytest.mark.django_db
def test_buffered_page_views_count_a_new_session_after_thirty_minutes():
    visitor = VisitorFactory(sessions=0)

    page_views_write([view(visitor, 0), view(visitor, 10), view(visitor, 45)])

    visitor.refresh_from_db()
    assert visitor.sessions == 2
    sessions = Event.objects.order_by("occurred_at").values_list("context__session", flat=True)
    assert list(sessions) == [1, 1, 2]


@pytest.mark.django_db
def test_buffered_page_views_of_an_erased_visitor_are_dropped():
    kept, erased = VisitorFactory(), VisitorFactory()
    views = [view(kept, 0), view(erased, 0)]
    erased.delete()

    page_views_write(views)

    assert list(Event.objects.values_list("visitor_id", flat=True)) == [kept.pk]


@pytest.mark.django_db
def test_buffered_page_views_of_a_merged_visitor_go_to_the_profile_it_became():
    survivor = VisitorFactory()
    merged = VisitorFactory(merged_into=survivor)

    page_views_write([view(merged, 0)])

    assert list(Event.objects.values_list("visitor_id", flat=True)) == [survivor.pk]

"""Write-behind buffers: rows recorded on the request path are written together."""

import time
from datetime import timedelta

import pytest
from django.db import DatabaseError, OperationalError
from django.utils import timezone

from config import buffers
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


def test_a_write_the_database_refuses_is_dropped_without_raising(settings, caplog):
    settings.TAILOR_WRITE_BUFFER_SIZE = 1

    def failing(rows):
        raise DatabaseError("the database refuses these rows")

    buffer = WriteBuffer("number", failing)
    buffer.add(1)

    assert "Could not write 1 buffered number rows: dropped" in caplog.text
    assert buffer.pending() == 0


def failing_then_writing(failures: int) -> tuple[WriteBuffer[int], list[list[int]]]:
    """A buffer whose first writes fail on a deadlock, and the ones after succeed."""
    written: list[list[int]] = []
    tries = []

    def write(rows):
        tries.append(rows)
        if len(tries) <= failures:
            raise OperationalError("deadlock detected")
        written.append(rows)

    return WriteBuffer("number", write), written


def wait_until(check, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not check() and time.monotonic() < deadline:
        time.sleep(0.01)
    return check()


@pytest.fixture
def quick_retries(monkeypatch, settings):
    monkeypatch.setattr(buffers, "RETRY_FIRST_SECONDS", 0.01, raising=False)
    settings.TAILOR_WRITE_BUFFER_SIZE = 1
    settings.TAILOR_WRITE_BUFFER_RETRIES = 3


@pytest.mark.usefixtures("quick_retries")
def test_a_write_that_fails_on_a_deadlock_is_tried_again_until_it_succeeds(caplog):
    buffer, written = failing_then_writing(failures=2)

    buffer.add(1)
    buffer.add(2)

    assert wait_until(lambda: written)
    assert written == [[1, 2]]
    assert buffer.pending() == 0
    assert "Could not write 1 buffered number rows (try 1 of 4)" in caplog.text


@pytest.mark.usefixtures("quick_retries")
def test_rows_are_dropped_after_the_last_retry_fails(caplog):
    buffer, written = failing_then_writing(failures=100)

    buffer.add(1)

    assert wait_until(lambda: "after 4 tries: dropped" in caplog.text)
    assert buffer.pending() == 0
    assert written == []


@pytest.mark.usefixtures("quick_retries")
def test_while_writes_fail_a_process_keeps_only_the_newest_rows_up_to_the_limit(
    settings, monkeypatch, caplog
):
    monkeypatch.setattr(buffers, "RETRY_FIRST_SECONDS", 60)
    settings.TAILOR_WRITE_BUFFER_MAX_ROWS = 3
    settings.TAILOR_WRITE_BUFFER_SIZE = 2
    buffer, written = failing_then_writing(failures=1)

    for number in range(1, 7):
        buffer.add(number)
    buffer.flush()

    assert "number buffer full: dropped its 1 oldest rows" in caplog.text
    assert written == [[4, 5, 6]]


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

"""Write-behind buffers: rows recorded on the request path, written to the database in bulk.

A page view, an impression or an exposure must not cost its request a database write. Each
kind of row has one `WriteBuffer` per process: `add` appends under a lock and returns; the rows
are written together, by the writer function, when `TAILOR_WRITE_BUFFER_SIZE` rows wait, when
the oldest has waited `TAILOR_WRITE_BUFFER_SECONDS` (a timer thread), and at process exit.

A write that fails on a transient database error (a deadlock, a lost connection, the database
restarting: `OperationalError`, `InterfaceError`) keeps its rows at the head of the buffer and is
tried again by the timer, after 0.5, 1, 2, 4… seconds (at most 30), up to
`TAILOR_WRITE_BUFFER_RETRIES` times; then those rows are dropped and logged. Any other database
error (a row the database refuses) drops the batch at once: trying it again would fail again.
While writes fail, a process holds at most `TAILOR_WRITE_BUFFER_MAX_ROWS` rows of a kind and
drops the oldest beyond that, so that an outage costs bounded memory.

Trade-offs, on purpose: rows wait up to that many seconds before other processes see them
(frequency caps count impressions a little late), and a process killed without a chance to exit
(`kill -9`, an out-of-memory kill, a gunicorn worker timeout) loses what it had not written:
at most `TAILOR_WRITE_BUFFER_SIZE` rows of each kind, or `TAILOR_WRITE_BUFFER_SECONDS` of its
traffic, more only while writes are failing. With a size of 1 every row is written at once, in
the request (the test suite's setting). Recording never breaks a page: `add` never raises.
"""

import atexit
import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections

from config import metrics

logger = logging.getLogger(__name__)
Row = TypeVar("Row")

# Errors after which the same rows may well be written on a later try.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
RETRY_FIRST_SECONDS = 0.5
RETRY_MAX_SECONDS = 30.0
CLOSE_RETRY_MAX_SECONDS = 1.0  # at exit, a process has a few seconds at most


def retry_delay(attempt: int, cap: float = RETRY_MAX_SECONDS) -> float:
    """Seconds before try `attempt + 1`: doubling from half a second, with some jitter so that
    processes that failed together do not retry together."""
    delay = min(RETRY_FIRST_SECONDS * 2 ** (attempt - 1), cap)
    return delay * (1 + random.random() / 4)  # noqa: S311 - jitter, not a secret


class WriteBuffer(Generic[Row]):
    """Rows of one kind waiting in this process to be written together by `write`."""

    def __init__(self, name: str, write: Callable[[list[Row]], object]) -> None:
        self.name = name
        self.write = write
        self._rows: list[Row] = []
        self._oldest: float | None = None  # monotonic time the oldest waiting row came in
        self._failures = 0  # consecutive failed writes of the rows at the head
        self._retry_at = 0.0
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._pending = metrics.buffer_pending(name)
        atexit.register(self.close)

    def add(self, *rows: Row) -> None:
        """Keep rows for the next bulk write; write now when enough are waiting."""
        size = max(1, int(settings.TAILOR_WRITE_BUFFER_SIZE))
        with self._lock:
            if not self._rows:
                self._oldest = time.monotonic()
            self._rows.extend(rows)
            self._trim()
            self._pending.set(len(self._rows))
            due = len(self._rows) >= size and time.monotonic() >= self._retry_at
            if not due and self._timer is None:
                self._schedule(float(settings.TAILOR_WRITE_BUFFER_SECONDS))
        if due:
            self.flush()

    def pending(self) -> int:
        """How many rows wait to be written."""
        with self._lock:
            return len(self._rows)

    def flush(self) -> int:
        """Write every waiting row now; returns how many were written (0 on a failed write)."""
        with self._lock:
            rows, self._rows = self._rows, []
            oldest, self._oldest = self._oldest, None
            self._pending.set(0)
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        if not rows:
            return 0
        try:
            self.write(rows)
        except TRANSIENT_ERRORS as exc:
            self._write_failed(rows, oldest, exc)
            return 0
        except DatabaseError:
            logger.exception("Could not write %d buffered %s rows: dropped", len(rows), self.name)
            metrics.buffer_dropped(self.name, "refused", len(rows))
            return 0
        with self._lock:
            self._failures, self._retry_at = 0, 0.0
        metrics.buffer_flushed(self.name, len(rows), time.monotonic() - (oldest or 0.0))
        return len(rows)

    def close(self) -> None:
        """Write what waits before the process exits, retrying transient errors briefly."""
        self.flush()
        while self.pending():
            with self._lock:
                if self._timer is not None:
                    self._timer.cancel()
                    self._timer = None
                failures = self._failures
            if not failures:
                self.flush()
                continue
            time.sleep(retry_delay(failures, cap=CLOSE_RETRY_MAX_SECONDS))
            self.flush()

    def _write_failed(self, rows: list[Row], oldest: float | None, exc: Exception) -> None:
        retries = max(0, int(settings.TAILOR_WRITE_BUFFER_RETRIES))
        metrics.buffer_flush_failed(self.name)
        with self._lock:
            self._failures += 1
            if self._failures > retries:
                self._failures, self._retry_at = 0, 0.0
                give_up = True
            else:
                give_up = False
                delay = retry_delay(self._failures)
                self._rows = rows + self._rows
                self._oldest = oldest if oldest is not None else time.monotonic()
                self._trim()
                self._pending.set(len(self._rows))
                self._retry_at = time.monotonic() + delay
                self._schedule(delay)
            failures = self._failures
        if give_up:
            logger.error(
                "Could not write %d buffered %s rows after %d tries: dropped (%s)",
                len(rows), self.name, retries + 1, exc,
            )  # fmt: skip
            metrics.buffer_dropped(self.name, "retries", len(rows))
        else:
            logger.warning(
                "Could not write %d buffered %s rows (try %d of %d), trying again in %.1f s: %s",
                len(rows), self.name, failures, retries + 1, delay, exc,
            )  # fmt: skip

    def _trim(self) -> None:
        """Drop the oldest rows beyond the most a process holds (called with the lock held)."""
        excess = len(self._rows) - max(1, int(settings.TAILOR_WRITE_BUFFER_MAX_ROWS))
        if excess > 0:
            del self._rows[:excess]
            logger.error("%s buffer full: dropped its %d oldest rows", self.name, excess)
            metrics.buffer_dropped(self.name, "overflow", excess)

    def _schedule(self, delay: float) -> None:
        """Have the timer flush in `delay` seconds (called with the lock held)."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = threading.Timer(delay, self._flush_from_timer)
        self._timer.daemon = True
        self._timer.start()

    def _flush_from_timer(self) -> None:
        with self._lock:
            self._timer = None
        try:
            self.flush()
        finally:
            connections.close_all()  # this thread's own connections: do not leak them

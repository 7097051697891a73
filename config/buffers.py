"""Write-behind buffers: rows recorded on the request path, written to the database in bulk.

A page view, an impression or an exposure must not cost its request a database write. Each
kind of row has one `WriteBuffer` per process: `add` appends under a lock and returns; the rows
are written together, by the writer function, when `TAILOR_WRITE_BUFFER_SIZE` rows wait, when
the oldest has waited `TAILOR_WRITE_BUFFER_SECONDS` (a timer thread), and at process exit.

Trade-offs, on purpose: rows wait up to that many seconds before other processes see them
(frequency caps count impressions a little late), and a process killed without a chance to exit
loses what it had not written yet. With a size of 1 every row is written at once, in the
request (the test suite's setting). A failed write is logged with its row count and dropped:
recording must never break a page.
"""

import atexit
import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from django.conf import settings
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)
Row = TypeVar("Row")


class WriteBuffer(Generic[Row]):
    """Rows of one kind waiting in this process to be written together by `write`."""

    def __init__(self, name: str, write: Callable[[list[Row]], object]) -> None:
        self.name = name
        self.write = write
        self._rows: list[Row] = []
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        atexit.register(self.flush)

    def add(self, *rows: Row) -> None:
        """Keep rows for the next bulk write; write now when enough are waiting."""
        size = max(1, int(settings.TAILOR_WRITE_BUFFER_SIZE))
        with self._lock:
            self._rows.extend(rows)
            due = len(self._rows) >= size
            if not due and self._timer is None:
                self._timer = threading.Timer(
                    float(settings.TAILOR_WRITE_BUFFER_SECONDS), self._flush_from_timer
                )
                self._timer.daemon = True
                self._timer.start()
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
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        if not rows:
            return 0
        try:
            self.write(rows)
        except DatabaseError:
            logger.exception("Could not write %d buffered %s rows", len(rows), self.name)
            return 0
        return len(rows)

    def _flush_from_timer(self) -> None:
        with self._lock:
            self._timer = None
        try:
            self.flush()
        finally:
            connections.close_all()  # this thread's own connections: do not leak them

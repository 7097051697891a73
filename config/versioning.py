"""Version numbers in the shared cache that tell every process when its local copies are stale.

A process keeps read-mostly data (slot definitions, purposes) in memory, tagged with the version
it was built at. A write bumps the version in the shared cache (Redis in production); each
process looks at the shared number at most once every `check_seconds`, so a change reaches all
of them within that time without a round trip on every request.
"""

import logging
import time

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)


class SharedVersion:
    def __init__(self, key: str, *, check_seconds: float = 1.0) -> None:
        self.key = key
        self.check_seconds = check_seconds
        self._version: int | None = None
        self._checked = 0.0

    def current(self) -> int:
        """The version, read from the shared cache at most once every `check_seconds`."""
        now = time.monotonic()
        if self._version is None or now - self._checked > self.check_seconds:
            self._version = cache.get_or_set(self.key, 1, timeout=None)
            self._checked = now
        return self._version

    def bump(self, **kwargs) -> None:
        """Make every process's copies stale (usable as a signal receiver: takes anything)."""
        try:
            version = cache.incr(self.key)
        except ValueError:  # the key is missing (evicted or never set): start a new series
            version = int(time.time())
            cache.set(self.key, version, timeout=None)
        self._version = version
        self._checked = time.monotonic()

    def bump_on_write(self) -> None:
        """Bump now and again once the current transaction commits.

        Again after commit: a process that reloaded in between read the old rows. A cache
        outage does not fail the write: it is logged, and other processes catch up when the
        cache is back.
        """
        self._bump_quietly()
        transaction.on_commit(self._bump_quietly)

    def forget(self) -> None:
        """Forget this process's copy of the number (tests: a rolled-back write left it)."""
        self._version = None

    def _bump_quietly(self) -> None:
        try:
            self.bump()
        except Exception:  # the cache is down: the write must still go through
            self._version = None
            logger.exception("Could not bump %s", self.key)

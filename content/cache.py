"""A version number for everything decisions read from the content app.

Slot definitions are cached per process; any save or delete of content bumps the version in
the shared cache, so every process drops its copy within `LOCAL_CHECK_SECONDS`.
"""

import time

from django.core.cache import cache

VERSION_KEY = "tailor:content:version"
LOCAL_CHECK_SECONDS = 1.0

_local = {"version": None, "checked": 0.0}


def content_version() -> int:
    """The current content version, read from the shared cache at most once a second."""
    now = time.monotonic()
    if _local["version"] is None or now - _local["checked"] > LOCAL_CHECK_SECONDS:
        _local["version"] = cache.get_or_set(VERSION_KEY, 1, timeout=None)
        _local["checked"] = now
    return _local["version"]


def content_version_bump(**kwargs) -> None:
    """Invalidate every process's cached slot definitions (a signal receiver: takes anything)."""
    try:
        version = cache.incr(VERSION_KEY)
    except ValueError:  # the key is missing: start a new series
        cache.set(VERSION_KEY, 2, timeout=None)
        version = 2
    _local["version"] = version
    _local["checked"] = time.monotonic()

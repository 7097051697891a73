"""A time limit on each statement of the database connection, for work that must stay short.

PostgreSQL cancels a statement that runs past `statement_timeout` (SQLSTATE 57014,
`query_canceled`) and the transaction around it rolls back; the caller catches that with
`statement_cancelled` and does the work another way. Elsewhere (SQLite) there is no such limit
and statements run to the end.
"""

from collections.abc import Iterator
from contextlib import contextmanager, suppress

from django.db import DatabaseError, connection

__all__ = ["statement_cancelled", "statement_time_limit"]

QUERY_CANCELED = "57014"
# The setting's value before, read in the same statement that sets the new one; MATERIALIZED
# makes PostgreSQL read it first.
_SWAP = (
    "WITH before AS MATERIALIZED (SELECT current_setting('statement_timeout') AS value) "
    "SELECT value, set_config('statement_timeout', %s, false) FROM before"
)


def _swap(value: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(_SWAP, [value])
        return cursor.fetchone()[0]


@contextmanager
def statement_time_limit(milliseconds: int) -> Iterator[None]:
    """Cancel any statement of this connection that runs longer than `milliseconds` inside the
    block (0: no limit); the connection's own limit is back afterwards. One statement on
    entry, one on exit."""
    if connection.vendor != "postgresql":
        yield
        return
    before = _swap(f"{milliseconds}ms")
    try:
        yield
    except BaseException:
        # The failure is what to report, even when the connection is past restoring anything.
        with suppress(DatabaseError):
            _swap(before)
        raise
    _swap(before)


def statement_cancelled(error: BaseException) -> bool:
    """Whether `error` is a statement cancelled by its time limit."""
    return getattr(error.__cause__, "sqlstate", None) == QUERY_CANCELED

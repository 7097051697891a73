"""Monthly partitions of the events table on PostgreSQL: created ahead, filled, dropped whole.

Why partitions: retention then drops a month as one table instead of deleting its rows one by
one (no dead rows, no vacuum debt, no index churn), and a month's indexes stay the size of a
month, so storing events into a table that holds years of them costs what it costs into a
young one.

Layout (migration `0017_event_partitions`): `personalization_event` is PARTITIONED BY RANGE
(occurred_at), one partition per calendar month in UTC (`personalization_event_y2025m01`) and
a DEFAULT partition for any time without its own month, so that no write ever fails for want
of a partition. `event_partitions_maintain` (a Celery beat task, nightly) creates the coming
months ahead and moves events that landed in DEFAULT (very late or early ones) into partitions
of their own months.

Idempotency by (source, event_id): PostgreSQL requires the partition key in every unique
index of a partitioned table, and a unique (source, event_id, occurred_at) would let the same
event sent twice with two different times be stored twice. So the keys live in a narrow table
of their own, `personalization_event_key` (primary key (source, event_id)), kept by triggers
on the events table: a BEFORE INSERT row trigger claims the key with ON CONFLICT DO NOTHING and
skips the row when the key is taken, in the inserting statement itself, so that concurrent
writers race on the key's unique index and exactly one wins; every writer (the API, imports,
page views, the demo) gets the same guarantee without knowing about it. Statement triggers on
DELETE and TRUNCATE release the keys of the rows gone (erasure, row-wise retention, test
flushes), and dropping a month releases its keys first, in one set-based delete. The cost is a
narrow index entry per event; the alternatives were a lock per sender (serialising its
requests) or looking ids up in every month before writing (racy without that lock).

SQLite keeps the plain table with its unique constraint: every function here is a no-op there.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

from django.db import connection, transaction

__all__ = [
    "MONTHS_AHEAD",
    "MonthPartition",
    "event_partitions",
    "event_partitions_drop_before",
    "event_partitions_maintain",
    "partitioned",
]

TABLE = "personalization_event"
KEYS = "personalization_event_key"
DEFAULT = f"{TABLE}_default"
MONTHS_AHEAD = 3  # months created ahead of the current one


@dataclass(frozen=True)
class MonthPartition:
    month: date  # the first day of the month

    @property
    def name(self) -> str:
        return f"{TABLE}_y{self.month:%Y}m{self.month:%m}"

    @property
    def start(self) -> datetime:
        return datetime(self.month.year, self.month.month, 1, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        return month_after(self.month, 1).start


def month_after(month: date, months: int) -> MonthPartition:
    """The partition `months` months after `month` (its first day)."""
    index = month.year * 12 + month.month - 1 + months
    return MonthPartition(date(index // 12, index % 12 + 1, 1))


def month_of(moment: datetime) -> MonthPartition:
    moment = moment.astimezone(UTC)
    return MonthPartition(date(moment.year, moment.month, 1))


def partitioned() -> bool:
    """Whether the events table is partitioned here (PostgreSQL after the migration)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = %s::regclass", [TABLE])
        (kind,) = cursor.fetchone()
    return kind == "p"


def event_partitions() -> list[MonthPartition]:
    """The monthly partitions that exist, oldest first (empty where there are none)."""
    if not partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass AND c.relname LIKE %s",
            [TABLE, f"{TABLE}\\_y%"],
        )
        names = [name for (name,) in cursor.fetchall()]
    months = [date(int(name[-7:-3]), int(name[-2:]), 1) for name in names]
    return [MonthPartition(month) for month in sorted(months)]


def _create(cursor, partition: MonthPartition) -> None:
    """Create a month's partition, moving the events of that month out of DEFAULT first.

    PostgreSQL refuses a new partition while DEFAULT holds rows that belong in it. The rows go
    out through the parent (so their keys are released) and back in once the month exists (so
    the keys are claimed again), with every id and value as it was.
    """
    bounds = [partition.start, partition.end]
    cursor.execute(f"LOCK TABLE {DEFAULT} IN EXCLUSIVE MODE")
    cursor.execute(
        f"CREATE TEMPORARY TABLE moving ON COMMIT DROP AS SELECT * FROM {DEFAULT} "  # noqa: S608
        "WHERE occurred_at >= %s AND occurred_at < %s",
        bounds,
    )
    cursor.execute(f"DELETE FROM {TABLE} WHERE occurred_at >= %s AND occurred_at < %s", bounds)  # noqa: S608
    cursor.execute(
        f"CREATE TABLE {partition.name} PARTITION OF {TABLE} FOR VALUES FROM (%s) TO (%s)",
        bounds,
    )
    cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM moving")  # noqa: S608
    cursor.execute("DROP TABLE moving")


def event_partitions_maintain(*, now: datetime) -> list[str]:
    """Create this month's partition and MONTHS_AHEAD more, and partitions for the months of
    events that landed in DEFAULT (moving them there); returns the partitions created."""
    if not partitioned():
        return []
    current = month_of(now).month
    wanted = {month_after(current, n) for n in range(MONTHS_AHEAD + 1)}
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC') FROM {DEFAULT}"  # noqa: S608
        )
        wanted |= {month_of(moment.replace(tzinfo=UTC)) for (moment,) in cursor.fetchall()}
    existing = set(event_partitions())
    created = []
    for partition in sorted(wanted - existing, key=lambda p: p.month):
        # One short transaction per month: the parent is locked while the month is attached.
        with transaction.atomic(), connection.cursor() as cursor:
            _create(cursor, partition)
        created.append(partition.name)
    return created


def event_partitions_drop_before(cutoff: datetime) -> int:
    """Drop the monthly partitions that end at or before `cutoff`, releasing their events'
    keys first; returns how many events went. Rows of a month straddling the cutoff and of
    DEFAULT are left for a row-wise delete."""
    dropped = 0
    for partition in event_partitions():
        if partition.end > cutoff:
            break
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {KEYS} AS k USING {partition.name} AS e "  # noqa: S608
                "WHERE k.source = e.source AND k.event_id = e.event_id"
            )
            dropped += cursor.rowcount
            # Deferred foreign-key checks of rows written earlier in an enclosing transaction
            # would block the drop: run them now, as the commit would.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"DROP TABLE {partition.name}")
    return dropped

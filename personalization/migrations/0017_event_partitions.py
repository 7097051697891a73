"""On PostgreSQL, the events table becomes partitioned by month of `occurred_at`.

SQLite (the default for `make run`) keeps the plain table: this migration does nothing there,
and Django's model state does not change on either database.

PostgreSQL requires the partition key in every unique constraint, so the uniqueness of
(source, event_id) across months moves to a narrow table of keys, `personalization_event_key`,
kept by triggers on the events table: a row inserted whose key is taken is skipped (as
`INSERT … ON CONFLICT DO NOTHING` would), deleting or truncating events releases their keys,
and a stored event's key cannot be changed.
`personalization.visitors.partitions` explains the choice and manages the partitions.
"""

from django.db import migrations

TABLE = "personalization_event"
OLD = "personalization_event_unpartitioned"
KEYS = "personalization_event_key"
DEFAULT = "personalization_event_default"

KEY_TABLE = f"""
CREATE TABLE {KEYS} (
    source varchar(50) NOT NULL,
    event_id varchar(100) NOT NULL,
    PRIMARY KEY (source, event_id)
)"""
# BEFORE INSERT on each partition: claim the key, or skip the row when another event holds it.
# AFTER DELETE / TRUNCATE on the parent, per statement: release the keys of the rows gone.
TRIGGERS = f"""
CREATE FUNCTION {KEYS}_claim() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {KEYS} (source, event_id) VALUES (NEW.source, NEW.event_id)
        ON CONFLICT DO NOTHING;
    IF FOUND THEN
        RETURN NEW;
    END IF;
    RETURN NULL;
END $$;
CREATE FUNCTION {KEYS}_release() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM {KEYS} AS k USING gone
        WHERE k.source = gone.source AND k.event_id = gone.event_id;
    RETURN NULL;
END $$;
CREATE FUNCTION {KEYS}_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the source and event_id of a stored event do not change'
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE FUNCTION {KEYS}_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE {KEYS};
    RETURN NULL;
END $$;
CREATE TRIGGER event_key_claim BEFORE INSERT ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION {KEYS}_claim();
CREATE TRIGGER event_key_release AFTER DELETE ON {TABLE}
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION {KEYS}_release();
CREATE TRIGGER event_key_fixed BEFORE UPDATE OF source, event_id ON {TABLE} FOR EACH ROW
    WHEN (OLD.source IS DISTINCT FROM NEW.source OR OLD.event_id IS DISTINCT FROM NEW.event_id)
    EXECUTE FUNCTION {KEYS}_fixed();
CREATE TRIGGER event_key_clear AFTER TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION {KEYS}_clear();
"""
DROP_TRIGGERS = f"""
DROP TRIGGER IF EXISTS event_key_claim ON {TABLE};
DROP TRIGGER IF EXISTS event_key_release ON {TABLE};
DROP TRIGGER IF EXISTS event_key_clear ON {TABLE};
DROP TRIGGER IF EXISTS event_key_fixed ON {TABLE};
DROP FUNCTION IF EXISTS {KEYS}_fixed();
DROP FUNCTION IF EXISTS {KEYS}_claim();
DROP FUNCTION IF EXISTS {KEYS}_release();
DROP FUNCTION IF EXISTS {KEYS}_clear();
DROP TABLE IF EXISTS {KEYS};
"""


def _definitions(cursor, table: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The table's plain indexes (not those behind a constraint) and its foreign keys."""
    cursor.execute(
        "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = %s::regclass "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
        "ORDER BY i.indexrelid",
        [table],
    )
    indexes = [definition for (definition,) in cursor.fetchall()]
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
        [table],
    )
    return indexes, cursor.fetchall()


def _rebuild(cursor, *, partitioned: bool) -> None:
    """Move the events into a new table of the other kind, under the same index names."""
    indexes, foreign_keys = _definitions(cursor, TABLE)
    cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {OLD}")
    tail = " PARTITION BY RANGE (occurred_at)" if partitioned else ""
    cursor.execute(
        f"CREATE TABLE {TABLE} (LIKE {OLD} INCLUDING DEFAULTS INCLUDING IDENTITY){tail}"
    )
    if partitioned:
        cursor.execute(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (id, occurred_at)")
        cursor.execute(f"CREATE TABLE {DEFAULT} PARTITION OF {TABLE} DEFAULT")
        months = (
            f"SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC') FROM {OLD} "
            "UNION SELECT date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => n) "
            "FROM generate_series(0, 2) AS n"
        )
        cursor.execute(months)
        for (month,) in cursor.fetchall():
            cursor.execute(
                f"CREATE TABLE {TABLE}_y{month:%Y}m{month:%m} PARTITION OF {TABLE} "
                "FOR VALUES FROM (%s) TO (%s)",
                [f"{month:%Y-%m}-01 00:00:00+00", _next_month(month)],
            )
        cursor.execute(
            f"INSERT INTO {KEYS} (source, event_id) SELECT source, event_id FROM {OLD}"  # noqa: S608
        )
    else:
        cursor.execute(f"ALTER TABLE {TABLE} ADD PRIMARY KEY (id)")
    cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {OLD}")  # noqa: S608
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('{TABLE}', 'id'), "
        f"coalesce((SELECT max(id) FROM {TABLE}), 0) + 1, false)"  # noqa: S608
    )
    cursor.execute(f"DROP TABLE {OLD}")
    for definition in indexes:
        cursor.execute(definition)
    for name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")
    if not partitioned:
        cursor.execute(
            f"ALTER TABLE {TABLE} ADD CONSTRAINT event_unique_per_source UNIQUE (source, event_id)"
        )


def _next_month(month) -> str:
    year, number = (month.year + 1, 1) if month.month == 12 else (month.year, month.month + 1)
    return f"{year:04d}-{number:02d}-01 00:00:00+00"


def partition(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(KEY_TABLE)
        _rebuild(cursor, partitioned=True)
        cursor.execute(TRIGGERS)


def unpartition(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(DROP_TRIGGERS)
        _rebuild(cursor, partitioned=False)


class Migration(migrations.Migration):
    dependencies = [("personalization", "0016_impression_rule_reason")]

    operations = [migrations.RunPython(partition, unpartition)]

"""Writing many rows at once: `rows_upsert` and `rows_insert`, PostgreSQL's COPY where it is there.

`QuerySet.bulk_create` sends every value as a literal of one statement (Django binds
parameters on the client), which for thousands of rows costs more than the database's own
work. On PostgreSQL the rows go through COPY into a temporary table instead and one
`INSERT … SELECT … ON CONFLICT` moves them into place; elsewhere (SQLite for `make run`) this
is `bulk_create` with the same conflict handling. Values are taken from the rows as they are
(no `pre_save`: fill defaults and times in before). Cost: four statements per call on
PostgreSQL whatever the number of rows (create the temporary table, copy, insert, drop);
memory holds the rows given.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, connections, models, transaction

__all__ = ["rows_insert", "rows_upsert"]


def rows_upsert(
    model: type[models.Model],
    rows: Sequence[models.Model],
    *,
    unique_fields: Sequence[str] = (),
    update_fields: Sequence[str] = (),
) -> None:
    """Insert `rows`; a row whose `unique_fields` are taken updates `update_fields` of the
    row there, or is skipped when there are none. Without `unique_fields` a conflict fails the
    call, as a plain insert would. Primary keys are left to the database."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            rows, batch_size=2_000, ignore_conflicts=bool(unique_fields) and not update_fields,
            update_conflicts=bool(update_fields), unique_fields=unique_fields or None,
            update_fields=update_fields or None,
        )  # fmt: skip
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    # Every name below is a quoted table or column name from the model, never input.
    table, staging = quote(meta.db_table), quote(f"staging_{meta.db_table}")
    columns = ", ".join(quote(f.column) for f in fields)
    conflict = ", ".join(quote(meta.get_field(name).column) for name in unique_fields)
    updated = [quote(meta.get_field(name).column) for name in update_fields]
    assignments = ", ".join(f"{column} = EXCLUDED.{column}" for column in updated)
    action = f"UPDATE SET {assignments}" if assignments else "NOTHING"
    empty = f"SELECT {columns} FROM {table} WITH NO DATA"  # noqa: S608
    insert = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging}"  # noqa: S608
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {staging} AS {empty}")
        # The connection itself, not the proxy: each value would look it up again otherwise.
        database = connections[connection.alias]
        prepared = [(f.attname, f.get_db_prep_save) for f in fields]
        with cursor.cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([prep(getattr(row, name), database) for name, prep in prepared])
        cursor.execute(f"{insert} ON CONFLICT ({conflict}) DO {action}" if conflict else insert)
        cursor.execute(f"DROP TABLE {staging}")


def rows_insert(
    model: type[models.Model], fields: Sequence[str], values: Iterable[Sequence[Any]]
) -> None:
    """Insert plain tuples of `fields` (attribute names) as new rows, nothing else checked.

    For writers on the hot path that already hold the values as the database stores them
    (ids, text, times, booleans): no model instance is made. On PostgreSQL one COPY straight
    into the table; elsewhere `bulk_create`. Defaults are not filled in: name every column
    that has no database default.
    """
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            (model(**dict(zip(fields, row, strict=True))) for row in values), batch_size=2_000
        )
        return
    meta, quote = model._meta, connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(meta.get_field(name).column) for name in fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in values:
            copy.write_row(row)

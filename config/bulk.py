"""Writing many rows at once, with PostgreSQL's COPY where it is there.

`QuerySet.bulk_create` sends every value as a literal of one statement (Django binds
parameters on the client), which for thousands of rows costs more than the database's own
work. On PostgreSQL the rows go through COPY into a temporary table instead and one
`INSERT … SELECT … ON CONFLICT` moves them into place; elsewhere (SQLite for `make run`) this
is `bulk_create` with the same conflict handling. Values are taken from the rows as they are
(no `pre_save`: fill defaults and times in before). Cost: four statements per call on
PostgreSQL whatever the number of rows (create the temporary table, copy, insert, drop);
memory holds the rows given. `rows_insert` is the same insert returning the new primary keys;
`tuples_insert` copies plain tuples straight into the table (no model instances, no keys back);
`tuples_insert_referring` does it only if every row's foreign keys hold.
"""

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import IntegrityError, connection, connections, models, transaction

__all__ = ["rows_insert", "rows_upsert", "tuples_insert", "tuples_insert_referring"]


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
    quote = connection.ops.quote_name
    conflict = ", ".join(quote(meta.get_field(name).column) for name in unique_fields)
    updated = [quote(meta.get_field(name).column) for name in update_fields]
    assignments = ", ".join(f"{column} = EXCLUDED.{column}" for column in updated)
    action = f"UPDATE SET {assignments}" if assignments else "NOTHING"
    with _staged(model, rows) as (cursor, insert):
        cursor.execute(f"{insert} ON CONFLICT ({conflict}) DO {action}" if conflict else insert)


def rows_insert(model: type[models.Model], rows: Sequence[models.Model], *, key: str) -> None:
    """Insert `rows` and set their primary keys, matched back by `key`, a unique field that
    every row has a value of. A conflict fails the call, as a plain insert would."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(rows, batch_size=2_000)
        return
    meta = model._meta
    quote = connection.ops.quote_name
    field = meta.get_field(key)
    returning = f"RETURNING {quote(meta.pk.column)}, {quote(field.column)}"
    with _staged(model, rows) as (cursor, insert):
        cursor.execute(f"{insert} {returning}")
        pks = {value: pk for pk, value in cursor.fetchall()}
    for row in rows:
        row.pk = pks[getattr(row, field.attname)]
        row._state.adding = False


# Django's own fields (exactly these classes, not subclasses, which may encrypt or convert) whose
# database form of a value of these Python types is the value itself: preparing each would
# cost more than the copy.
_TEXT, _INTEGER = frozenset({str, type(None)}), frozenset({int, type(None)})
_AS_IS: dict[type[models.Field], frozenset[type]] = {
    **dict.fromkeys(
        (models.CharField, models.TextField, models.SlugField, models.URLField, models.EmailField),
        _TEXT,
    ),
    **dict.fromkeys(
        (
            models.IntegerField,
            models.BigIntegerField,
            models.SmallIntegerField,
            models.PositiveIntegerField,
            models.PositiveBigIntegerField,
            models.PositiveSmallIntegerField,
            models.AutoField,
            models.BigAutoField,
        ),
        _INTEGER,
    ),
    models.BooleanField: frozenset({bool, type(None)}),
    models.DateTimeField: frozenset({type(None)}),  # a time itself may need making aware
}


def _as_is(field: models.Field) -> frozenset[type]:
    """The Python types a field's values are copied as they are in; others are prepared."""
    if type(field) is models.ForeignKey:
        return _as_is(field.target_field)
    return _AS_IS.get(type(field), frozenset())


@contextmanager
def _staged(model: type[models.Model], rows: Sequence[models.Model]) -> Iterator[tuple[Any, str]]:
    """The rows copied into a temporary table, a cursor and the INSERT that moves them over."""
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    # Every name below is a quoted table or column name from the model, never input.
    table, staging = quote(meta.db_table), quote(f"staging_{meta.db_table}")
    columns = ", ".join(quote(f.column) for f in fields)
    empty = f"SELECT {columns} FROM {table} WITH NO DATA"  # noqa: S608
    insert = f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {staging}"  # noqa: S608
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {staging} AS {empty}")
        # The connection itself, not the proxy: each value would look it up again otherwise.
        database = connections[connection.alias]
        prepared = [(f.attname, f.get_db_prep_save, _as_is(f)) for f in fields]
        with (
            connection.wrap_database_errors,
            cursor.cursor.copy(f"COPY {staging} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                values = []
                for name, prep, as_is in prepared:
                    value = getattr(row, name)
                    values.append(value if type(value) in as_is else prep(value, database))
                copy.write_row(values)
        yield cursor, insert
        cursor.execute(f"DROP TABLE {staging}")


def tuples_insert(
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
        connection.wrap_database_errors,  # psycopg's own cursor: Django's errors, as elsewhere
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in values:
            copy.write_row(row)


def tuples_insert_referring(
    model: type[models.Model], fields: Sequence[str], values: Sequence[Sequence[Any]]
) -> bool:
    """`tuples_insert` if every row refers to rows that exist: True once inserted.

    For writers whose rows almost always refer to live rows (a visitor erased or an item
    deleted since the rows were recorded is rare): trying costs nothing more than the insert,
    where checking first costs a lookup of every referred row. On PostgreSQL the foreign keys
    (which Django defers to commit) are checked at this insert, inside a savepoint: when one
    fails, False and nothing inserted, and the caller leaves out the rows that refer to missing
    rows and inserts the rest. Elsewhere False without trying.
    """
    if connection.vendor != "postgresql":
        return False
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            tuples_insert(model, fields, values)
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    except IntegrityError:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        return False
    return True

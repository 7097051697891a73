"""Deleting a subject's rows of one model in one statement, loading none into Python.

Django's `QuerySet.delete()` takes a fast path (one DELETE) only when nothing refers to the
model; otherwise its collector first loads the rows, then deletes or detaches what refers to
them, table by table, even when erasure already erased those tables (the visitor's events:
a second scan of the index entries of 100,000 rows just deleted).

Erasure erases the models that refer to visitors (and deliveries) before those, so by then
nothing should refer to the rows. On PostgreSQL `rows_delete` deletes them in one statement
with the foreign keys checked at once, not at commit: a row stored since its own model was
erased (an event arriving meanwhile) makes the statement fail with an IntegrityError, and the
caller, whose transaction then rolls back, runs the step again with `collect`, through the
collector, which finds and deletes or detaches such rows. Elsewhere (SQLite) and for models
with delete signals or generic relations (which no foreign key covers), the collector it is.
"""

from django.db import connection, models
from django.db.models import QuerySet, signals
from django.db.models.deletion import Collector

__all__ = ["rows_delete"]


def _checked_by_database(model: type[models.Model]) -> bool:
    """Whether the foreign keys the database checks are all that deleting `model` involves."""
    return not (
        signals.pre_delete.has_listeners(model)
        or signals.post_delete.has_listeners(model)
        or any(hasattr(f, "bulk_related_objects") for f in model._meta.private_fields)
    )


def rows_delete(rows: QuerySet, *, collect: bool = False) -> int:
    """Delete `rows`; how many of its model were deleted. `collect`: through the collector."""
    model = rows.model
    if not collect:
        if Collector(using=rows.db, origin=rows).can_fast_delete(rows):
            return rows._raw_delete(rows.db)  # nothing refers to the model: Django's fast path
        if connection.vendor == "postgresql" and _checked_by_database(model):
            with connection.cursor() as cursor:
                # Django's foreign keys are deferred to commit: check them at this statement.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                deleted = rows._raw_delete(rows.db)
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            return deleted
    _, per_model = rows.delete()
    return per_model.get(model._meta.label, 0)

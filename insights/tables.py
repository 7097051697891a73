"""The dashboard's tables as columns and rows: one definition for the page, CSV and the API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from insights import selectors
from insights.selectors import Range

DELIVERY_COLUMNS = [
    ("label", "name"), ("impressions", "impressions"), ("visitors", "visitors"),
    ("clicks", "clicks"), ("ctr", "click-through rate"), ("conversions", "conversions"),
    ("revenue", "revenue"),
]  # fmt: skip
SEGMENT_COLUMNS = [
    ("label", "segment"), ("visitors", "visitors"), ("sessions", "sessions"),
    ("buyers", "buyers"), ("conversion_rate", "conversion rate"),
    ("conversions", "conversions"), ("revenue", "revenue"),
    ("revenue_per_visitor", "revenue per visitor"),
]  # fmt: skip


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    columns: list[tuple[str, str]]
    rows: Callable[[Range], list]


def _algorithm_columns() -> list[tuple[str, str]]:
    return [*DELIVERY_COLUMNS, ("coverage", "catalogue coverage")]


TABLES: dict[str, Table] = {
    t.key: t
    for t in [
        Table("slots", "Slots", DELIVERY_COLUMNS, selectors.slot_rows),
        Table("rules", "Rules", DELIVERY_COLUMNS, selectors.rule_rows),
        Table("items", "Items", DELIVERY_COLUMNS, selectors.item_rows),
        Table("segments", "Segments", SEGMENT_COLUMNS, selectors.segment_rows),
        Table("algorithms", "Recommendation algorithms and model runs", _algorithm_columns(),
              selectors.algorithm_rows),
    ]
}  # fmt: skip


def cell(row, column: str):
    """A row's value for a column (None when suppressed)."""
    if column == "coverage":
        return row.extra.get("coverage")
    return getattr(row, column)


def records(table: Table, rows: list) -> list[dict]:
    return [{"key": r.key, "suppressed": r.suppressed,
             **{c: cell(r, c) for c, _ in table.columns}} for r in rows]  # fmt: skip

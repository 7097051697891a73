"""The figures computed straight from the raw rows with hand-written SQL (PostgreSQL)."""

from datetime import datetime

from django.db import connection

WINDOW = "interval '72 hours'"
SLOT_CLICK = "c.type = 'click' AND c.item_id IS NOT NULL AND c.properties ? 'slot'"


def _rows(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def impressions_by_slot(start: datetime, end: datetime) -> dict[str, int]:
    return dict(_rows(
        "SELECT slot, count(*) FROM personalization_impression "
        "WHERE shown_at >= %s AND shown_at < %s GROUP BY slot", [start, end]))  # fmt: skip


def clicks_by_slot(start: datetime, end: datetime) -> dict[str, int]:
    return dict(_rows(
        f"SELECT c.properties->>'slot', count(*) FROM personalization_event c WHERE {SLOT_CLICK} "
        "AND c.occurred_at >= %s AND c.occurred_at < %s GROUP BY 1", [start, end]))  # fmt: skip


def _click_rule(alias: str) -> str:
    return (
        f"LEFT JOIN LATERAL (SELECT i.rule_id FROM personalization_impression i "
        f"WHERE i.visitor_id = {alias}.visitor_id AND i.item_id = {alias}.item_id "
        f"AND i.slot = {alias}.properties->>'slot' AND i.shown_at <= {alias}.occurred_at "
        f"AND i.shown_at > {alias}.occurred_at - {WINDOW} ORDER BY i.shown_at DESC, i.id DESC "
        f"LIMIT 1) r ON true"
    )


def clicks_by_rule(start: datetime, end: datetime) -> dict[int, int]:
    return dict(_rows(
        f"SELECT coalesce(r.rule_id, 0), count(*) FROM personalization_event c {_click_rule('c')} "
        f"WHERE {SLOT_CLICK} AND c.occurred_at >= %s AND c.occurred_at < %s GROUP BY 1",
        [start, end]))  # fmt: skip


def _attributed(start: datetime, end: datetime, group: str) -> list[tuple]:
    return _rows(
        f"SELECT {group}, count(*), sum(p.value) FROM personalization_event p "
        f"JOIN LATERAL (SELECT c.* FROM personalization_event c WHERE c.visitor_id = p.visitor_id "
        f"AND {SLOT_CLICK} AND c.occurred_at <= p.occurred_at "
        f"AND c.occurred_at > p.occurred_at - {WINDOW} "
        f"ORDER BY c.occurred_at DESC, c.id DESC LIMIT 1) c ON true {_click_rule('c')} "
        "WHERE p.type = 'purchase' AND p.occurred_at >= %s AND p.occurred_at < %s GROUP BY 1",
        [start, end])  # fmt: skip


def conversions_by_slot(start: datetime, end: datetime) -> dict[str, tuple[int, float]]:
    return {k: (n, float(v)) for k, n, v in _attributed(start, end, "c.properties->>'slot'")}


def conversions_by_rule(start: datetime, end: datetime) -> dict[int, tuple[int, float]]:
    return {k: (n, float(v)) for k, n, v in _attributed(start, end, "coalesce(r.rule_id, 0)")}


def revenue_per_visitor(start: datetime, end: datetime) -> float:
    (revenue,), = _rows(
        "SELECT coalesce(sum(value), 0) FROM personalization_event WHERE type = 'purchase' "
        "AND occurred_at >= %s AND occurred_at < %s", [start, end])  # fmt: skip
    (visitors,), = _rows(
        "SELECT sum(n) FROM (SELECT count(DISTINCT visitor_id) AS n FROM personalization_event "
        "WHERE occurred_at >= %s AND occurred_at < %s "
        "GROUP BY date(occurred_at AT TIME ZONE 'UTC')) AS days", [start, end])  # fmt: skip
    return float(revenue) / float(visitors)


def holdout_visitors(experiment_id: int, start: datetime, end: datetime) -> list[tuple]:
    """(is holdout, converted, revenue, events in the 30 days before) per exposed visitor."""
    return _rows(
        "SELECT v.is_control, "
        "  EXISTS (SELECT 1 FROM personalization_event p WHERE p.visitor_id = x.visitor_id "
        f"   AND p.type = 'purchase' AND p.occurred_at >= x.exposed_at "
        f"   AND p.occurred_at < x.exposed_at + {WINDOW}), "
        "  coalesce((SELECT sum(p.value) FROM personalization_event p "
        "   WHERE p.visitor_id = x.visitor_id AND p.type = 'purchase' "
        f"   AND p.occurred_at >= x.exposed_at AND p.occurred_at < x.exposed_at + {WINDOW}), 0), "
        "  (SELECT count(*) FROM personalization_event p WHERE p.visitor_id = x.visitor_id "
        "   AND p.occurred_at < x.exposed_at "
        "   AND p.occurred_at >= x.exposed_at - interval '30 days') "
        "FROM experiments_exposure x JOIN experiments_variation v ON v.id = x.variation_id "
        "WHERE x.experiment_id = %s AND x.exposed_at >= %s AND x.exposed_at < %s",
        [experiment_id, start, end])  # fmt: skip

"""A chunk's features worked out and stored by one statement on PostgreSQL.

The statement does what `compute` does in Python for other databases, where the events are:
it picks the chunk's visitors that are not merged and allow personalization (`consent`'s own
rule, `allows_sql`), reads their events once through the visitor index, finds session starts
with a window function, sums counts, money and event types per visitor, fans each event's
decayed weight out to its item's tags, their ancestors and its kind and sums it per visitor
and tag or kind by hash, ranks them, scores against the run's statistics, upserts one row per
visitor and deletes the rows of the chunk's other visitors. Only four counts come back.

Every float is worked out as Python works it out, operation for operation, so that both paths
store the same bits (a test holds them to it): decayed weights are added up as whole quanta
(`aggregates.QUANTA`), exact in any order, so no sort is needed for them; integer ratios are
divided as floats, and `round(x, 4)` is rebuilt exactly (`_round_4`): Python rounds the exact
binary value half to even, which neither `round(numeric)` (half away from zero) nor a cast to
numeric (15 digits) do.
"""

from datetime import timedelta
from typing import Any

from django.db import connection, transaction

from consent.purposes import PERSONALIZATION
from consent.selectors import allows_sql
from content.models import ContentItem, ContentKind, Tag
from personalization.features.aggregates import QUANTA, WINDOWS, Weighing
from personalization.features.models import VisitorFeatures
from personalization.features.population import PURCHASE, WORK_MEM, PopulationStats
from personalization.visitors.models import Event, Visitor

TOP_TAGS = 50
TOP_KINDS = 3


# round(x, 4) as Python does it, for 0 <= x <= 1: y + err is x·10⁴ exactly (Dekker's product,
# x split by Veltkamp's constant 2²⁷ + 1); the fraction of y, less one half, is exact where it
# matters, so its sign, or else that of err, or else evenness, says which way to round. Written
# out as one expression (its parts repeated) rather than nested subqueries: cheaper per row.
def _round_4(expression: str) -> str:
    x = f"({expression})::float8"
    y = f"({x} * 10000::float8)"
    whole = f"floor{y}"
    c = f"({x} * 134217729::float8)"
    high = f"({c} - ({c} - {x}))"
    half = f"(({y} - {whole}) - 0.5::float8)"
    err = f"(({high} * 10000::float8 - {y}) + ({x} - {high}) * 10000::float8)"
    up = f"({half} > 0 OR ({half} = 0 AND ({err} > 0 OR ({err} = 0 AND {whole}::bigint %% 2 = 1))))"
    return f"(({whole} + {up}::int) / 10000::float8)"


# Seconds from a moment to `now` as `timedelta.total_seconds()` gives them: whole microseconds
# divided by 10⁶ once. The interval's epoch as a float is within 0.25 µs of its microseconds
# (for ages under 68 years), so rounding it recovers them; EXTRACT would be exact too, but it
# converts through numeric and text, several times slower per event.
_AGE_SECONDS = (
    "round(date_part('epoch', %(now)s - {moment}) * 1000000::float8)::bigint::float8"
    " / 1000000::float8"
)


def _quintile(edges: tuple[float, ...], value: str, *, higher_is_better: bool = True) -> str:
    """`quintile_score` in SQL: 1 + the edges below the value (5 - that, when lower is better)."""
    if not edges:
        return "1"
    below = " + ".join(f"({value} > {float(edge)!r}::float8)::int" for edge in edges)
    return f"(1 + {below})" if higher_is_better else f"(5 - ({below}))"


_STATEMENT = """
WITH live AS (
    SELECT v.id, v.first_seen, {allows} AS allowed
    FROM {visitor} v WHERE v.id = ANY(%(ids)s) AND v.merged_into_id IS NULL
),
chunk AS (SELECT id, first_seen FROM live WHERE allowed),
events AS MATERIALIZED (
    SELECT e.id, e.visitor_id, e.item_id, e.type, e.value, e.occurred_at,
           CASE WHEN e.item_id IS NOT NULL THEN round(
               (CASE e.type {weights} ELSE %(custom)s::float8 END) * POWER(
                   0.5::float8,
                   GREATEST(0::float8, {age_seconds} / 86400::float8) / %(half_life)s::float8
               ) * {quanta}::float8
           )::bigint END AS quanta
    FROM {event} e
    WHERE e.visitor_id BETWEEN %(first)s AND %(last)s AND e.visitor_id IN (SELECT id FROM chunk)
),
totals AS (
    SELECT visitor_id, COUNT(*) AS event_count, MIN(occurred_at) AS first_at,
           MAX(occurred_at) AS last_at,
           GREATEST(0::float8, {age_seconds_last} / 86400::float8) AS recency,
           COUNT(*) FILTER (WHERE starts AND occurred_at > %(since_7)s) AS sessions_7d,
           COUNT(*) FILTER (WHERE starts AND occurred_at > %(since_30)s) AS sessions_30d,
           COUNT(*) FILTER (WHERE starts AND occurred_at > %(since_90)s) AS sessions_90d,
           ROUND(COALESCE(SUM(LEAST(value, %(clip)s::numeric)) FILTER (
               WHERE type = %(purchase)s AND value IS NOT NULL AND occurred_at > %(since_90)s
           ), 0), 2) AS monetary,
           COUNT(DISTINCT type) FILTER (WHERE occurred_at > %(since_30)s) AS types_30d
    FROM (
        SELECT visitor_id, type, value, occurred_at,
               COALESCE(occurred_at - LAG(occurred_at) OVER (
                   PARTITION BY visitor_id ORDER BY occurred_at, id
               ) >= %(gap)s, TRUE) AS starts
        FROM events
    ) AS in_time_order
    GROUP BY visitor_id
),
touched AS MATERIALIZED (SELECT DISTINCT item_id FROM events WHERE item_id IS NOT NULL),
named AS (
    SELECT DISTINCT it.contentitem_id AS item_id, part.slug AS key, 0 AS class
    FROM {item_tags} it JOIN {tag} t ON t.id = it.tag_id,
         unnest(string_to_array(t.path, '/')) AS part(slug)
    WHERE it.contentitem_id IN (SELECT item_id FROM touched)
    UNION ALL
    SELECT i.id, k.key, 1 FROM {item} i JOIN {kind} k ON k.id = i.kind_id
    WHERE i.id IN (SELECT item_id FROM touched)
),
keys AS MATERIALIZED (
    SELECT key, class, ROW_NUMBER() OVER (ORDER BY class, key COLLATE "C") AS slot
    FROM (SELECT DISTINCT key, class FROM named) AS distinct_keys
),
item_slots AS (
    SELECT n.item_id, k.slot FROM named n JOIN keys k ON k.key = n.key AND k.class = n.class
),
slot_sums AS (
    SELECT e.visitor_id, i.slot, SUM(e.quanta)::float8 / {quanta}::float8 AS weight
    FROM events e JOIN item_slots i ON i.item_id = e.item_id
    GROUP BY e.visitor_id, i.slot
),
ranked AS (
    SELECT s.visitor_id, k.class, k.key, s.weight,
           ROW_NUMBER() OVER by_weight AS rank, first_value(s.weight) OVER by_weight AS top
    FROM slot_sums s JOIN keys k ON k.slot = s.slot WHERE s.weight > 0
    WINDOW by_weight AS (PARTITION BY s.visitor_id, k.class ORDER BY s.weight DESC, s.slot)
),
interests AS (
    SELECT visitor_id,
           jsonb_object_agg(key, {affinity}) FILTER (WHERE class = 0) AS tags,
           to_jsonb(array_remove(ARRAY[{kinds}], NULL)) AS kinds
    FROM ranked
    WHERE rank <= CASE class WHEN 0 THEN {top_tags} ELSE {top_kinds} END
    GROUP BY visitor_id
),
computed AS (
    SELECT c.id AS visitor_id, c.first_seen, t.event_count, t.first_at, t.last_at, t.recency,
           t.sessions_7d, t.sessions_30d, t.sessions_90d, t.monetary,
           t.sessions_30d::float8 / (t.sessions_30d + 3)::float8 AS sessions_part,
           LEAST(t.types_30d, 4)::float8 / 4::float8 AS diversity_part,
           POWER(0.5::float8, t.recency / 7::float8) AS recency_part,
           i.tags, i.kinds
    FROM chunk c LEFT JOIN totals t ON t.visitor_id = c.id
    LEFT JOIN interests i ON i.visitor_id = c.id
),
stored AS (
    INSERT INTO {features} ({columns})
    SELECT visitor_id, %(now)s, COALESCE(event_count, 0), recency,
           COALESCE(sessions_7d, 0), COALESCE(sessions_30d, 0), COALESCE(sessions_90d, 0),
           COALESCE(monetary, 0),
           CASE WHEN event_count IS NULL THEN 1 ELSE {r_score} END,
           CASE WHEN event_count IS NULL THEN 1 ELSE {f_score} END,
           CASE WHEN event_count IS NULL THEN 1 ELSE {m_score} END,
           CASE
               WHEN LEAST(first_seen, first_at) > %(since_7)s THEN %(new)s
               WHEN event_count IS NULL THEN %(dormant)s
               WHEN sessions_7d >= 3 THEN %(engaged)s
               WHEN last_at > %(since_30)s THEN %(active)s
               WHEN last_at <= %(since_90)s THEN %(dormant)s
               ELSE %(at_risk)s
           END,
           CASE WHEN event_count IS NULL THEN 0::float8 ELSE {engagement} END,
           COALESCE(tags, '{{}}'::jsonb), COALESCE(kinds, '[]'::jsonb)
    FROM computed
    ON CONFLICT (visitor_id) DO UPDATE SET {updates}
    RETURNING 1
),
dropped AS (
    DELETE FROM {features} f
    WHERE f.visitor_id = ANY(%(ids)s) AND f.visitor_id NOT IN (SELECT id FROM chunk)
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM stored), (SELECT COUNT(*) FROM live WHERE NOT allowed),
       (SELECT COUNT(*) FROM live), (SELECT COUNT(*) FROM dropped)
"""

_COLUMNS = [
    "visitor_id", "computed_at", "event_count", "recency_days", "sessions_7d", "sessions_30d",
    "sessions_90d", "monetary_90d", "r_score", "f_score", "m_score", "lifecycle", "engagement",
    "tag_affinities", "favourite_kinds",
]  # fmt: skip
_ENGAGEMENT = (
    "0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part"
)


def _statement(stats: PopulationStats, weighing: Weighing) -> tuple[str, dict[str, Any]]:
    types = sorted(weighing.weights)
    weights = " ".join(f"WHEN %(type_{n})s THEN %(weight_{n})s::float8" for n in range(len(types)))
    allows, consent_params = allows_sql(PERSONALIZATION, "v.id")
    quote = connection.ops.quote_name
    tables = {
        name: quote(model._meta.db_table)
        for name, model in [
            ("visitor", Visitor), ("event", Event), ("item", ContentItem), ("kind", ContentKind),
            ("tag", Tag), ("features", VisitorFeatures),
            ("item_tags", ContentItem.tags.through),
        ]
    }  # fmt: skip
    columns = [quote(name) for name in _COLUMNS]
    sql = _STATEMENT.format(
        allows=allows, weights=weights, top_tags=TOP_TAGS, top_kinds=TOP_KINDS, quanta=QUANTA,
        affinity=_round_4("weight / top"), engagement=_round_4(_ENGAGEMENT),
        kinds=", ".join(  # the favourite kinds in rank order, without sorting them again
            f"MAX(key) FILTER (WHERE class = 1 AND rank = {n})" for n in range(1, TOP_KINDS + 1)
        ),
        age_seconds=_AGE_SECONDS.format(moment="e.occurred_at"),
        age_seconds_last=_AGE_SECONDS.format(moment="MAX(occurred_at)"),
        r_score=_quintile(stats.recency_edges, "recency", higher_is_better=False),
        f_score=_quintile(stats.frequency_edges, "sessions_90d::float8"),
        m_score=_quintile(stats.monetary_edges, "monetary::float8"),
        columns=", ".join(columns),
        updates=", ".join(f"{c} = EXCLUDED.{c}" for c in columns[1:]),
        **tables,
    )  # fmt: skip
    lifecycle = VisitorFeatures.Lifecycle
    params = {
        "ids": None, "now": weighing.now, "gap": weighing.gap, "clip": weighing.purchase_clip,
        "purchase": PURCHASE, "half_life": weighing.half_life,
        "custom": weighing.weights["custom"],
        **{f"since_{days}": weighing.now - timedelta(days=days) for days in WINDOWS},
        **{f"type_{n}": key for n, key in enumerate(types)},
        **{f"weight_{n}": weighing.weights[key] for n, key in enumerate(types)},
        **{stage.value: stage.value for stage in lifecycle},
        **consent_params,
    }  # fmt: skip
    return sql, params


def features_chunk_in_database(
    visitor_ids: list[int], stats: PopulationStats, weighing: Weighing
) -> dict[str, int]:
    """Compute and store a chunk's features in one statement; the counts `compute` returns."""
    if not visitor_ids:
        return {"computed": 0, "skipped_consent": 0, "skipped_merged": 0}
    sql, params = _statement(stats, weighing)
    with transaction.atomic(), connection.cursor() as cursor:
        # Sorting a chunk's events takes a few megabytes: in memory, not in temporary files.
        cursor.execute("SELECT set_config('work_mem', %s, true)", [WORK_MEM])
        bounds = {"first": min(visitor_ids), "last": max(visitor_ids)}
        cursor.execute(sql, {**params, "ids": visitor_ids, **bounds})
        computed, refused, live, _ = cursor.fetchone()
    return {
        "computed": computed,
        "skipped_consent": refused,
        "skipped_merged": len(visitor_ids) - live,
    }

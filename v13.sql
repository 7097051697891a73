
WITH live AS (
    SELECT v.id, v.first_seen, COALESCE((SELECT r.granted AND COALESCE(p.version, 0) >= %(consent_fresh_since)s FROM "consent_consentrecord" r LEFT JOIN "consent_policyversion" p ON p.id = r.policy_id WHERE r.visitor_id = v.id AND r.purpose_id = %(consent_purpose)s ORDER BY r.created_at DESC, r.id DESC LIMIT 1), %(consent_default)s) AS allowed
    FROM "personalization_visitor" v WHERE v.id = ANY(%(ids)s) AND v.merged_into_id IS NULL
),
chunk AS (SELECT id, first_seen FROM live WHERE allowed),
events AS MATERIALIZED (
    SELECT e.id, e.visitor_id, e.item_id, e.type, e.value, e.occurred_at,
           CASE WHEN e.item_id IS NOT NULL THEN round(
               (CASE e.type WHEN %(type_0)s THEN %(weight_0)s::float8 WHEN %(type_1)s THEN %(weight_1)s::float8 WHEN %(type_2)s THEN %(weight_2)s::float8 WHEN %(type_3)s THEN %(weight_3)s::float8 WHEN %(type_4)s THEN %(weight_4)s::float8 WHEN %(type_5)s THEN %(weight_5)s::float8 WHEN %(type_6)s THEN %(weight_6)s::float8 ELSE %(custom)s::float8 END) * POWER(
                   0.5::float8,
                   GREATEST(0::float8, round(date_part('epoch', %(now)s - e.occurred_at) * 1000000::float8)::bigint::float8 / 1000000::float8 / 86400::float8) / %(half_life)s::float8
               ) * 1099511627776::float8
           )::bigint END AS quanta
    FROM "personalization_event" e
    WHERE e.visitor_id BETWEEN %(first)s AND %(last)s AND e.visitor_id IN (SELECT id FROM chunk)
),
totals AS (
    SELECT visitor_id, COUNT(*) AS event_count, MIN(occurred_at) AS first_at,
           MAX(occurred_at) AS last_at,
           GREATEST(0::float8, round(date_part('epoch', %(now)s - MAX(occurred_at)) * 1000000::float8)::bigint::float8 / 1000000::float8 / 86400::float8) AS recency,
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
    FROM "content_contentitem_tags" it JOIN "content_tag" t ON t.id = it.tag_id,
         unnest(string_to_array(t.path, '/')) AS part(slug)
    WHERE it.contentitem_id IN (SELECT item_id FROM touched)
    UNION ALL
    SELECT i.id, k.key, 1 FROM "content_contentitem" i JOIN "content_contentkind" k ON k.id = i.kind_id
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
    SELECT e.visitor_id, i.slot, SUM(e.quanta)::float8 / 1099511627776::float8 AS weight
    FROM events e JOIN item_slots i ON i.item_id = e.item_id
    GROUP BY e.visitor_id, i.slot
),
weighed AS MATERIALIZED (
    SELECT s.visitor_id, k.class, k.key, s.slot, s.weight
    FROM slot_sums s JOIN keys k ON k.slot = s.slot WHERE s.weight > 0
),
tops AS (
    SELECT visitor_id, MAX(weight) AS top, COUNT(*) AS kept FROM weighed WHERE class = 0
    GROUP BY visitor_id
),
beyond AS (
    SELECT visitor_id, slot FROM (
        SELECT w.visitor_id, w.slot,
               ROW_NUMBER() OVER (PARTITION BY w.visitor_id ORDER BY w.weight DESC, w.slot) AS rank
        FROM weighed w JOIN tops t ON t.visitor_id = w.visitor_id
        WHERE w.class = 0 AND t.kept > 50
    ) AS ranked_tags WHERE rank > 50
),
tags AS (
    SELECT w.visitor_id, jsonb_object_agg(w.key, ((floor((w.weight / t.top)::float8 * 10000::float8) + (((((w.weight / t.top)::float8 * 10000::float8) - floor((w.weight / t.top)::float8 * 10000::float8)) - 0.5::float8) > 0 OR (((((w.weight / t.top)::float8 * 10000::float8) - floor((w.weight / t.top)::float8 * 10000::float8)) - 0.5::float8) = 0 AND ((((((w.weight / t.top)::float8 * 134217729::float8) - (((w.weight / t.top)::float8 * 134217729::float8) - (w.weight / t.top)::float8)) * 10000::float8 - ((w.weight / t.top)::float8 * 10000::float8)) + ((w.weight / t.top)::float8 - (((w.weight / t.top)::float8 * 134217729::float8) - (((w.weight / t.top)::float8 * 134217729::float8) - (w.weight / t.top)::float8))) * 10000::float8) > 0 OR ((((((w.weight / t.top)::float8 * 134217729::float8) - (((w.weight / t.top)::float8 * 134217729::float8) - (w.weight / t.top)::float8)) * 10000::float8 - ((w.weight / t.top)::float8 * 10000::float8)) + ((w.weight / t.top)::float8 - (((w.weight / t.top)::float8 * 134217729::float8) - (((w.weight / t.top)::float8 * 134217729::float8) - (w.weight / t.top)::float8))) * 10000::float8) = 0 AND floor((w.weight / t.top)::float8 * 10000::float8)::bigint %% 2 = 1))))::int) / 10000::float8)) AS tags
    FROM weighed w JOIN tops t ON t.visitor_id = w.visitor_id
    WHERE w.class = 0 AND (t.kept <= 50 OR NOT EXISTS (
        SELECT 1 FROM beyond b WHERE b.visitor_id = w.visitor_id AND b.slot = w.slot))
    GROUP BY w.visitor_id
),
kinds AS (
    SELECT visitor_id, to_jsonb((array_agg(key ORDER BY weight DESC, slot))[1:3]) AS kinds
    FROM weighed WHERE class = 1 GROUP BY visitor_id
),
computed AS (
    SELECT c.id AS visitor_id, c.first_seen, t.event_count, t.first_at, t.last_at, t.recency,
           t.sessions_7d, t.sessions_30d, t.sessions_90d, t.monetary,
           t.sessions_30d::float8 / (t.sessions_30d + 3)::float8 AS sessions_part,
           LEAST(t.types_30d, 4)::float8 / 4::float8 AS diversity_part,
           POWER(0.5::float8, t.recency / 7::float8) AS recency_part,
           g.tags, k.kinds
    FROM chunk c LEFT JOIN totals t ON t.visitor_id = c.id
    LEFT JOIN tags g ON g.visitor_id = c.id LEFT JOIN kinds k ON k.visitor_id = c.id
),
stored AS (
    INSERT INTO "personalization_visitorfeatures" ("visitor_id", "computed_at", "event_count", "recency_days", "sessions_7d", "sessions_30d", "sessions_90d", "monetary_90d", "r_score", "f_score", "m_score", "lifecycle", "engagement", "tag_affinities", "favourite_kinds")
    SELECT visitor_id, %(now)s, COALESCE(event_count, 0), recency,
           COALESCE(sessions_7d, 0), COALESCE(sessions_30d, 0), COALESCE(sessions_90d, 0),
           COALESCE(monetary, 0),
           CASE WHEN event_count IS NULL THEN 1 ELSE (5 - ((recency > 13.17259006825::float8)::int + (recency > 41.46418199244676::float8)::int + (recency > 71.89238502587962::float8)::int + (recency > 103.07862044738661::float8)::int)) END,
           CASE WHEN event_count IS NULL THEN 1 ELSE (1 + (sessions_90d::float8 > 0.0::float8)::int + (sessions_90d::float8 > 2.0::float8)::int + (sessions_90d::float8 > 4.0::float8)::int + (sessions_90d::float8 > 6.0::float8)::int) END,
           CASE WHEN event_count IS NULL THEN 1 ELSE (1 + (monetary::float8 > 0.0::float8)::int + (monetary::float8 > 0.0::float8)::int + (monetary::float8 > 0.0::float8)::int + (monetary::float8 > 30.922000000000015::float8)::int) END,
           CASE
               WHEN LEAST(first_seen, first_at) > %(since_7)s THEN %(new)s
               WHEN event_count IS NULL THEN %(dormant)s
               WHEN sessions_7d >= 3 THEN %(engaged)s
               WHEN last_at > %(since_30)s THEN %(active)s
               WHEN last_at <= %(since_90)s THEN %(dormant)s
               ELSE %(at_risk)s
           END,
           CASE WHEN event_count IS NULL THEN 0::float8 ELSE ((floor((0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8 * 10000::float8) + (((((0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8 * 10000::float8) - floor((0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8 * 10000::float8)) - 0.5::float8) > 0 OR (((((0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8 * 10000::float8) - floor((0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8 * 10000::float8)) - 0.5::float8) = 0 AND ((((((0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8 * 134217729::float8) - (((0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8 * 134217729::float8) - (0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8)) * 10000::float8 - ((0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8 * 10000::float8)) + ((0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8 - (((0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8 * 134217729::float8) - (((0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8 * 134217729::float8) - (0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8))) * 10000::float8) > 0 OR ((((((0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8 * 134217729::float8) - (((0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8 * 134217729::float8) - (0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8)) * 10000::float8 - ((0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8 * 10000::float8)) + ((0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8 - (((0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8 * 134217729::float8) - (((0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8 * 134217729::float8) - (0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8))) * 10000::float8) = 0 AND floor((0.5::float8 * sessions_part + 0.25::float8 * diversity_part + 0.25::float8 * recency_part)::float8 * 10000::float8)::bigint %% 2 = 1))))::int) / 10000::float8) END,
           COALESCE(tags, '{}'::jsonb), COALESCE(kinds, '[]'::jsonb)
    FROM computed
    ON CONFLICT (visitor_id) DO UPDATE SET "computed_at" = EXCLUDED."computed_at", "event_count" = EXCLUDED."event_count", "recency_days" = EXCLUDED."recency_days", "sessions_7d" = EXCLUDED."sessions_7d", "sessions_30d" = EXCLUDED."sessions_30d", "sessions_90d" = EXCLUDED."sessions_90d", "monetary_90d" = EXCLUDED."monetary_90d", "r_score" = EXCLUDED."r_score", "f_score" = EXCLUDED."f_score", "m_score" = EXCLUDED."m_score", "lifecycle" = EXCLUDED."lifecycle", "engagement" = EXCLUDED."engagement", "tag_affinities" = EXCLUDED."tag_affinities", "favourite_kinds" = EXCLUDED."favourite_kinds"
    RETURNING 1
),
dropped AS (
    DELETE FROM "personalization_visitorfeatures" f
    WHERE f.visitor_id = ANY(%(ids)s) AND f.visitor_id NOT IN (SELECT id FROM chunk)
    RETURNING 1
)
SELECT (SELECT COUNT(*) FROM stored), (SELECT COUNT(*) FROM live WHERE NOT allowed),
       (SELECT COUNT(*) FROM live), (SELECT COUNT(*) FROM dropped)

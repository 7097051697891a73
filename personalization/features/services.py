"""Profile features of visitors, computed from their events a chunk of visitors at a time.

Each feature, and its value for a visitor without events:

- ``event_count``: the visitor's events (0).
- ``recency_days``: days since the last event; an event dated after `now` counts as 0 days
  (None).
- ``sessions_7d``, ``sessions_30d``, ``sessions_90d``: sessions that started in the last 7, 30 or
  90 days. A session is a run of events less than ``TAILOR_SESSION_GAP_MINUTES`` apart; a gap of
  exactly that long starts a new session, as ``page_views_write`` counts visits (0).
- ``monetary_90d``: the sum of ``value`` of purchases in the last 90 days, each value clipped to
  Q3 + 1.5·IQR of every purchase value in the table, rounded to cents (0).
- ``r_score``, ``f_score``, ``m_score``: quintile 1 to 5 of recency (more recent is higher),
  ``sessions_90d`` and ``monetary_90d`` among visitors with events (1 each).
- ``lifecycle``: see ``lifecycle_stage`` (new when first seen under 7 days ago, else dormant).
- ``engagement``: see ``engagement_score``, in [0, 1] (0).
- ``tag_affinities``: tag slug → time-decayed interest in [0, 1], the top 50 tags ({}). An
  event's decayed weight counts in whole quanta of 2⁻⁴⁰ (sums exact in any order, so the
  database adds them without sorting): an event older than about 40 half-lives of
  ``TAILOR_AFFINITY_HALF_LIFE_DAYS`` counts as nothing.
- ``favourite_kinds``: up to 3 content kind keys by time-decayed interest ([]).

"In the last N days" always means less than N days before `now`: an event exactly 30 days old is
not in the last 30 days. Windows compare timestamps, never rounded days.

Population statistics (``PopulationStats``) are computed once per run and passed to every chunk,
so that chunks on different workers score against the same scale:

- the purchase clip bound: Q1 and Q3 (numpy's linear percentiles) of every purchase value in the
  table, or of an every-k-th-id sample of at most 100,000 of them;
- quintile edges: the 20/40/60/80 % quantiles (numpy's linear interpolation) of recency_days,
  sessions_90d and monetary_90d over non-merged visitors with events, or over an every-k-th-id
  sample of at most 100,000 of them. The population includes visitors without personalization
  consent: their events are in the table under analytics consent, and only four edges per measure
  leave the computation. A value equal to an edge falls in the quintile below it, so equal values
  always share a score. A small population still gets edges by interpolation: two visitors score
  1 and 5; one visitor (or everyone equal) gets f = m = 1 and r = 5.

Cost of a run: the statistics run four queries on PostgreSQL (two over purchases, a count of
visitors and one aggregate query with a window over the sampled visitors' events, sorted in
memory) and hold at most 100,000 values per measure; elsewhere they stream 90 days of events
through Python. A chunk of C visitors is one statement on PostgreSQL whatever C
(`in_database`): consent is checked in it (`consent.selectors.allows_sql`), the chunk's events
are read once through the visitor index and sorted in memory for sessions (a few MB per 2,000
visitors), interests are summed by hash, the rows are upserted and the rows of refused or merged
visitors deleted in the same statement; four counts come back and nothing per visitor passes
through Python. Elsewhere (SQLite for `make run`) a chunk reads its
visitors, their consent, streams their events ordered by visitor, holding one visitor's events
at a time, and upserts the rows it worked out.
"""

from personalization.features.compute import (
    features_chunk_compute,
    features_compute,
    features_compute_all,
    visitor_id_chunks,
)
from personalization.features.models import VisitorFeatures
from personalization.features.population import PopulationStats, population_stats


def features_follow_merge(*, source_id: int, target_id: int) -> None:
    """On a profile merge the merged profile's features go: the survivor's are recomputed."""
    VisitorFeatures.objects.filter(visitor_id=source_id).delete()


__all__ = [
    "PopulationStats",
    "features_chunk_compute",
    "features_compute",
    "features_compute_all",
    "features_follow_merge",
    "population_stats",
    "visitor_id_chunks",
]

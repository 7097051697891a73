"""The lifecycle baseline of score runs gives every row the stage the features rule gives it."""

from datetime import timedelta

import numpy as np

from personalization.features.scores import lifecycle_stage
from personalization.scores.frame import FEATURES, from_days, lifecycle_stages

CUTOFF = 20_000.0


def rows(recency: list[float], tenure: list[float], sessions: list[int], events: list[int]):
    matrix = np.zeros((len(recency), len(FEATURES)))
    matrix[:, FEATURES.index("recency_days")] = recency
    matrix[:, FEATURES.index("tenure_days")] = tenure
    matrix[:, FEATURES.index("active_days_7d")] = sessions
    matrix[:, FEATURES.index("events_total")] = events
    return matrix


def stage_by_rule(row: np.ndarray) -> str:
    now = from_days(CUTOFF)
    recency = row[FEATURES.index("recency_days")]
    has_events = row[FEATURES.index("events_total")] > 0
    return lifecycle_stage(
        first_seen=now - timedelta(days=float(row[FEATURES.index("tenure_days")])),
        last_event=now - timedelta(days=float(recency)) if has_events else None,
        sessions_7d=int(row[FEATURES.index("active_days_7d")]),
        now=now,
    )


def test_stages_on_the_thresholds_equal_the_features_rule():
    matrix = rows(
        recency=[1, 29.5, 30, 45, 89.9, 90, 120, 365, 2, 10],
        tenure=[6.9, 7, 40, 50, 100, 90, 200, 0, 30, 7.0],
        sessions=[0, 3, 2, 0, 0, 0, 0, 0, 3, 2],
        events=[5, 9, 3, 2, 1, 1, 4, 0, 8, 3],
    )

    assert list(lifecycle_stages(matrix, CUTOFF)) == [stage_by_rule(row) for row in matrix]


def test_stages_of_random_visitors_equal_the_features_rule():
    rng = np.random.default_rng(3)
    size = 2000
    matrix = rows(
        recency=list(rng.uniform(0, 150, size).round(1)),
        tenure=list(rng.uniform(0, 300, size).round(1)),
        sessions=list(rng.integers(0, 6, size)),
        events=list(rng.integers(0, 3, size)),
    )

    assert list(lifecycle_stages(matrix, CUTOFF)) == [stage_by_rule(row) for row in matrix]

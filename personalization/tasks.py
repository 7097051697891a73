"""Every Celery task of the app, defined in its capability's package; imported here for Celery.

Task names (`tailor.…`) are explicit, so stored schedules and queued messages keep working
whichever module a task lives in.
"""

from personalization.clustering.tasks import (
    assign_clusters_chunk,
    compute_clusters,
    fail_clusters,
    finish_clusters,
    finish_clusters_if_last,
)
from personalization.features.tasks import compute_features, compute_features_chunk
from personalization.recommendations.tasks import (
    compute_recommendations,
    compute_recommendations_chunk,
    fail_recommendations,
    finish_recommendations,
)
from personalization.scores.tasks import (
    compute_scores,
    compute_scores_chunk,
    fail_scores,
    finish_scores,
)
from personalization.segments.tasks import compute_segments, compute_segments_chunk, finish_segments
from personalization.triggers.tasks import (
    triggers_events_match,
    triggers_fire,
    triggers_watches_due,
    webhook_deliver,
    webhook_deliveries_due,
)
from personalization.visitors.tasks import delete_expired_events

__all__ = [
    "assign_clusters_chunk", "compute_clusters", "compute_features", "compute_features_chunk",
    "compute_recommendations", "compute_recommendations_chunk", "compute_scores",
    "compute_scores_chunk", "compute_segments", "compute_segments_chunk",
    "delete_expired_events", "fail_clusters", "fail_recommendations", "fail_scores",
    "finish_clusters", "finish_clusters_if_last", "finish_recommendations", "finish_scores",
    "finish_segments", "triggers_events_match", "triggers_fire", "triggers_watches_due",
    "webhook_deliver", "webhook_deliveries_due",
]  # fmt: skip

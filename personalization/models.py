"""Every model of the app, defined in its capability's package; imported here for Django."""

from personalization.clustering.models import Cluster, ClusterMembership, ClusterRun
from personalization.features.models import FeatureRun, VisitorFeatures
from personalization.recommendations.models import ModelRun, Recommendation, SimilarItem
from personalization.scores.models import ScoreRun, VisitorScore
from personalization.segments.models import (
    Segment,
    SegmentMembership,
    SegmentRun,
    SegmentSizeSnapshot,
)
from personalization.triggers.models import (
    Delivery,
    DeliveryAttempt,
    Trigger,
    TriggerCooldown,
    TriggerWatch,
    WebhookEndpoint,
)
from personalization.visitors.models import Event, Impression, Visitor, VisitorMerge

__all__ = [
    "Cluster", "ClusterMembership", "ClusterRun", "Delivery", "DeliveryAttempt", "Event",
    "FeatureRun", "Impression", "ModelRun", "Recommendation", "ScoreRun", "Segment",
    "SegmentMembership", "SegmentRun",
    "SegmentSizeSnapshot", "SimilarItem", "Trigger", "TriggerCooldown", "TriggerWatch",
    "Visitor", "VisitorFeatures", "VisitorMerge", "VisitorScore", "WebhookEndpoint",
]  # fmt: skip

"""A visitor's whole profile: traits, features, segments, clusters, scores, recent events."""

from typing import Any

from consent.selectors import consent_state
from personalization.clustering.selectors import visitor_clusters
from personalization.features.models import VisitorFeatures
from personalization.features.selectors import features_as_dict
from personalization.scores.selectors import visitor_scores
from personalization.segments.selectors import visitor_segments_profile
from personalization.visitors.models import Event, Visitor
from personalization.visitors.selectors import visitor_recent_events


def visitor_profile(visitor: Visitor, *, recent: int = 20) -> dict[str, Any]:
    """Everything a person or a program needs to understand one visitor, as plain data."""
    features = VisitorFeatures.objects.filter(visitor=visitor).first()
    return {
        "visitor_id": visitor.identifier,
        "uid": str(visitor.uid),
        "external_id": visitor.external_id,
        "user": visitor.user.get_username() if visitor.user_id else None,
        "first_seen": visitor.first_seen.isoformat(),
        "last_seen": visitor.last_seen.isoformat(),
        "sessions": visitor.sessions,
        "traits": visitor.traits,
        "features": features_as_dict(features),
        "segments": [match.key for match in visitor_segments_profile(visitor)],
        "clusters": visitor_clusters(visitor.pk, consent_state(visitor)),
        "scores": visitor_scores(visitor.pk, consent_state(visitor)),
        "consent": consent_state(visitor),
        "event_count": Event.objects.filter(visitor=visitor).count(),
        "recent_events": [
            {
                "event_id": e.event_id,
                "type": e.type,
                "item_id": e.item.external_id if e.item else None,
                "value": str(e.value) if e.value is not None else None,
                "occurred_at": e.occurred_at.isoformat(),
            }
            for e in visitor_recent_events(visitor, recent)
        ],
    }

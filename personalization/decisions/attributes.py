"""The attribute dict that targeting conditions see, built once per visitor and request.

Its keys are exactly the attribute catalogue's (`personalization.rules.catalogue.ATTRIBUTE_KEYS`):
request context, traits, features, `segments` (a lazy set of segment keys), clusters, scores,
consent,
experiment variations, `visitor_id` and `known`.
"""

from collections.abc import Mapping
from typing import Any

from consent.purposes import PERSONALIZATION
from consent.selectors import consent_state
from personalization.clustering.selectors import visitor_clusters
from personalization.decisions.snapshot import Snapshot
from personalization.features.models import VisitorFeatures
from personalization.rules.attributes import attributes_build
from personalization.scores.selectors import visitor_scores
from personalization.segments.selectors import visitor_segments, visitor_segments_stored
from personalization.visitors.models import Visitor


def visitor_attributes(
    visitor: Visitor | None,
    context: Mapping[str, Any] | None = None,
    *,
    features: VisitorFeatures | None = None,
    consent: Mapping[str, bool] | None = None,
    snapshot: Snapshot | None = None,
) -> dict[str, Any]:
    """Everything a condition can test about `visitor` in this request's `context`.

    With the visitor's `snapshot`, memberships, clusters and scores come from it (no query).
    """
    if visitor is not None and features is None:
        try:
            features = visitor.features  # loaded with the visitor, or one query
        except VisitorFeatures.DoesNotExist:
            features = None
    consent = consent if consent is not None else consent_state(visitor)
    if snapshot is not None and visitor is not None:
        segments = visitor_segments_stored(visitor, snapshot.memberships)
        allowed = consent.get(PERSONALIZATION, False)
        sourced = {
            "clusters": list(snapshot.clusters) if allowed else [],
            "scores": dict(snapshot.scores) if allowed else {},
        }
    else:
        segments = visitor_segments(visitor)
        sourced = {
            "clusters": visitor_clusters(visitor.pk if visitor else None, consent),
            "scores": visitor_scores(visitor.pk if visitor else None, consent),
        }
    attributes = attributes_build(
        visitor=visitor, features=features, consent=consent, segments=segments,
        sourced=sourced, context=context,
    )  # fmt: skip
    segments.bind(attributes)  # live segments read this very dict, segments included
    return attributes

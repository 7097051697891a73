"""The attribute dict that conditions meet, built from plain data with exactly the catalogue's keys.

Callers gather the data (a visitor, their features, consent, segments, request context, values
from attribute sources such as clusters and scores) and this module lays it out as the catalogue
(`personalization.rules.catalogue`) describes: same keys, same order, defaults for what is
missing. Nothing here queries.
"""

from collections.abc import Mapping
from typing import Any

from personalization.rules.catalogue import CONTEXT_KEYS, FEATURE_DEFAULTS


def feature_attributes(features: Any) -> dict[str, Any]:
    """The feature keys from a `VisitorFeatures` row; `FEATURE_DEFAULTS` for None."""
    if features is None:
        defaults = dict(FEATURE_DEFAULTS)
        defaults.update(favourite_kinds=[], affinity={})
        return defaults
    return {
        "event_count": features.event_count,
        "recency_days": features.recency_days,
        "sessions_7d": features.sessions_7d,
        "sessions_30d": features.sessions_30d,
        "sessions_90d": features.sessions_90d,
        "monetary_90d": float(features.monetary_90d),
        "r_score": features.r_score,
        "f_score": features.f_score,
        "m_score": features.m_score,
        "rfm": features.rfm,
        "lifecycle": features.lifecycle,
        "engagement": features.engagement,
        "favourite_kinds": list(features.favourite_kinds or []),
        "affinity": dict(features.tag_affinities or {}),
    }


def attributes_build(
    *,
    visitor: Any,
    features: Any,
    consent: Mapping[str, bool],
    segments: Any,
    sourced: Mapping[str, Any] | None = None,
    experiment: Mapping[str, int] | None = None,
    context: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The attribute dict with exactly `ATTRIBUTE_KEYS`; context keys not given are None."""
    context = context or {}
    attributes: dict[str, Any] = {key: context.get(key) for key in CONTEXT_KEYS}
    sessions = visitor.sessions if visitor is not None else None
    attributes.update(
        session=context.get("session", sessions),
        visit_count=context.get("visit_count", sessions),
        visitor_id=visitor.identifier if visitor is not None else None,
        known=bool(visitor is not None and (visitor.external_id or visitor.user_id)),
        traits=dict(visitor.traits or {}) if visitor is not None else {},
    )
    attributes.update(feature_attributes(features))
    attributes.update(
        segments=segments,
        clusters=[],
        scores={},
        consent=dict(consent),
        experiment=dict(experiment or {}),
    )
    for key, value in (sourced or {}).items():  # e.g. clusters (see `rules.sources`)
        if key in attributes:
            attributes[key] = value
    return attributes

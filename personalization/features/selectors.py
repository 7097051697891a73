"""Reads of visitors' features, the hot path's visitor-with-features query among them."""

import uuid
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest

from config.sql import CompiledQuery
from personalization.features.models import VisitorFeatures
from personalization.visitors.models import Visitor
from personalization.visitors.selectors import COOKIE_SALT, visitor_survivor

_VISITOR_FIELDS = [f.attname for f in Visitor._meta.concrete_fields]
_FEATURE_FIELDS = [f.attname for f in VisitorFeatures._meta.concrete_fields]
_FEATURE_LOOKUPS = [f"features__{f.name}" for f in VisitorFeatures._meta.concrete_fields]
_BY_UID = CompiledQuery(
    lambda uid: Visitor.objects.filter(uid=uid).values_list(*_VISITOR_FIELDS, *_FEATURE_LOOKUPS),
    marker=uuid.UUID(int=0x7A110),
)


def visitor_with_features(uid: uuid.UUID) -> Visitor | None:
    """The visitor with this cookie id, its features loaded in the same query (or None).

    Every personalized page starts here, so the query is compiled once (`config.sql`); the
    features come along because the page's decisions need them and a join costs no round trip.
    """
    rows = _BY_UID.rows(uid)
    if not rows:
        return None
    row, split = rows[0], len(_VISITOR_FIELDS)
    visitor = Visitor.from_db(_BY_UID.using, _VISITOR_FIELDS, row[:split])
    features = None
    if row[split] is not None:  # the features' id: the visitor has features
        features = VisitorFeatures.from_db(_BY_UID.using, _FEATURE_FIELDS, row[split:])
        features._state.fields_cache["visitor"] = visitor
    visitor._state.fields_cache["features"] = features  # as select_related leaves it
    return visitor


def visitor_from_request(request: HttpRequest) -> Visitor | None:
    """The visitor of a request: the logged-in user's profile, else the signed cookie's."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        visitor = Visitor.objects.filter(user=user).first()
        if visitor is not None:
            return visitor
    try:
        uid = uuid.UUID(request.get_signed_cookie(settings.TAILOR_VISITOR_COOKIE, salt=COOKIE_SALT))
    except (KeyError, ValueError, signing.BadSignature):
        return None
    visitor = visitor_with_features(uid)
    return visitor_survivor(visitor) if visitor is not None else None


def features_as_dict(features: VisitorFeatures | None) -> dict[str, Any] | None:
    if features is None:
        return None
    return {
        "computed_at": features.computed_at.isoformat(),
        "event_count": features.event_count,
        "recency_days": features.recency_days,
        "sessions_7d": features.sessions_7d,
        "sessions_30d": features.sessions_30d,
        "sessions_90d": features.sessions_90d,
        "monetary_90d": float(features.monetary_90d),
        "rfm": features.rfm,
        "lifecycle": features.lifecycle,
        "engagement": features.engagement,
        "tag_affinities": features.tag_affinities,
        "favourite_kinds": features.favourite_kinds,
    }

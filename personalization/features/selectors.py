"""Reads of visitors' features, the hot path's visitor-with-features query among them."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass
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


def visitor_row(uid: uuid.UUID) -> tuple[Any, ...] | None:
    """The row of the visitor with this cookie id and their features' columns (or None).

    Every personalized page without a valid snapshot starts here, so the query is compiled once
    (`config.sql`); the features come along because the page's decisions need them and a join
    costs no round trip. `visitor_from_row` makes the visitor of it; a snapshot keeps the row.
    """
    rows = _BY_UID.rows(uid)
    return rows[0] if rows else None


def visitor_from_row(row: tuple[Any, ...]) -> Visitor:
    """The visitor of a `visitor_row`, their features loaded (as select_related leaves them)."""
    split = len(_VISITOR_FIELDS)
    visitor = Visitor.from_db(_BY_UID.using, _VISITOR_FIELDS, row[:split])
    features = None
    if row[split] is not None:  # the features' id: the visitor has features
        features = VisitorFeatures.from_db(_BY_UID.using, _FEATURE_FIELDS, row[split:])
        features._state.fields_cache["visitor"] = visitor
    visitor._state.fields_cache["features"] = features
    return visitor


def visitor_with_features(uid: uuid.UUID) -> Visitor | None:
    """The visitor with this cookie id, its features loaded in the same query (or None)."""
    row = visitor_row(uid)
    return visitor_from_row(row) if row is not None else None


@dataclass(frozen=True)
class Identified:
    """Who a request is, and whether its visitor cookie names a profile it may not use."""

    visitor: Visitor | None
    cookie_refused: bool = False


def _cookie_uid(request: HttpRequest) -> uuid.UUID | None:
    try:
        value = request.get_signed_cookie(settings.TAILOR_VISITOR_COOKIE, salt=COOKIE_SALT)
        return uuid.UUID(value)
    except (KeyError, ValueError, signing.BadSignature):
        return None


def visitor_identify(
    request: HttpRequest, *, lookup: Callable[[uuid.UUID], Visitor | None] = visitor_with_features
) -> Identified:
    """The visitor of a request: the logged-in user's profile, else the signed cookie's.

    A profile that belongs to a user is that user's alone: a cookie naming it (a shared browser
    after a logout, a login as someone else) identifies nobody, and the cookie is refused so
    that the browser starts anonymous. A logged-in user without a profile yet may use the
    cookie's anonymous one, which their login claims. `lookup` finds the cookie's visitor (the
    decision layer's reads it from the visitor's snapshot when it can).
    """
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    if user_id is not None:
        own = Visitor.objects.filter(user_id=user_id).first()
        if own is not None:
            return Identified(own)
    uid = _cookie_uid(request)
    found = lookup(uid) if uid is not None else None
    visitor = visitor_survivor(found) if found is not None else None
    if visitor is not None and visitor.user_id is not None and visitor.user_id != user_id:
        return Identified(None, cookie_refused=True)
    return Identified(visitor)


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

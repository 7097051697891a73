"""Reads of visitors and their data."""

import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import Case, Max, When
from django.http import HttpRequest

from config.sql import CompiledQuery
from consent.selectors import consent_state
from content.models import ContentItem
from content.selectors import items_published
from personalization.clusters import visitor_clusters
from personalization.models import Event, Visitor, VisitorFeatures
from personalization.segments import visitor_segments_profile

COOKIE_SALT = "tailor.visitor"


def visitor_resolve(identifier: str) -> Visitor | None:
    """The visitor named by an external id or cookie id; a merged profile gives its survivor."""
    visitor = Visitor.objects.filter(external_id=identifier).first()
    if visitor is None:
        try:
            visitor = Visitor.objects.filter(uid=uuid.UUID(identifier)).first()
        except ValueError:
            return None
    while visitor is not None and visitor.merged_into_id is not None:
        visitor = Visitor.objects.get(pk=visitor.merged_into_id)
    return visitor


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
    if visitor is not None and visitor.merged_into_id is not None:
        return visitor_resolve(str(visitor.uid))
    return visitor


@dataclass(frozen=True)
class Interactions:
    """The items a visitor has interacted with, and the one they viewed last."""

    seen: frozenset[int]
    last_viewed: int | None


INTERACTIONS_MEMO = "_tailor_interactions"
_INTERACTIONS = CompiledQuery(
    lambda visitor_id: (
        Event.objects.filter(visitor_id=visitor_id, item__isnull=False)
        .values("item_id")
        .annotate(viewed=Max(Case(When(type=Event.Type.VIEW, then="occurred_at"))))
        .values_list("item_id", "viewed")
    )
)


def visitor_interactions(visitor: Visitor) -> Interactions:
    """Items the visitor interacted with and viewed last: one grouped query per Visitor object.

    A page's recommendation rail and its "because you viewed" both ask; the Visitor object lives
    for one request, so the answer is remembered on it.
    """
    memo = visitor.__dict__.get(INTERACTIONS_MEMO)
    if memo is None:
        rows = _INTERACTIONS.rows(visitor.pk)
        seen, last_viewed, last_at = set(), None, None
        for item_id, viewed in rows:
            seen.add(item_id)
            if viewed is not None and (last_at is None or viewed > last_at):
                last_viewed, last_at = item_id, viewed
        memo = Interactions(seen=frozenset(seen), last_viewed=last_viewed)
        visitor.__dict__[INTERACTIONS_MEMO] = memo
    return memo


def visitor_last_viewed_item(visitor: Visitor) -> ContentItem | None:
    """The item the visitor viewed last, if it is still published."""
    item_id = visitor_interactions(visitor).last_viewed
    if item_id is None:
        return None
    return items_published().filter(pk=item_id).first()


def visitor_recent_events(visitor: Visitor, limit: int = 20) -> list[Event]:
    return list(
        Event.objects.filter(visitor=visitor)
        .select_related("item")
        .order_by("-occurred_at")[:limit]
    )


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

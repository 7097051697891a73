"""Writes of visitor profiles: identification from a request, page views, merge on login."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone

from consent.models import ConsentRecord
from experiments.services import exposures_merge
from personalization.models import (
    Event,
    Impression,
    Segment,
    SegmentMembership,
    Visitor,
    VisitorFeatures,
    VisitorMerge,
)


def visitor_touch(*, visitor: Visitor, now=None) -> Visitor:
    """Note a visit: last seen now, and a new session after 30 minutes of inactivity."""
    now = now or timezone.now()
    gap = timedelta(minutes=settings.TAILOR_SESSION_GAP_MINUTES)
    new_session = visitor.sessions == 0 or now - visitor.last_seen >= gap
    updates = {"last_seen": now}
    if new_session:
        updates["sessions"] = F("sessions") + 1
    Visitor.objects.filter(pk=visitor.pk).update(**updates)
    visitor.last_seen = now
    if new_session:
        visitor.sessions += 1
    return visitor


def visitor_for_request(request: HttpRequest) -> Visitor:
    """The request's visitor, created (and its cookie set on the response) when there is none.

    Call only once the visitor's consent allows storing a profile.
    """
    visitor = getattr(request, "visitor", None)
    if visitor is not None:
        return visitor
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        visitor, _ = Visitor.objects.get_or_create(user=user)
    else:
        visitor = Visitor.objects.create()
    request.visitor = visitor
    request.tailor_set_cookie = True
    return visitor


def page_view_record(*, request: HttpRequest, visitor: Visitor, item=None) -> Event:
    """Store a server-side page view with the request context."""
    now = timezone.now()
    visitor_touch(visitor=visitor, now=now)
    context = dict(request.tailor_context)
    context["session"] = visitor.sessions
    context["visit_count"] = visitor.sessions
    return Event.objects.create(
        event_id=f"pv-{uuid.uuid4().hex}", visitor=visitor, type=Event.Type.VIEW, item=item,
        properties={"path": request.path}, context=context, occurred_at=now, received_at=now,
    )  # fmt: skip


def impressions_record(*, rows: list[tuple[int, int, str]], now=None) -> int:
    """Store (visitor id, item id, slot) impressions in one insert; they feed frequency caps."""
    now = now or timezone.now()
    Impression.objects.bulk_create(
        Impression(visitor_id=visitor_id, item_id=item_id, slot=slot, shown_at=now)
        for visitor_id, item_id, slot in rows
    )
    return len(rows)


@transaction.atomic
def visitor_merge(*, source: Visitor, target: Visitor) -> VisitorMerge | None:
    """Merge an anonymous profile into another: events, consent and traits move. Idempotent."""
    if source.pk == target.pk:
        return None
    existing = VisitorMerge.objects.filter(source_uid=source.uid).first()
    if existing is not None or source.merged_into_id is not None:
        return existing
    moved = Event.objects.filter(visitor=source).update(visitor=target)
    ConsentRecord.objects.filter(visitor=source).update(visitor=target)
    Impression.objects.filter(visitor=source).update(visitor=target)
    exposures_merge(source=source, target=target)  # keeps variations sticky across the merge
    VisitorFeatures.objects.filter(visitor=source).delete()
    # Static lists follow the person; rule memberships are recomputed for the survivor.
    kept = SegmentMembership.objects.filter(visitor=target).values("segment_id")
    SegmentMembership.objects.filter(visitor=source, segment__kind=Segment.Kind.STATIC).exclude(
        segment_id__in=kept
    ).update(visitor=target)
    SegmentMembership.objects.filter(visitor=source).delete()
    target.traits = {**source.traits, **target.traits}  # what the known profile says wins
    target.first_seen = min(target.first_seen, source.first_seen)
    target.last_seen = max(target.last_seen, source.last_seen)
    target.sessions += source.sessions
    target.save(update_fields=["traits", "first_seen", "last_seen", "sessions"])
    source.merged_into = target
    source.traits = {}
    source.save(update_fields=["merged_into", "traits"])
    return VisitorMerge.objects.create(source_uid=source.uid, target=target, events_moved=moved)


def visitor_login(*, request: HttpRequest, user) -> Visitor | None:
    """On login the cookie's anonymous profile merges into the user's, which the cookie names."""
    anonymous = getattr(request, "visitor", None)
    own = Visitor.objects.filter(user=user).first()
    if anonymous is None:
        if own is not None:
            request.visitor = own
            request.tailor_set_cookie = True
        return own
    if own is None:
        if anonymous.user_id is None:
            anonymous.user = user
            anonymous.save(update_fields=["user"])
        return anonymous
    visitor_merge(source=anonymous, target=own)
    request.visitor = own
    request.tailor_set_cookie = True
    return own

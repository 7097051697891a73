"""Finding what fires: events, events not followed in time, segment changes, score crossings.

Nothing here sends or claims cooldowns: each function returns `Firing`s for `firings_fire`.

- Events: the ingest listener queues the (source, event id) pairs of event types some trigger
  reads; `events_detect` reads them in one query and evaluates each trigger's condition
  (`personalization.rules`) on the event's attributes: `type`, `item` (external id), `value`,
  `properties`, `channel`.
- Not followed: a start event upserts a watch (trigger, visitor) due when the wait ends; a
  follow-up event deletes the visitor's watches it ends. `watches_due` reads only due watches
  (index on `due_at`), checks once more that no follow-up came in time (the events index on
  visitor and time, one query per batch), deletes them and fires the rest.
- Segments: the membership listener is handed the pairs just added and deleted by a segment
  run: nothing is evaluated again.
- Scores: when a score run becomes current, one query per score trigger joins its scores to the
  previous run's and keeps the visitors on the other side of the threshold now. A visitor
  without a previous score has crossed nothing.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Q, Subquery

from personalization.scores.models import VisitorScore
from personalization.triggers.models import Trigger, TriggerWatch
from personalization.triggers.selectors import TriggerDefinition, trigger_definitions
from personalization.triggers.services import Firing
from personalization.visitors.models import Event

WATCH_BATCH = 1000


def event_attributes(event: Event) -> dict[str, Any]:
    """What an event trigger's condition reads."""
    return {
        "type": event.type,
        "item": event.item.external_id if event.item_id else None,
        "value": float(event.value) if event.value is not None else None,
        "properties": event.properties or {},
        "channel": (event.context or {}).get("source", ""),
    }


def event_facts(event: Event, attributes: dict[str, Any]) -> dict[str, Any]:
    return {**attributes, "event_id": event.event_id, "occurred_at": event.occurred_at.isoformat()}


def events_detect(*, source: str, event_ids: list[str]) -> list[Firing]:
    """Event triggers whose condition these events meet; watches started and ended."""
    definitions = trigger_definitions()
    events = (
        Event.objects.filter(
            source=source, event_id__in=event_ids, type__in=definitions.event_types
        )
        .select_related("item")
        .order_by("occurred_at", "pk")
    )
    firings: list[Firing] = []
    started: dict[tuple[int, int], TriggerWatch] = {}
    ended: list[tuple[int, int, datetime]] = []
    for event in events:
        attributes = event_attributes(event)
        for d in definitions.on_event.get(event.type, ()):
            if d.evaluate(attributes):
                firings.append(
                    Firing(d.id, event.visitor_id, {"event": event_facts(event, attributes)})
                )
        for d in definitions.watch_start.get(event.type, ()):
            if d.evaluate(attributes) and d.within is not None:
                started[(d.id, event.visitor_id)] = TriggerWatch(
                    trigger_id=d.id, visitor_id=event.visitor_id, started_at=event.occurred_at,
                    due_at=event.occurred_at + d.within,
                    facts={"event": event_facts(event, attributes)},
                )  # fmt: skip
        ended.extend(
            (d.id, event.visitor_id, event.occurred_at)
            for d in definitions.watch_end.get(event.type, ())
        )
    _watches_write(list(started.values()), ended)
    return firings


def _watches_write(started: list[TriggerWatch], ended: list[tuple[int, int, datetime]]) -> None:
    """Start (or restart: the latest start counts) watches, then end those followed up."""
    with transaction.atomic():
        if started:
            TriggerWatch.objects.bulk_create(
                started, update_conflicts=True, unique_fields=["trigger", "visitor"],
                update_fields=["started_at", "due_at", "facts"],
            )  # fmt: skip
        if ended:
            followed = Q()
            for trigger_id, visitor_id, at in ended:
                followed |= Q(trigger_id=trigger_id, visitor_id=visitor_id, started_at__lte=at)
            TriggerWatch.objects.filter(followed).delete()


def watches_due(*, now: datetime, limit: int = WATCH_BATCH) -> tuple[list[Firing], int]:
    """Take the due watches (at most `limit`); the firings of those not followed, and how many
    were taken."""
    definitions = trigger_definitions().by_id
    with transaction.atomic():
        due = list(
            TriggerWatch.objects.filter(due_at__lte=now)
            .order_by("due_at")
            .select_for_update(skip_locked=True)[:limit]
        )
        if not due:
            return [], 0
        followed = _follow_ups(due, definitions)
        TriggerWatch.objects.filter(pk__in=[w.pk for w in due]).delete()
    firings = []
    for watch in due:
        d = definitions.get(watch.trigger_id)
        if d is None or watch.pk in followed:
            continue
        facts = {
            **watch.facts, "not_followed_by": d.followed_by_type,
            "within_seconds": int(d.within.total_seconds()) if d.within else None,
        }  # fmt: skip
        firings.append(Firing(watch.trigger_id, watch.visitor_id, facts))
    return firings, len(due)


def _follow_ups(due: list[TriggerWatch], definitions: dict[int, TriggerDefinition]) -> set[int]:
    """The watches whose follow-up event came in time after all (one query)."""
    types = {d.followed_by_type for w in due if (d := definitions.get(w.trigger_id))}
    if not types:
        return set()
    times: defaultdict[tuple[int, str], list[datetime]] = defaultdict(list)
    rows = Event.objects.filter(
        visitor_id__in={w.visitor_id for w in due}, type__in=types,
        occurred_at__gte=min(w.started_at for w in due),
    ).values_list("visitor_id", "type", "occurred_at")  # fmt: skip
    for visitor_id, kind, at in rows:
        times[(visitor_id, kind)].append(at)
    followed = set()
    for watch in due:
        d = definitions.get(watch.trigger_id)
        if d is not None and any(
            watch.started_at <= at <= watch.due_at
            for at in times[(watch.visitor_id, d.followed_by_type)]
        ):
            followed.add(watch.pk)
    return followed


def segment_changes_detect(
    *, joined: Iterable[tuple[int, int]], left: Iterable[tuple[int, int]], at: datetime
) -> list[Firing]:
    """Segment triggers for the memberships just added (entered) and deleted (left)."""
    on_segment = trigger_definitions().on_segment
    if not on_segment:
        return []
    firings = []
    for pairs, kind, change in (
        (joined, Trigger.Kind.SEGMENT_ENTER, "entered"),
        (left, Trigger.Kind.SEGMENT_LEAVE, "left"),
    ):
        for visitor_id, segment_id in pairs:
            for d in on_segment.get((segment_id, kind), ()):
                facts = {"segment": d.segment_key, "change": change, "at": at.isoformat()}
                firings.append(Firing(d.id, visitor_id, facts))
    return firings


def score_crossings_detect(*, previous_run_id: int, run_id: int) -> list[Firing]:
    """Score triggers for visitors whose score crossed the threshold between the two runs."""
    firings = []
    for d in trigger_definitions().on_score:
        previous = VisitorScore.objects.filter(
            run_id=previous_run_id, target=d.score_target, visitor_id=OuterRef("visitor_id")
        ).values("probability")[:1]
        scores = VisitorScore.objects.filter(run_id=run_id, target=d.score_target).annotate(
            previous=Subquery(previous)
        )
        if d.direction == Trigger.Direction.DOWN:
            crossed = scores.filter(probability__lt=d.threshold, previous__gte=d.threshold)
        else:
            crossed = scores.filter(probability__gte=d.threshold, previous__lt=d.threshold)
        for visitor_id, before, now in crossed.values_list("visitor_id", "previous", "probability"):
            facts = {
                "score": d.score_target, "threshold": d.threshold, "direction": d.direction,
                "previous": round(before, 4), "current": round(now, 4),
            }  # fmt: skip
            firings.append(Firing(d.id, visitor_id, facts))
    return firings

"""Reads of triggers: the active definitions, kept per process, and deliveries.

The ingest path asks `trigger_definitions().event_types` for every batch of events, so the
definitions live in memory, tagged with a version in the shared cache (`config.versioning`):
a saved trigger or endpoint reaches every process within a second, and a batch whose event
types no trigger reads costs a set intersection.
"""

import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import QuerySet

from config.versioning import SharedVersion
from personalization.rules import compile_condition
from personalization.triggers.models import Delivery, Trigger

TRIGGERS_VERSION = SharedVersion("tailor:triggers:version")
Kind = Trigger.Kind


@dataclass(frozen=True)
class TriggerDefinition:
    """What detection needs of one active trigger, without the database."""

    id: int
    key: str
    kind: str
    purpose: str
    cooldown: timedelta
    active_from: datetime | None
    active_until: datetime | None
    segment_id: int | None
    segment_key: str
    event_type: str
    evaluate: Callable[[dict[str, Any]], bool]
    followed_by_type: str
    within: timedelta | None
    score_target: str
    threshold: float | None
    direction: str

    def active_at(self, now: datetime) -> bool:
        return (self.active_from is None or self.active_from <= now) and (
            self.active_until is None or now < self.active_until
        )


@dataclass(frozen=True)
class TriggerDefinitions:
    token: int
    by_id: Mapping[int, TriggerDefinition]
    event_types: frozenset[str]  # every type an event or not-followed trigger reads
    on_event: Mapping[str, tuple[TriggerDefinition, ...]]  # event type → event triggers
    watch_start: Mapping[str, tuple[TriggerDefinition, ...]]  # type → not-followed triggers
    watch_end: Mapping[str, tuple[TriggerDefinition, ...]]  # followed-by type → the same
    on_segment: Mapping[tuple[int, str], tuple[TriggerDefinition, ...]]  # (segment, kind)
    on_score: tuple[TriggerDefinition, ...]


_local: TriggerDefinitions | None = None
_lock = threading.Lock()


def triggers_cache_bump() -> None:
    """Make every process reload trigger definitions, now and again once the write commits."""
    global _local
    _local = None
    TRIGGERS_VERSION.bump_on_write()


def triggers_cache_clear() -> None:
    """Forget this process's definitions (tests: a rolled-back trigger leaves a stale copy)."""
    global _local
    _local = None
    TRIGGERS_VERSION.forget()


def _definition(trigger: Trigger) -> TriggerDefinition:
    return TriggerDefinition(
        id=trigger.pk, key=trigger.key, kind=trigger.kind, purpose=trigger.purpose,
        cooldown=trigger.cooldown, active_from=trigger.active_from,
        active_until=trigger.active_until, segment_id=trigger.segment_id,
        segment_key=trigger.segment.key if trigger.segment_id else "",
        event_type=trigger.event_type, evaluate=compile_condition(trigger.condition or {}),
        followed_by_type=trigger.followed_by_type,
        within=timedelta(seconds=trigger.within_seconds) if trigger.within_seconds else None,
        score_target=trigger.score_target, threshold=trigger.threshold,
        direction=trigger.direction,
    )  # fmt: skip


def _load(token: int) -> TriggerDefinitions:
    """Active triggers with at least one active endpoint, grouped by what fires them."""
    triggers = (
        Trigger.objects.filter(is_active=True, endpoints__is_active=True)
        .select_related("segment")
        .distinct()
    )
    by_id = {t.pk: _definition(t) for t in triggers}
    groups: dict[str, defaultdict[Any, list[TriggerDefinition]]] = {
        name: defaultdict(list) for name in ("event", "start", "end", "segment")
    }
    for d in by_id.values():
        if d.kind == Kind.EVENT:
            groups["event"][d.event_type].append(d)
        elif d.kind == Kind.EVENT_NOT_FOLLOWED:
            groups["start"][d.event_type].append(d)
            groups["end"][d.followed_by_type].append(d)
        elif d.kind in (Kind.SEGMENT_ENTER, Kind.SEGMENT_LEAVE):
            groups["segment"][(d.segment_id, d.kind)].append(d)

    def frozen(name: str) -> dict[Any, tuple[TriggerDefinition, ...]]:
        return {key: tuple(values) for key, values in groups[name].items()}

    return TriggerDefinitions(
        token=token, by_id=by_id,
        event_types=frozenset(groups["event"]) | frozenset(groups["start"])
        | frozenset(groups["end"]),
        on_event=frozen("event"), watch_start=frozen("start"), watch_end=frozen("end"),
        on_segment=frozen("segment"),
        on_score=tuple(d for d in by_id.values() if d.kind == Kind.SCORE_CROSSES),
    )  # fmt: skip


def trigger_definitions() -> TriggerDefinitions:
    """The active trigger definitions; reloaded when any process saved a trigger or endpoint."""
    global _local
    token = TRIGGERS_VERSION.current()
    current = _local
    if current is not None and current.token == token:
        return current
    with _lock:
        if _local is None or _local.token != token:
            _local = _load(token)
        return _local


def deliveries_due(*, now: datetime, limit: int) -> list[int]:
    """Deliveries to send now: pending and due, or claimed by a worker that was lost."""
    pending = Delivery.objects.filter(
        status=Delivery.Status.PENDING, next_attempt_at__lte=now
    ).order_by("next_attempt_at")
    lost = Delivery.objects.filter(
        status=Delivery.Status.SENDING, next_attempt_at__lte=now, claimed_until__lt=now
    )
    ids = list(pending.values_list("pk", flat=True)[:limit])
    return ids + list(lost.values_list("pk", flat=True)[: max(0, limit - len(ids))])


def delivery_log(delivery_id: int) -> QuerySet:
    """A delivery's attempts, newest first."""
    return Delivery.objects.get(pk=delivery_id).attempt_log.all()

"""Storing events in bulk: the API, the tracker and `import_events`.

Cost of `events_ingest`: a fixed number of queries whatever the number of events — the visitors
(one select; an insert and a select more when some are new), the items (one select), consent
(`consent_states`: one cache read, three selects on a miss), the insert of the events (one
statement on PostgreSQL that also says which were new: `event_store.events_insert`) and one
update of the visitors' first and last seen. Memory holds the events passed in.
"""

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from consent.purposes import ANALYTICS
from consent.selectors import consent_states, default_state
from consent.selectors import purposes as all_purposes
from content.models import ContentItem
from personalization.visitors.event_store import (
    EventRow,
    event_of,
    events_insert,
    visitors_seen_widen,
)
from personalization.visitors.models import Event, Visitor
from personalization.visitors.selectors import external_id_problem, visitors_survivors
from personalization.visitors.snapshots import snapshots_invalidate

NO_CONSENT = "no analytics consent"
MAX_FUTURE = timedelta(minutes=5)
# Epoch seconds; anything this large was almost surely sent in milliseconds.
_EPOCH = re.compile(r"-?\d+(\.\d+)?")
_MILLISECONDS = 10**11
_VALUE_STEP = Decimal("0.0001")  # Event.value keeps 4 decimal places of 14 digits
_VALUE_LIMIT = Decimal(10) ** 10
INSERT_BATCH_SIZE = 5000

# What follows stored events, registered by packages above (from `AppConfig.ready()`):
# name → listener(events=[Event, …], source=…), called inside the ingest's transaction with the
# events just inserted. A listener must stay cheap — queue work with `transaction.on_commit`,
# never send or compute inline — since it runs on every events request and import batch.
IngestListener = Callable[..., object]
_ingest_listeners: dict[str, IngestListener] = {}


def ingest_listener_register(name: str, listener: IngestListener) -> None:
    """Have `listener(events=, source=)` called with every batch of newly stored events."""
    _ingest_listeners[name] = listener


@dataclass
class IngestResult:
    """New events stored, duplicates ignored, and the refused events by index with why."""

    accepted: int = 0
    duplicates: int = 0
    refused: dict[int, dict[str, list[str]]] = field(default_factory=dict)


def occurred_at_parse(value: Any, *, now: datetime) -> datetime:
    """An ISO 8601 time or epoch seconds as an aware datetime; ValueError says what is wrong."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("expected an ISO 8601 time or epoch seconds")
    text = value.strip() if isinstance(value, str) else ""
    if not isinstance(value, str) or _EPOCH.fullmatch(text):
        seconds = float(value)
        if abs(seconds) >= _MILLISECONDS:
            raise ValueError(f"{value} is too large for epoch seconds (milliseconds?)")
        try:
            moment = datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, ValueError, OSError) as exc:
            raise ValueError(f"{value} is not a time in epoch seconds") from exc
    else:
        try:
            moment = parse_datetime(text)
        except ValueError:  # well formed, but no such day or hour
            moment = None
        if moment is None:
            raise ValueError(f"{text[:40]!r} is not an ISO 8601 time or epoch seconds")
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
    if moment > now + MAX_FUTURE:
        raise ValueError("more than 5 minutes in the future")
    return moment


def browser_event_check(
    event: dict[str, Any], *, time_sent: bool, now: datetime
) -> dict[str, list[str]]:
    """What a browser may not claim, by field; an allowed earlier time is kept, a later one
    becomes `now`.

    Anyone can post to the events endpoint from a browser console, so by default a browser
    sends no purchases (revenue comes from the shop's server, with an API key) and no times of
    its own (the server stamps its events on arrival): `TAILOR_BROWSER_PURCHASES` and
    `TAILOR_BROWSER_BACKDATE_SECONDS` relax this for sites that need it.
    """
    errors: dict[str, list[str]] = {}
    if event.get("type") == Event.Type.PURCHASE and not settings.TAILOR_BROWSER_PURCHASES:
        errors["type"] = [
            "a browser cannot send purchases: send them from your server with an API key "
            "(TAILOR_BROWSER_PURCHASES allows them)"
        ]
    if time_sent:
        backdate = settings.TAILOR_BROWSER_BACKDATE_SECONDS
        if backdate <= 0:
            errors["occurred_at"] = [
                "a browser cannot set the time of its events: they are stamped on arrival "
                "(TAILOR_BROWSER_BACKDATE_SECONDS allows earlier times)"
            ]
        elif event["occurred_at"] < now - timedelta(seconds=backdate):
            errors["occurred_at"] = [f"more than {backdate} seconds before it arrived"]
        else:
            event["occurred_at"] = min(event["occurred_at"], now)
    return errors


def value_parse(value: Any) -> Decimal | None:
    """An event value (number or numeric text; empty is None); ValueError says what is wrong."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError("must be a number")
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        raise ValueError(f"{str(value)[:40]!r} is not a number") from None
    if not number.is_finite():
        raise ValueError("must be a finite number")
    if number != number.quantize(_VALUE_STEP):
        raise ValueError("at most 4 decimal places")
    if abs(number) >= _VALUE_LIMIT:
        raise ValueError("must be less than 10,000,000,000 in size")
    return number


def event_id_derive(
    *, visitor: str, type: str, item_id: str | None, occurred_at: datetime, value: Decimal | None
) -> str:
    """A deterministic id for an event sent without one, so that sending it again adds nothing."""
    amount = "" if value is None else format(value.quantize(_VALUE_STEP), "f")
    parts = (visitor, type, item_id or "", occurred_at.astimezone(UTC).isoformat(), amount)
    return "sha256-" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def events_ingest(
    *,
    events: list[dict[str, Any]],
    visitor: Visitor | None,
    source: str,
    context: Mapping[str, Any] | None = None,
) -> IngestResult:
    """Store validated events in bulk: only known items, only visitors who allow analytics.

    Each event is a dict with `type`, `occurred_at` (aware), optional `event_id`, `item_id`
    (an item's external id), `value`, `properties`; and `visitor_id` (an external id: one that
    reads as a cookie id is refused) unless `visitor` is given, which then owns every event.
    `source` names the sender (`Event.source`): an event id already stored by the same sender
    is a duplicate, ignored; other senders' ids are neither seen nor blocked.
    """
    result = IngestResult()
    if not events:
        return result
    item_keys = {event["item_id"] for event in events if event.get("item_id")}
    items = dict(
        ContentItem.objects.filter(external_id__in=item_keys).values_list("external_id", "pk")
        if item_keys
        else ()
    )
    keys = [str(visitor.uid) if visitor else event["visitor_id"] for event in events]
    if visitor is None:
        result.refused |= _cookie_ids_refused(keys)
    now = timezone.now()
    named = {key for index, key in enumerate(keys) if index not in result.refused}
    # Read before the transaction: consent states read there are not cached (they might roll
    # back), and a batch would read them again every time.
    owners, allowed = owners_allowed(named, visitor)
    with transaction.atomic():
        if creatable := {key for key, ok in allowed.items() if ok and key not in owners}:
            # Consent allows a profile without any record (opt-out): create it.
            owners |= visitors_ensure(visitor_spans(events, keys, only=creatable))
        pending = _events_accepted(events, keys, items, allowed, owners, result)
        # The context keeps the channel ("browser", "api-key", "import"), not the sender's id.
        extra = {"source": source.partition(":")[0], **(context or {})}
        new = _events_store(pending, source=source, items=items, context=extra, now=now)
        if new:
            for listener in _ingest_listeners.values():
                listener(events=new, source=source)
    result.accepted = len(new)
    result.duplicates += len(pending) - len(new)
    return result


def _events_store(
    pending: Mapping[str, tuple[dict[str, Any], int]],
    *,
    source: str,
    items: Mapping[str, int],
    context: dict[str, Any],
    now: datetime,
) -> list[Event]:
    """Insert the events whose id `source` has not used yet; returns those inserted."""
    rows: list[EventRow] = [
        (
            event_id,
            owner,
            event["type"],
            items.get(event.get("item_id") or ""),
            event.get("value"),
            event.get("properties") or {},
            event["occurred_at"],
        )
        for event_id, (event, owner) in pending.items()
    ]
    # A concurrent request may store one of these ids meanwhile: the database skips it then.
    inserted = events_insert(rows, source=source, context=context, received_at=now)
    new = [
        event_of(row, source=source, context=context, received_at=now)
        for row in rows
        if row[0] in inserted
    ]
    snapshots_invalidate(event.visitor_id for event in new if event.item_id is not None)
    visitors_seen_widen(_spans_by_visitor_id(new))
    return new


def _spans_by_visitor_id(events: list[Event]) -> dict[int, tuple[datetime, datetime]]:
    """First and last time of these events per visitor id."""
    spans: dict[int, tuple[datetime, datetime]] = {}
    for event in events:
        moment = event.occurred_at
        first, last = spans.get(event.visitor_id, (moment, moment))
        spans[event.visitor_id] = (min(first, moment), max(last, moment))
    return spans


def _events_accepted(
    events: list[dict[str, Any]],
    keys: list[str],
    items: Mapping[str, int],
    allowed: Mapping[str, bool],
    owners: Mapping[str, int],
    result: IngestResult,
) -> dict[str, tuple[dict[str, Any], int]]:
    """Event id → (event, owner) of the events to store; the refused and repeated go to `result`."""
    pending: dict[str, tuple[dict[str, Any], int]] = {}
    for index, (event, key) in enumerate(zip(events, keys, strict=True)):
        if index in result.refused:
            continue
        errors: dict[str, list[str]] = {}
        if event.get("item_id") and event["item_id"] not in items:
            errors["item_id"] = [f"unknown item {event['item_id']!r}"]
        if not allowed[key]:
            errors["consent"] = [NO_CONSENT]
        if errors:
            result.refused[index] = errors
            continue
        event_id = event.get("event_id") or event_id_derive(
            visitor=key, type=event["type"], item_id=event.get("item_id"),
            occurred_at=event["occurred_at"], value=event.get("value"),
        )  # fmt: skip
        if event_id in pending:
            result.duplicates += 1
            continue
        pending[event_id] = (event, owners[key])
    return pending


def _cookie_ids_refused(keys: list[str]) -> dict[int, dict[str, list[str]]]:
    """Events whose visitor id reads as a cookie id, which is never an external id, by index."""
    return {
        index: {"visitor_id": [problem]}
        for index, key in enumerate(keys)
        if (problem := external_id_problem(key)) is not None
    }


def visitor_spans(
    events: list[dict[str, Any]], keys: list[str], only: set[str] | None = None
) -> dict[str, tuple[datetime, datetime]]:
    """First and last event time per visitor key (of the keys in `only`, when given)."""
    spans: dict[str, tuple[datetime, datetime]] = {}
    for event, key in zip(events, keys, strict=True):
        if only is not None and key not in only:
            continue
        moment = event["occurred_at"]
        first, last = spans.get(key, (moment, moment))
        spans[key] = (min(first, moment), max(last, moment))
    return spans


def _visitors_find(external_ids: set[str]) -> dict[str, int]:
    """External id → the id of the visitor that owns its events (a merged profile's survivor).

    Ids that read as cookie ids are never external ids: not found, so never created either.
    """
    external_ids = {key for key in external_ids if external_id_problem(key) is None}
    found = Visitor.objects.filter(external_id__in=external_ids).values_list(
        "external_id", "pk", "merged_into_id"
    )
    rows = {external_id: (pk, merged) for external_id, pk, merged in found}
    survivors = visitors_survivors({merged for _, merged in rows.values() if merged})
    return {key: survivors.get(merged, pk) for key, (pk, merged) in rows.items()}


def owners_allowed(
    keys: set[str], visitor: Visitor | None
) -> tuple[dict[str, int], dict[str, bool]]:
    """Visitor id by key, and whether each key's visitor allows analytics (unknown: the default)."""
    owners = {str(visitor.uid): visitor.pk} if visitor else _visitors_find(keys)
    states = consent_states(set(owners.values()))
    allowed = {key: states[pk].get(ANALYTICS, False) for key, pk in owners.items()}
    if len(owners) < len(keys):
        default = default_state(all_purposes()).get(ANALYTICS, False)
        allowed |= {key: default for key in keys if key not in owners}
    return owners, allowed


def visitors_ensure(spans: Mapping[str, tuple[datetime, datetime]]) -> dict[str, int]:
    """Visitor ids by external id, creating the missing ones (first and last seen from `spans`)."""
    found = _visitors_find(set(spans))
    new = [
        Visitor(external_id=key, first_seen=first, last_seen=last)
        for key, (first, last) in spans.items()
        if key not in found and external_id_problem(key) is None
    ]
    if new:
        # ignore_conflicts: another request may create the same visitor in the meantime.
        Visitor.objects.bulk_create(new, batch_size=INSERT_BATCH_SIZE, ignore_conflicts=True)
        found |= _visitors_find({visitor.external_id for visitor in new})
    return found

"""Storing events in bulk (the API, the tracker, `import_events`) and granting consent in bulk.

Cost of `events_ingest`: a fixed number of queries whatever the number of events — the visitors
(one select; an insert and a select more when some are new), the items (one select), consent
(`consent_states`: one cache read, three selects on a miss), the event ids stored before (one
select), one insert of events and one update of the visitors. Memory holds the events passed in.
"""

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any, TextIO

from django.core.cache import cache
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Greatest, Least
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from tqdm import tqdm

from config.errors import ApplicationError
from consent.models import ConsentRecord, PolicyVersion, Purpose
from consent.selectors import consent_states, default_state, state_cache_key
from consent.selectors import purposes as all_purposes
from consent.services import ConsentError
from content.models import ContentItem
from content.transfer.rows import ImportRowError
from personalization.models import Event, Visitor

ANALYTICS = "analytics"
NO_CONSENT = "no analytics consent"
MAX_FUTURE = timedelta(minutes=5)
# Epoch seconds; anything this large was almost surely sent in milliseconds.
_EPOCH = re.compile(r"-?\d+(\.\d+)?")
_MILLISECONDS = 10**11
_VALUE_STEP = Decimal("0.0001")  # Event.value keeps 4 decimal places of 14 digits
_VALUE_LIMIT = Decimal(10) ** 10
INSERT_BATCH_SIZE = 5000


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
    (an item's external id), `value`, `properties`; and `visitor_id` (an external id) unless
    `visitor` is given, which then owns every event. Duplicates by `event_id` are ignored.
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
    now = timezone.now()
    with transaction.atomic():
        owners, allowed = _owners_allowed(set(keys), visitor)
        if creatable := {key for key, ok in allowed.items() if ok and key not in owners}:
            # Consent allows a profile without any record (opt-out): create it.
            owners |= visitors_ensure(_spans(events, keys, only=creatable))
        pending: dict[str, tuple[dict[str, Any], int]] = {}
        for index, (event, key) in enumerate(zip(events, keys, strict=True)):
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
        existing = set(
            Event.objects.filter(event_id__in=list(pending)).values_list("event_id", flat=True)
            if pending
            else ()
        )
        extra = {**(context or {}), "source": source}
        new = [
            _event_row(event_id, event, owner, items, extra, now)
            for event_id, (event, owner) in pending.items()
            if event_id not in existing
        ]
        Event.objects.bulk_create(new, batch_size=INSERT_BATCH_SIZE, ignore_conflicts=True)
        _visitors_seen(new)
    result.accepted = len(new)
    result.duplicates += len(pending) - len(new)
    return result


def _event_row(
    event_id: str,
    event: Mapping[str, Any],
    owner: int,
    items: Mapping[str, int],
    context: dict[str, Any],
    now: datetime,
) -> Event:
    return Event(
        event_id=event_id, visitor_id=owner, type=event["type"],
        item_id=items.get(event.get("item_id") or ""), value=event.get("value"),
        properties=event.get("properties") or {}, context=context,
        occurred_at=event["occurred_at"], received_at=now,
    )  # fmt: skip


def _spans(
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
    """External id → the id of the visitor that owns its events (a merged profile's survivor)."""
    found = Visitor.objects.filter(external_id__in=external_ids).values_list(
        "external_id", "pk", "merged_into_id"
    )
    return {external_id: merged or pk for external_id, pk, merged in found}


def _owners_allowed(
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
        if key not in found
    ]
    if new:
        # ignore_conflicts: another request may create the same visitor in the meantime.
        Visitor.objects.bulk_create(new, batch_size=INSERT_BATCH_SIZE, ignore_conflicts=True)
        found |= _visitors_find({visitor.external_id for visitor in new})
    return found


def _visitors_seen(events: list[Event]) -> None:
    """Widen the visitors' first and last seen to their events' times, in one update."""
    if not events:
        return
    # One look up the (visitor, -occurred_at) index per visitor, whatever their event count.
    timeline = Event.objects.filter(visitor=OuterRef("pk")).values("occurred_at")
    Visitor.objects.filter(pk__in={event.visitor_id for event in events}).update(
        first_seen=Least(F("first_seen"), Subquery(timeline.order_by("occurred_at")[:1])),
        last_seen=Greatest(F("last_seen"), Subquery(timeline.order_by("-occurred_at")[:1])),
    )


def purposes_for_grant(keys: Iterable[str]) -> list[Purpose]:
    """The purposes named by `keys`; ConsentError names any unknown one."""
    keys = list(dict.fromkeys(keys))
    known = {purpose.key: purpose for purpose in Purpose.objects.filter(key__in=keys)}
    unknown = [key for key in keys if key not in known]
    if unknown:
        choices = ", ".join(sorted(Purpose.objects.values_list("key", flat=True)))
        raise ConsentError(
            f"unknown purpose {', '.join(unknown)}; the purposes are {choices}",
            {"purposes": [f"unknown purpose {key!r}" for key in unknown]},
        )
    return [known[key] for key in keys]


def consent_grant_bulk(
    *, visitor_ids: Iterable[int], purposes: list[str], source: str = ConsentRecord.Source.IMPORT
) -> int:
    """Record consent to `purposes` for many visitors at once; returns the records written.

    Visitors whose current state already allows a purpose get no new record for it.
    """
    if source not in ConsentRecord.Source.values:
        raise ConsentError(f"unknown consent source {source!r}", {"source": [source]})
    ids = list(dict.fromkeys(visitor_ids))
    granted = [purpose for purpose in purposes_for_grant(purposes) if not purpose.is_required]
    if not ids or not granted:
        return 0
    policy = PolicyVersion.objects.order_by("-version").first()
    states = consent_states(ids)
    records = [
        ConsentRecord(
            visitor_id=visitor_id, purpose=purpose, granted=True, policy=policy,
            policy_hash=policy.text_hash if policy else "", source=source,
        )
        for visitor_id in ids
        for purpose in granted
        if not states[visitor_id].get(purpose.key, False)
    ]  # fmt: skip
    ConsentRecord.objects.bulk_create(records, batch_size=INSERT_BATCH_SIZE)
    stale = sorted({state_cache_key(record.visitor_id) for record in records})
    if stale:
        # Now, for reads later in this transaction; after commit, for states cached meanwhile.
        cache.delete_many(stale)
        transaction.on_commit(lambda: cache.delete_many(stale))
    return len(records)


# --- import_events ------------------------------------------------------------------------------

IMPORT_BATCH_SIZE = 5000
NO_CONSENT_HINT = (
    "visitor {!r} has not consented to analytics; use --grant analytics if consent was "
    "collected elsewhere"
)
# A fresh reading of the file each call: (line, event dict) or (line, why the row is invalid).
RowSource = Callable[[], Iterator[tuple[int, dict[str, Any] | list[ImportRowError]]]]


class EventImportError(ApplicationError):
    """An import that wrote nothing, with every reason why."""

    def __init__(self, errors: list[ImportRowError], message: str, skippable: bool = False) -> None:
        super().__init__(message, {"rows": [error.message for error in errors]})
        self.errors = errors
        self.skippable = skippable  # whether --skip-invalid would store the other rows


@dataclass
class EventImportResult:
    """What an import did, and the rows it left out with why."""

    stored: int = 0
    duplicates: int = 0
    invalid: int = 0
    errors: list[ImportRowError] = field(default_factory=list)

    @property
    def summary(self) -> str:
        return f"{self.stored} stored, {self.duplicates} duplicates, {self.invalid} invalid"


def events_import(
    *,
    rows: RowSource,
    grant: list[str] | None = None,
    skip_invalid: bool = False,
    progress: TextIO | None = None,
    batch_size: int = IMPORT_BATCH_SIZE,
) -> EventImportResult:
    """Store a file's events: every row checked first, then all or nothing unless `skip_invalid`.

    `grant` records consent (source "import") for the file's visitors before consent is checked.
    Cost: the rows are read twice and held one batch at a time; each batch of `batch_size` rows
    takes a fixed number of queries (its items and visitors, consent, then `events_ingest`).
    """
    grant = [purpose.key for purpose in purposes_for_grant(grant)] if grant else []
    errors, bad_lines, valid = _import_check(rows, check_consent=not grant, batch_size=batch_size)
    if errors and not skip_invalid:
        message = f"{len(bad_lines)} invalid rows; nothing was imported"
        raise EventImportError(errors, message, skippable=True)
    result = EventImportResult(invalid=len(bad_lines), errors=errors)
    bar = tqdm(
        total=valid, file=progress, disable=None if progress else True, unit="rows",
        desc="importing", dynamic_ncols=True,
    )  # fmt: skip
    granted: list[int] = []
    committed = False
    try:
        with bar, transaction.atomic():
            for batch in _batches(_valid_rows(rows, bad_lines), batch_size):
                _import_write(batch, grant, result, skip_invalid=skip_invalid, granted=granted)
                bar.update(len(batch))
        committed = True
    finally:
        if not committed and granted:
            # States cached inside the rolled back transaction would claim consent never stored.
            cache.delete_many([state_cache_key(visitor_id) for visitor_id in set(granted)])
    return result


def _valid_rows(rows: RowSource, bad_lines: set[int]) -> Iterator[tuple[int, dict[str, Any]]]:
    for line, row in rows():
        if line in bad_lines:
            continue
        if isinstance(row, list):
            # The check passed this line a moment ago: someone is writing to the file.
            raise EventImportError(row, "the file changed during the import; nothing imported")
        yield line, row


def _batches(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def _import_check(
    rows: RowSource, *, check_consent: bool, batch_size: int
) -> tuple[list[ImportRowError], set[int], int]:
    """Every error of the file, the lines of the invalid rows, and the number of valid rows."""
    errors: list[ImportRowError] = []
    valid = 0
    for batch in _batches(rows(), batch_size):
        parsed = []
        for line, row in batch:
            if isinstance(row, list):
                errors.extend(row)
            else:
                parsed.append((line, row))
        refused = _references_check(parsed, check_consent=check_consent)
        errors.extend(refused)
        valid += len(parsed) - len({error.line for error in refused})
    errors.sort(key=lambda error: error.line)
    return errors, {error.line for error in errors}, valid


def _references_check(
    rows: list[tuple[int, dict[str, Any]]], *, check_consent: bool
) -> list[ImportRowError]:
    """Unknown items and, unless consent is granted by the import, visitors without consent."""
    item_keys = {row["item_id"] for _, row in rows if row["item_id"]}
    items = set(
        ContentItem.objects.filter(external_id__in=item_keys).values_list("external_id", flat=True)
        if item_keys
        else ()
    )
    if check_consent and rows:
        _, allowed = _owners_allowed({row["visitor_id"] for _, row in rows}, None)
    errors = []
    for line, row in rows:
        if row["item_id"] and row["item_id"] not in items:
            errors.append(ImportRowError(line, "item_id", f"unknown item {row['item_id']!r}"))
        if check_consent and not allowed[row["visitor_id"]]:
            reason = NO_CONSENT_HINT.format(row["visitor_id"])
            errors.append(ImportRowError(line, "visitor_id", reason))
    return errors


def _import_write(
    batch: list[tuple[int, dict[str, Any]]],
    grant: list[str],
    result: EventImportResult,
    *,
    skip_invalid: bool,
    granted: list[int],
) -> None:
    events = [row for _, row in batch]
    if grant:
        keys = [event["visitor_id"] for event in events]
        owners = visitors_ensure(_spans(events, keys))
        consent_grant_bulk(visitor_ids=owners.values(), purposes=grant)
        granted.extend(owners.values())
    outcome = events_ingest(events=events, visitor=None, source=ConsentRecord.Source.IMPORT)
    if outcome.refused:
        # The check passed these rows: an item was deleted or consent withdrawn meanwhile.
        lost = [
            ImportRowError(batch[index][0], column, "; ".join(reasons))
            for index, row_errors in sorted(outcome.refused.items())
            for column, reasons in row_errors.items()
        ]
        if not skip_invalid:
            raise EventImportError(lost, "rows became invalid during the import; nothing imported")
        result.errors.extend(lost)
        result.invalid += len(outcome.refused)
    result.stored += outcome.accepted
    result.duplicates += outcome.duplicates

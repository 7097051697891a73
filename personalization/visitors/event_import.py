"""Importing events from a file (`import_events`): rows checked first, then stored in batches."""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, TextIO

from django.db import transaction
from tqdm import tqdm

from config.errors import ApplicationError, ImportRowError
from consent.services import consent_grant_bulk, purposes_for_grant
from content.models import ContentItem
from personalization.visitors.events import (
    events_ingest,
    owners_allowed,
    visitor_spans,
    visitors_ensure,
)
from personalization.visitors.models import Event

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
    with bar, transaction.atomic():
        for batch in _batches(_valid_rows(rows, bad_lines), batch_size):
            _import_write(batch, grant, result, skip_invalid=skip_invalid)
            bar.update(len(batch))
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
        _, allowed = owners_allowed({row["visitor_id"] for _, row in rows}, None)
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
) -> None:
    events = [row for _, row in batch]
    if grant:
        keys = [event["visitor_id"] for event in events]
        owners = visitors_ensure(visitor_spans(events, keys))
        consent_grant_bulk(visitor_ids=owners.values(), purposes=grant)
    outcome = events_ingest(events=events, visitor=None, source=Event.IMPORT)
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

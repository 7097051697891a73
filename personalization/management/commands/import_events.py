"""`import_events FILE`: events from a CSV or JSONL file, every row checked, all or nothing.

This module reads the file (columns, line numbers, values); `events_import` stores the rows.
"""

import sys
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.core.validators import slug_re
from django.utils import timezone

from config.errors import ApplicationError, ImportRowError
from content.models import ContentItem
from content.transfer.rows import FORMATS, format_for, records
from personalization.visitors.event_import import EventImportError, events_import
from personalization.visitors.events import occurred_at_parse, value_parse
from personalization.visitors.models import Event, Visitor
from personalization.visitors.selectors import external_id_problem

COLUMNS = ("visitor_id", "event_type", "item_id", "timestamp", "value", "event_id")
REQUIRED_COLUMNS = ("visitor_id", "event_type", "timestamp")
_MAX = {
    "visitor_id": Visitor._meta.get_field("external_id").max_length,
    "event_type": Event._meta.get_field("type").max_length,
    "item_id": ContentItem._meta.get_field("external_id").max_length,
    "event_id": Event._meta.get_field("event_id").max_length,
}
Row = tuple[int, dict[str, Any] | list[ImportRowError]]


def event_rows(path: Path, fmt: str, now: datetime) -> Iterator[Row]:
    """(line, event) for each valid record of the file, (line, errors) for each invalid one."""
    try:
        # utf-8-sig: spreadsheets put a byte order mark in front of "CSV UTF-8" files.
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ApplicationError(f"cannot read {path}: {exc.strerror}") from exc
    line = 0
    with handle:
        try:
            for line, record in records(handle, fmt, allowed=COLUMNS, required=REQUIRED_COLUMNS):
                if isinstance(record, ImportRowError):
                    yield line, [record]
                else:
                    yield line, row_parse(line, record, now)
        except ImportRowError as exc:  # the file as a whole: empty, a bad header, broken CSV
            problem = "header is invalid" if exc.column == "header" else "file is not readable CSV"
            raise EventImportError([exc], f"the {problem}; nothing imported") from exc
        except UnicodeDecodeError as exc:
            raise EventImportError(
                [ImportRowError(line + 1, "file", "not UTF-8 text at or after this line")],
                "the file is not UTF-8 text; save it as UTF-8 (“CSV UTF-8” in spreadsheets)",
            ) from exc


def row_parse(
    line: int, record: Mapping[str, Any], now: datetime
) -> dict[str, Any] | list[ImportRowError]:
    """One record as an event for `events_ingest`, or every reason it is invalid."""
    errors: list[ImportRowError] = []

    def fail(column: str, reason: str) -> None:
        errors.append(ImportRowError(line, column, reason))

    for name in record:
        if name not in COLUMNS:
            fail(str(name), f"unknown column; the columns are {', '.join(COLUMNS)}")
    text = {name: _text(record.get(name), name, fail) for name in _MAX}
    for name in ("visitor_id", "event_type"):
        if not text[name]:
            fail(name, "required")
    if text["visitor_id"] and (problem := external_id_problem(text["visitor_id"])):
        fail("visitor_id", problem)
    for name, limit in _MAX.items():
        if len(text[name]) > limit:
            fail(name, f"{len(text[name])} characters; at most {limit}")
    if text["event_type"] and not slug_re.match(text["event_type"]):
        fail("event_type", "a type is a slug: letters, digits, - and _ (view, click, purchase…)")
    occurred_at = None
    if record.get("timestamp") in (None, ""):
        fail("timestamp", "required: ISO 8601 (2024-05-01T12:00:00Z) or epoch seconds")
    else:
        occurred_at = _parsed(
            lambda: occurred_at_parse(record["timestamp"], now=now), "timestamp", fail
        )
    value = _parsed(lambda: value_parse(record.get("value")), "value", fail)
    if errors:
        return errors
    return {
        "visitor_id": text["visitor_id"], "type": text["event_type"],
        "item_id": text["item_id"] or None, "event_id": text["event_id"] or None,
        "occurred_at": occurred_at, "value": value, "properties": {},
    }  # fmt: skip


def _text(value: Any, name: str, fail: Callable[[str, str], None]) -> str:
    # JSONL files often carry numeric ids; any other non-text value is a mistake.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value is not None and not isinstance(value, str):
        fail(name, f"must be text, got {type(value).__name__}")
        return ""
    return (value or "").strip()


def _parsed(parse: Callable[[], Any], name: str, fail: Callable[[str, str], None]) -> Any:
    try:
        return parse()
    except ValueError as exc:
        fail(name, str(exc))
        return None


class Command(BaseCommand):
    help = (
        "Store events from a CSV or JSONL file. Columns: "
        f"{','.join(COLUMNS)} (item_id, value and event_id optional; visitor_id and item_id are "
        "external ids; timestamp ISO 8601 or epoch seconds). Nothing is stored when a row is "
        "invalid, unless --skip-invalid is given; importing a file again adds nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="a .csv, .jsonl or .ndjson file")
        parser.add_argument(
            "--format", dest="fmt", choices=FORMATS, help="default: from the file's extension"
        )
        parser.add_argument(
            "--grant",
            default="",
            metavar="PURPOSES",
            help="comma-separated purposes (e.g. analytics,personalization) the file's visitors "
            'consented to elsewhere: recorded as their consent (source "import") first',
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="store the valid rows and report the invalid ones, instead of storing nothing",
        )

    def handle(
        self,
        *args: Any,
        file: Path,
        fmt: str | None,
        grant: str,
        skip_invalid: bool,
        **options: Any,
    ) -> None:
        purposes = [key.strip() for key in grant.split(",") if key.strip()]
        # OutputWrapper ends every write with a newline, which breaks tqdm's redraws.
        progress = getattr(self.stderr, "_out", sys.stderr)
        now = timezone.now()
        try:
            fmt = format_for(file, fmt)
            result = events_import(
                rows=lambda: event_rows(file, fmt, now), grant=purposes,
                skip_invalid=skip_invalid, progress=progress,
            )  # fmt: skip
        except EventImportError as exc:
            lines = [error.message for error in exc.errors]
            hint = " (--skip-invalid stores the valid rows)" if exc.skippable else ""
            raise CommandError("\n".join([*lines, exc.message + hint])) from exc
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        for error in result.errors:
            self.stderr.write(error.message)
        style = self.style.WARNING if result.invalid else self.style.SUCCESS
        self.stdout.write(style(result.summary))

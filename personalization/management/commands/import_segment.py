"""`import_segment KEY FILE`: a static segment's members from a CSV with a `visitor_id` column.

This module reads the file (header, line numbers, ids); `segment_members_import` stores them.
"""

import csv
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from config.errors import ApplicationError, ImportRowError
from personalization.segments.services import segment_members_import, visitor_ids_resolve
from personalization.visitors.models import Visitor
from personalization.visitors.selectors import external_id_problem

COLUMN = "visitor_id"
MAX_LENGTH = Visitor._meta.get_field("external_id").max_length


def id_rows(handle: TextIO, progress: TextIO | None = None) -> Iterator[tuple[int, str]]:
    """(line, external id) per record; an unreadable header or row raises ImportRowError."""
    reader = csv.reader(handle)
    try:
        header = next(reader, None)
        columns = [name.strip().lower() for name in header or []]
        if columns.count(COLUMN) != 1:
            found = ", ".join(repr(c) for c in columns) or "nothing"
            problem = "repeated" if COLUMN in columns else f"missing (found {found})"
            raise ImportRowError(1, "header", f"the {COLUMN} column is {problem}")
        position = columns.index(COLUMN)
        end = reader.line_num
        for fields in tqdm(reader, file=progress, disable=None, unit="rows", desc="reading"):
            # A quoted field may span lines: a record starts after the previous one ended.
            start, end = end + 1, reader.line_num
            if not any(value.strip() for value in fields):
                continue  # blank lines and the empty rows spreadsheets leave at the end
            if len(fields) != len(columns):
                raise ImportRowError(
                    start, "row", f"{len(fields)} fields, but the header has {len(columns)}"
                )
            yield start, fields[position].strip()
    except csv.Error as exc:
        raise ImportRowError(reader.line_num, "row", f"unreadable CSV: {exc}") from exc


def ids_parse(
    path: Path, progress: TextIO | None = None
) -> tuple[dict[str, int], list[ImportRowError]]:
    """External id → pk of every valid row, and every reason a row is invalid, by line."""
    lines: dict[str, int] = {}
    errors: list[ImportRowError] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for line, external_id in id_rows(handle, progress):
                if not external_id:
                    errors.append(ImportRowError(line, COLUMN, "required"))
                elif len(external_id) > MAX_LENGTH:
                    reason = f"{len(external_id)} characters; at most {MAX_LENGTH}"
                    errors.append(ImportRowError(line, COLUMN, reason))
                elif problem := external_id_problem(external_id):
                    errors.append(ImportRowError(line, COLUMN, problem))
                else:
                    lines.setdefault(external_id, line)  # a repeated id counts once
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(
            "the file is not UTF-8 text; save it as UTF-8 (“CSV UTF-8” in spreadsheets)"
        ) from exc
    except ImportRowError as exc:
        raise CommandError(f"{exc.message}; nothing imported") from exc
    found = visitor_ids_resolve(list(lines))
    for external_id, line in lines.items():
        if external_id not in found:
            errors.append(ImportRowError(line, COLUMN, f"no visitor with id {external_id!r}"))
    errors.sort(key=lambda error: error.line)
    return found, errors


class Command(BaseCommand):
    help = (
        "Add the visitors of a CSV file (a visitor_id column of external ids; other columns "
        "are ignored) to the static segment KEY. Nothing is stored when a row is invalid, "
        "unless --skip-invalid is given; importing a file again adds nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("key", help="the static segment's key")
        parser.add_argument("file", type=Path, help="a .csv file with a visitor_id column")
        parser.add_argument(
            "--create", action="store_true", help="create the static segment if it is missing"
        )
        parser.add_argument(
            "--replace", action="store_true",
            help="the file becomes the whole list: members not in it are removed",
        )  # fmt: skip
        parser.add_argument(
            "--skip-invalid", action="store_true",
            help="store the valid rows and report the invalid ones, instead of storing nothing",
        )  # fmt: skip

    def handle(
        self, *args: Any, key: str, file: Path, create: bool, replace: bool, skip_invalid: bool,
        **options: Any,
    ) -> None:  # fmt: skip
        progress = getattr(self.stderr, "_out", sys.stderr)
        found, errors = ids_parse(file, progress)
        if errors and not skip_invalid:
            lines = [error.message for error in errors]
            summary = (
                f"{len(errors)} invalid rows; nothing imported (--skip-invalid stores the rest)"
            )
            raise CommandError("\n".join([*lines, summary]))
        try:
            result = segment_members_import(
                key=key, visitor_ids=set(found.values()), create=create, replace=replace
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        for error in errors:
            self.stderr.write(error.message)
        style = self.style.WARNING if errors else self.style.SUCCESS
        self.stdout.write(
            style(
                f"{key}: {result['added']} added, {result['removed']} removed, "
                f"{result['members']} members; {len(errors)} invalid rows skipped"
            )
        )

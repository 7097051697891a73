"""Reading content files: CSV and JSONL records with their line numbers, checked column by column.

Nothing here writes. `records` yields each raw record with the line it starts on (the event
import reads its files with it too); `row_parse` turns one content record into an `ImportRow` or
the list of reasons it is invalid.
"""

import csv
import json
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

from config.errors import ImportRowError
from content.models import ContentItem, ContentKind, Tag
from content.services import ContentError
from content.transfer.tags import TAG_SEPARATOR, TagPath, tag_path_names, tag_slug, tags_split

REQUIRED_COLUMNS = ("external_id", "title")
COLUMNS = ("external_id", "title", "kind", "tags", "body", "url", "metadata")
ALLOWED_COLUMNS = (*COLUMNS, "status")
FORMATS = ("csv", "jsonl")
DEFAULT_KIND = "article"
_EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
# Bodies are whole HTML pages at times; the csv module stops at 128 KiB by default.
_CSV_FIELD_LIMIT = 64 * 1024 * 1024

_MAX = {name: ContentItem._meta.get_field(name).max_length for name in ("external_id", "title")}
_URL_MAX = ContentItem._meta.get_field("url").max_length
_TAG_NAME_MAX = Tag._meta.get_field("name").max_length
_TAG_PATH_MAX = Tag._meta.get_field("path").max_length
_validate_url = URLValidator()


class ContentImportError(ContentError):
    """An import that wrote nothing, with every reason why."""

    def __init__(self, errors: list[ImportRowError], message: str = "") -> None:
        super().__init__(
            message or f"{len(errors)} errors; nothing was imported",
            {"rows": [e.message for e in errors]},
        )
        self.errors = errors


@dataclass(slots=True, frozen=True)
class ImportRow:
    """A valid record; `None`: the column is absent (or, for status, empty), keep what is stored."""

    line: int
    external_id: str
    title: str
    kind_key: str | None
    tags: tuple[TagPath, ...] | None  # paths of names from the root
    body: str | None
    url: str | None
    metadata: dict[str, Any] | None
    status: str | None


def format_for(path: Path, fmt: str | None) -> str:
    """The file format: the one asked for, else the one the extension names."""
    if fmt:
        if fmt not in FORMATS:
            raise ContentError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    try:
        return _EXTENSIONS[path.suffix.lower()]
    except KeyError:
        raise ContentError(
            f"cannot tell the format of {path.name!r} from its extension: name it .csv, .jsonl "
            "or .ndjson, or pass --format csv|jsonl"
        ) from None


def records(
    handle: TextIO, fmt: str, *, allowed: Collection[str], required: Collection[str]
) -> Iterator[tuple[int, dict[str, Any] | ImportRowError]]:
    """(line, record) pairs; a record that cannot be read at all comes as an error instead.

    A CSV file that cannot be read at all (empty, a header without the `required` columns or
    with others than the `allowed` ones, broken quoting) raises its one ImportRowError.
    """
    if fmt == "csv":
        return _csv_records(handle, allowed=allowed, required=required)
    return _jsonl_records(handle)


def _csv_records(
    handle: TextIO, *, allowed: Collection[str], required: Collection[str]
) -> Iterator[tuple[int, dict[str, Any] | ImportRowError]]:
    csv.field_size_limit(max(csv.field_size_limit(), _CSV_FIELD_LIMIT))
    reader = csv.reader(handle)
    try:
        header = next(reader, None)
        if header is None:
            raise ImportRowError(1, "header", f"the file is empty; expected {', '.join(allowed)}")
        columns = [name.strip().lower() for name in header]
        _check_header(columns, allowed=allowed, required=required)
        # The reader counts physical lines, so a quoted field with newlines spans several: a
        # record starts on the line after the previous record ended.
        end = reader.line_num
        for fields in reader:
            start, end = end + 1, reader.line_num
            if not any(field.strip() for field in fields):
                continue  # blank lines and the empty rows spreadsheets leave at the end
            if len(fields) != len(columns):
                yield (
                    start,
                    ImportRowError(
                        start, "row", f"{len(fields)} fields, but the header has {len(columns)}"
                    ),
                )
                continue
            yield start, dict(zip(columns, fields, strict=True))
    except csv.Error as exc:
        raise ImportRowError(reader.line_num, "row", f"unreadable CSV: {exc}") from exc


def _check_header(
    columns: list[str], *, allowed: Collection[str], required: Collection[str]
) -> None:
    problems = []
    missing = [name for name in required if name not in columns]
    if missing:
        problems.append(f"missing required columns: {', '.join(missing)}")
    unknown = [name for name in columns if name not in allowed]
    if unknown:
        problems.append(
            f"unknown columns: {', '.join(repr(n) for n in unknown)}; "
            f"the columns allowed are {', '.join(allowed)}"
        )
    repeated = sorted({name for name in columns if columns.count(name) > 1})
    if repeated:
        problems.append(f"repeated columns: {', '.join(repeated)}")
    if problems:
        raise ImportRowError(1, "header", "; ".join(problems))


def _jsonl_records(handle: TextIO) -> Iterator[tuple[int, dict[str, Any] | ImportRowError]]:
    for line, text in enumerate(handle, start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield (
                line,
                ImportRowError(line, "row", f"not valid JSON: {exc.msg} (column {exc.colno})"),
            )
            continue
        if not isinstance(value, dict):
            yield (
                line,
                ImportRowError(line, "row", f"expected a JSON object, got {type(value).__name__}"),
            )
            continue
        yield line, value


def row_parse(
    line: int, record: Mapping[str, Any], kinds: Mapping[str, ContentKind]
) -> ImportRow | list[ImportRowError]:
    """Check one record against the columns' rules; every problem found is reported."""
    errors: list[ImportRowError] = []

    def fail(column: str, reason: str) -> None:
        errors.append(ImportRowError(line, column, reason))

    for name in record:
        if name not in ALLOWED_COLUMNS:
            fail(str(name), f"unknown column; the columns allowed are {', '.join(ALLOWED_COLUMNS)}")
    values = _texts_parse(record, fail)
    external_id = _external_id_parse(values, fail)
    title = _title_parse(values, fail)
    kind_key = _kind_parse(values, kinds, fail) if "kind" in values else None
    url = _url_parse(values, fail) if "url" in values else None
    status = _status_parse(values, fail)
    tags = _tags_parse(record["tags"], fail) if "tags" in record else None
    metadata = _metadata_parse(record["metadata"], fail) if "metadata" in record else None
    if errors:
        return errors
    return ImportRow(
        line=line, external_id=external_id, title=title, kind_key=kind_key, tags=tags,
        body=values.get("body"), url=url, metadata=metadata, status=status,
    )  # fmt: skip


def _texts_parse(record: Mapping[str, Any], fail: Callable[[str, str], None]) -> dict[str, str]:
    """The text columns present in the record, `None` read as empty."""
    values: dict[str, str] = {}
    for name in ("external_id", "title", "kind", "body", "url", "status"):
        if name in record:
            value = record[name]
            # JSONL catalogues often carry numeric ids; any other non-text value is a mistake.
            if name == "external_id" and isinstance(value, int) and not isinstance(value, bool):
                value = str(value)
            if value is not None and not isinstance(value, str):
                fail(name, f"must be text, got {type(value).__name__}")
                continue
            values[name] = "" if value is None else value
    return values


def _external_id_parse(values: Mapping[str, str], fail: Callable[[str, str], None]) -> str:
    external_id = (values.get("external_id") or "").strip()
    if not external_id:
        fail("external_id", "required: it is how a later import finds this item again")
    elif len(external_id) > _MAX["external_id"]:
        fail("external_id", f"{len(external_id)} characters; at most {_MAX['external_id']}")
    return external_id


def _title_parse(values: Mapping[str, str], fail: Callable[[str, str], None]) -> str:
    title = (values.get("title") or "").strip()
    if not title:
        fail("title", "required")
    elif len(title) > _MAX["title"]:
        fail("title", f"{len(title)} characters; at most {_MAX['title']}")
    return title


def _kind_parse(
    values: Mapping[str, str], kinds: Mapping[str, ContentKind], fail: Callable[[str, str], None]
) -> str:
    kind_key = values["kind"].strip() or DEFAULT_KIND
    if kind_key not in kinds:
        fail("kind", f"unknown kind {kind_key!r}; the known kinds are {', '.join(sorted(kinds))}")
    return kind_key


def _url_parse(values: Mapping[str, str], fail: Callable[[str, str], None]) -> str:
    url = values["url"].strip()
    if len(url) > _URL_MAX:
        fail("url", f"{len(url)} characters; at most {_URL_MAX}")
    elif url:
        try:
            _validate_url(url)
        except ValidationError:
            fail("url", f"{url[:80]!r} is not a valid http(s) or ftp URL")
    return url


def _status_parse(values: Mapping[str, str], fail: Callable[[str, str], None]) -> str | None:
    status = (values.get("status") or "").strip().lower() or None
    if status is not None and status not in ContentItem.Status.values:
        fail("status", f"unknown status {status!r}; use {', '.join(ContentItem.Status.values)}")
    return status


def _tags_parse(value: Any, fail: Callable[[str, str], None]) -> tuple[TagPath, ...] | None:
    if value is None:
        return ()
    if isinstance(value, str):
        paths = tags_split(value)
    elif isinstance(value, list) and all(isinstance(p, str) for p in value):
        paths = value
    else:
        fail("tags", f"must be text separated by {TAG_SEPARATOR!r} or a list of texts")
        return None
    clean: dict[TagPath, None] = {}  # ordered and without repeats
    for path in paths:
        names = tag_path_names(path)
        if not names:
            continue
        if not all(names):
            fail("tags", f"{path.strip()!r} has an empty part")
        elif any(len(name) > _TAG_NAME_MAX for name in names):
            fail("tags", f"{path.strip()!r} has a name longer than {_TAG_NAME_MAX} characters")
        elif len("/".join(tag_slug(name) for name in names)) > _TAG_PATH_MAX:
            fail(
                "tags",
                f"{path.strip()!r} is nested too deeply (a path has at most {_TAG_PATH_MAX})",
            )
        else:
            clean[tuple(names)] = None
    return tuple(clean)


def _metadata_parse(value: Any, fail: Callable[[str, str], None]) -> dict[str, Any] | None:
    if value is None:
        return {}
    if isinstance(value, str):
        if not value.strip():
            return {}
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            fail("metadata", f"not valid JSON: {exc.msg} (character {exc.pos + 1})")
            return None
    if not isinstance(value, dict):
        fail("metadata", f'must be a JSON object such as {{"price": 10}}, got {_json_type(value)}')
        return None
    return value


def _json_type(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")

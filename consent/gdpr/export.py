"""Access and portability (Art. 15/20): everything about a subject as one JSON document.

The document is `{"format", "version", "generated_at", "subject", "models", "data"}` where
`data` maps each registered model's label to the subject's rows. It is produced in pieces:
memory holds one chunk of rows (`CHUNK_ROWS`) whatever the number of events, and the database
streams rows through a server-side cursor on PostgreSQL. Queries: one per registered model, plus
one per 2,000 rows fetched.
"""

import json
from collections.abc import Iterator, MutableMapping
from datetime import datetime
from typing import TextIO

from django.utils import timezone

from consent.registry import Subject, declarations, json_value

FORMAT = "tailor.subject-export"
VERSION = 1
CHUNK_ROWS = 1000


def _dumps(value: object) -> str:
    return json.dumps(value, default=json_value, ensure_ascii=False, sort_keys=True)


def export_chunks(
    *,
    subject: Subject,
    now: datetime | None = None,
    counts: MutableMapping[str, int] | None = None,
) -> Iterator[str]:
    """The subject's export as pieces of one JSON text; `counts` gets rows per model."""
    # The profile first, then what hangs off it: the reverse of erasure order.
    exported = sorted((d for d in declarations() if d.exported), key=lambda d: -d.order)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "generated_at": (now or timezone.now()).isoformat(),
        "subject": {
            "identifiers": list(subject.identifiers),
            "visitor_ids": list(subject.visitor_ids),
            "user_ids": list(subject.user_ids),
        },
        "models": {d.model._meta.label: d.description for d in exported},
    }
    yield _dumps(header)[:-1] + ', "data": {'
    for position, declaration in enumerate(exported):
        label = declaration.model._meta.label
        yield f"{', ' if position else ''}{_dumps(label)}: ["
        rows: list[str] = []
        total = 0
        for row in declaration.export_rows(subject):
            rows.append(_dumps(row))
            if len(rows) == CHUNK_ROWS:
                yield (", " if total else "") + ", ".join(rows)
                total += len(rows)
                rows = []
        if rows:
            yield (", " if total else "") + ", ".join(rows)
            total += len(rows)
        if counts is not None:
            counts[label] = total
        yield "]"
    yield "}}"


def export_write(*, subject: Subject, out: TextIO, now: datetime | None = None) -> dict[str, int]:
    """Write the subject's export to `out`; returns rows per model."""
    counts: dict[str, int] = {}
    for chunk in export_chunks(subject=subject, now=now, counts=counts):
        out.write(chunk)
    return counts


def export_text(*, subject: Subject, now: datetime | None = None) -> tuple[str, dict[str, int]]:
    """The subject's export as one text (held in memory), with rows per model."""
    counts: dict[str, int] = {}
    return "".join(export_chunks(subject=subject, now=now, counts=counts)), counts

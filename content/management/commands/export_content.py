import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from content.management.commands.import_content import raw_stream
from content.services import ContentError
from content.transfer import (
    FORMATS,
    content_export,
    format_for,
    items_without_external_id,
)


class Command(BaseCommand):
    help = (
        "Write every content item with an external_id, ordered by id, in the columns "
        "import_content reads (plus status): an export imports back unchanged."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--format",
            dest="fmt",
            choices=FORMATS,
            help="default: from --output's extension (.csv, .jsonl, .ndjson), else csv",
        )
        parser.add_argument("--output", "-o", type=Path, help="a file to write; default: stdout")

    def handle(self, *args: Any, fmt: str | None, output: Path | None, **options: Any) -> None:
        fmt = fmt or _format_of(output)
        chunks = content_export(fmt=fmt, progress=raw_stream(self.stderr))
        lines = 0
        if output is None:
            try:
                for chunk in chunks:
                    self.stdout.write(chunk, ending="")
                    lines += 1
            except BrokenPipeError:
                # The reader went away (`export_content | head`): stop quietly, as shell tools do.
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise SystemExit(1) from None
        else:
            try:
                # newline="": the csv module writes its own line ends (and keeps those in bodies).
                with output.open("w", encoding="utf-8", newline="") as handle:
                    for chunk in chunks:
                        handle.write(chunk)
                        lines += 1
            except OSError as exc:
                raise CommandError(f"cannot write {output}: {exc.strerror}") from exc
        exported = lines - 1 if fmt == "csv" else lines
        # With the data on stdout, the report goes to stderr so that it stays out of the file.
        report = self.stderr if output is None else self.stdout
        report.write(f"{exported} items exported" + (f" to {output}" if output else ""))
        left_out = items_without_external_id()
        if left_out:
            self.stderr.write(
                self.style.WARNING(
                    f"{left_out} items without an external_id were left out: an import could not "
                    "match them again; give them one to export them"
                )
            )


def _format_of(output: Path | None) -> str:
    if output is None:
        return "csv"
    try:
        return format_for(output, None)
    except ContentError:
        return "csv"

import sys
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from content.services import ContentError
from content.transfer import FORMATS, ContentImportError, content_import


def raw_stream(wrapper: OutputWrapper) -> TextIO:
    """The stream under a command's stdout/stderr wrapper, for a progress bar to draw on."""
    # OutputWrapper ends every write with a newline, which breaks tqdm's carriage-return redraws.
    return getattr(wrapper, "_out", sys.stderr)


class Command(BaseCommand):
    help = (
        "Create or update content items from a CSV or JSONL file, matched by external_id. "
        "Columns: external_id,title,kind,tags,body,url,metadata[,status]. Nothing is imported "
        "when a row is invalid, unless --skip-invalid is given."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, help="a .csv, .jsonl or .ndjson file")
        parser.add_argument(
            "--format", dest="fmt", choices=FORMATS, help="default: from the file's extension"
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="import the valid rows and report the invalid ones, instead of importing nothing",
        )

    def handle(
        self, *args: Any, file: Path, fmt: str | None, skip_invalid: bool, **options: Any
    ) -> None:
        try:
            result = content_import(
                path=file, fmt=fmt, skip_invalid=skip_invalid, progress=raw_stream(self.stderr)
            )
        except ContentImportError as exc:
            lines = [error.message for error in exc.errors]
            hint = "" if skip_invalid else " (--skip-invalid imports the valid rows)"
            raise CommandError("\n".join([*lines, exc.message + hint])) from exc
        except ContentError as exc:
            raise CommandError(exc.message) from exc
        for error in result.errors:
            self.stderr.write(error.message)
        style = self.style.WARNING if result.invalid else self.style.SUCCESS
        self.stdout.write(style(result.summary))

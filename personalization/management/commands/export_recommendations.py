"""`export_recommendations [--k 10] [--format csv|jsonl] [--output FILE]`."""

import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from personalization.management.chunked import positive_int, raw_stream
from personalization.recommendations.selectors import FORMATS, recommendations_export


class Command(BaseCommand):
    help = (
        "Write K recommendations for every visitor with history who allows personalization: "
        "columns visitor_id,rank,item_id,score,algorithm (external ids). The current model "
        "run's list comes first; popular items fill lists it left short. Only published items, "
        "never one the visitor already interacted with."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--k", type=positive_int, default=10, help="items per visitor")
        parser.add_argument(
            "--format", dest="fmt", choices=FORMATS,
            help="default: from --output's extension (.jsonl), else csv",
        )  # fmt: skip
        parser.add_argument("--output", "-o", type=Path, help="a file to write; default: stdout")

    def handle(self, *args: Any, k: int, fmt: str | None, output: Path | None, **options: Any):
        fmt = fmt or ("jsonl" if output and output.suffix in (".jsonl", ".ndjson") else "csv")
        chunks = recommendations_export(k=k, fmt=fmt, progress=raw_stream(self.stderr))
        lines = 0
        try:
            if output is None:
                for chunk in chunks:
                    self.stdout.write(chunk, ending="")
                    lines += 1
            else:
                # Written to a temporary name first: a failed export leaves no half file.
                partial = output.with_name(output.name + ".partial")
                with partial.open("w", encoding="utf-8", newline="") as handle:
                    for chunk in chunks:
                        handle.write(chunk)
                        lines += 1
                partial.replace(output)
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise SystemExit(1) from None
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror}") from exc
        rows = lines - 1 if fmt == "csv" else lines
        report = self.stderr if output is None else self.stdout
        report.write(f"{rows} recommendations exported" + (f" to {output}" if output else ""))

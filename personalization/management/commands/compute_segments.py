"""`compute_segments [--async] [--chunk-size N]`: precompute rule-segment memberships and sizes."""

import argparse
import sys
from typing import Any, TextIO

from celery.result import EagerResult
from django.core.management.base import BaseCommand, OutputWrapper

from personalization.services.segments import segments_compute_all
from personalization.tasks_segments import compute_segments


def _positive(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return number


def _raw_stream(wrapper: OutputWrapper) -> TextIO:
    # OutputWrapper ends every write with a newline, which breaks tqdm's carriage-return redraws.
    return getattr(wrapper, "_out", sys.stderr)


class Command(BaseCommand):
    help = (
        "Compute the members of every active rule segment that reads no request attribute, "
        "here with a progress bar, then store today's segment sizes; --async queues the "
        "compute_segments task for a worker instead. Visitors without personalization consent "
        "are removed from every rule segment."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--async", dest="run_async", action="store_true",
            help="queue the task for a Celery worker instead of running it here",
        )  # fmt: skip
        parser.add_argument(
            "--chunk-size", type=_positive, default=2000,
            help="visitors per chunk (default 2000): memory grows with it",
        )  # fmt: skip

    def handle(self, *args: Any, run_async: bool, chunk_size: int, **options: Any) -> None:
        if run_async:
            result = compute_segments.delay(chunk_size=chunk_size)
            if not isinstance(result, EagerResult):
                self.stdout.write(f"compute_segments queued as task {result.id}")
                return
            # Without a broker Celery runs the task here, so its summary is already known.
            summary = result.get()
        else:
            summary = segments_compute_all(chunk_size=chunk_size, progress=_raw_stream(self.stderr))
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary['segments']} segments computed for {summary['computed']} visitors "
                f"({summary['joined']} joined, {summary['left']} left, "
                f"{summary['skipped_consent']} without personalization consent), "
                f"{summary['chunks']} chunks in {summary['seconds']:.1f} s"
            )
        )
        for key, size in sorted(summary["sizes"].items()):
            self.stdout.write(f"  {key}: {size}")

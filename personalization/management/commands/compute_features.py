import argparse
import sys
from typing import Any, TextIO

from celery.result import EagerResult
from django.core.management.base import BaseCommand, OutputWrapper

from personalization.services.features import features_compute_all
from personalization.tasks import compute_features


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
        "Compute every visitor's profile features (recency, sessions, RFM, lifecycle, tag "
        "affinities) here, with a progress bar; --async queues the compute_features task for "
        "a worker instead. Visitors without personalization consent are skipped."
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
            result = compute_features.delay(chunk_size=chunk_size)
            if not isinstance(result, EagerResult):
                self.stdout.write(f"compute_features queued as task {result.id}")
                return
            # Without a broker Celery runs the task here, so its summary is already known.
            summary = result.get()
        else:
            # What the task runs when eager, with a progress bar over the chunks.
            summary = features_compute_all(chunk_size=chunk_size, progress=_raw_stream(self.stderr))
        self.stdout.write(
            self.style.SUCCESS(
                f"{summary['computed']} visitors computed, {summary['skipped_consent']} skipped "
                f"for consent (no personalization), {summary['chunks']} chunks in "
                f"{summary['seconds']:.1f} s"
            )
        )

"""The shape of the `compute_*` commands: run a chunked job here with a progress bar, or queue it.

Without `--async` the command runs what the task runs when eager, with a progress bar over the
chunks on standard error. With `--async` it queues the task for a worker; without a broker
Celery runs it in process, so the summary is printed all the same.
"""

import argparse
import sys
from collections.abc import Callable
from typing import Any, TextIO

from celery import Task
from celery.result import EagerResult
from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from config.errors import ApplicationError


def positive_int(text: str) -> int:
    """An argparse type: a whole number of 1 or more."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return number


def raw_stream(wrapper: OutputWrapper) -> TextIO:
    # OutputWrapper ends every write with a newline, which breaks tqdm's carriage-return redraws.
    return getattr(wrapper, "_out", sys.stderr)


class ChunkedComputeCommand(BaseCommand):
    """Subclasses name the task, the function it runs, and how to report its summary.

    A subclass with arguments of its own adds them in `add_arguments` (calling super) and hands
    them to the task and the function through `job_options`. An `ApplicationError` of the job
    becomes a `CommandError` with its message.
    """

    task: Task
    compute_all: Callable[..., dict[str, Any]]

    def summarize(self, summary: dict[str, Any]) -> list[str]:
        raise NotImplementedError

    def job_options(self, options: dict[str, Any]) -> dict[str, Any]:
        """The subclass's own options, as keyword arguments of the task and the function."""
        return {}

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--async", dest="run_async", action="store_true",
            help="queue the task for a Celery worker instead of running it here",
        )  # fmt: skip
        parser.add_argument(
            "--chunk-size", type=positive_int, default=2000,
            help="visitors per chunk (default 2000): memory grows with it",
        )  # fmt: skip

    def handle(self, *args: Any, run_async: bool, chunk_size: int, **options: Any) -> None:
        job = {"chunk_size": chunk_size, **self.job_options(options)}
        try:
            if run_async:
                result = self.task.delay(**job)
                if not isinstance(result, EagerResult):
                    self.stdout.write(f"{self.task.name} queued as task {result.id}")
                    return
                summary = result.get()
            else:
                compute_all = type(self).compute_all  # a plain function, not a method
                summary = compute_all(**job, progress=raw_stream(self.stderr))
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        first, *rest = self.summarize(summary)
        self.stdout.write(self.style.SUCCESS(first))
        for line in rest:
            self.stdout.write(line)

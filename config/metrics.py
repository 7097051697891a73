"""Tailor's own Prometheus metrics, beside django-prometheus's request and database metrics.

Every label takes values from a bounded set: buffer names, slot keys that exist (others are
counted as "other"), decision reasons, run kinds and outcomes, task names. Recording costs a
dictionary lookup and an increment under a lock (about a microsecond): cheap enough for the
decision path. Served at `/metrics` (`config.metrics_view`); with `PROMETHEUS_MULTIPROC_DIR`
set before start-up, gunicorn's workers share their values through that folder.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any, Protocol

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

SLOT_LABELS_MAX = 500  # distinct slot keys kept as labels; more are counted under "other"

DECISIONS = Counter(
    "tailor_decisions", "Slot decisions by slot and reason (rule, default, holdout, error, ...).",
    ["slot", "reason"],
)  # fmt: skip
DECISION_SECONDS = Histogram(
    "tailor_decision_seconds", "Time decide() took.",
    buckets=(0.00002, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25),
)  # fmt: skip
BUFFER_ROWS_WRITTEN = Counter(
    "tailor_buffer_rows_written", "Buffered rows written to the database.", ["buffer"]
)
BUFFER_FLUSH_LAG = Histogram(
    "tailor_buffer_flush_lag_seconds", "Age of the oldest row of a batch when it was written.",
    ["buffer"], buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120),
)  # fmt: skip
BUFFER_FLUSH_FAILURES = Counter(
    "tailor_buffer_flush_failures", "Bulk writes of buffered rows that failed.", ["buffer"]
)
BUFFER_ROWS_DROPPED = Counter(
    "tailor_buffer_rows_dropped",
    "Buffered rows given up: refused by the database, out of retries, or over the limit.",
    ["buffer", "reason"],
)
RUNS = Counter(
    "tailor_runs", "Batch runs that ended, by kind and outcome (finished, failed, reaped).",
    ["kind", "outcome"],
)  # fmt: skip
RUN_SECONDS = Histogram(
    "tailor_run_seconds", "Duration of finished batch runs.", ["kind"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600),
)  # fmt: skip
TASK_RETRIES = Counter("tailor_task_retries", "Celery task retries, by task.", ["task"])


class _Buffer(Protocol):
    name: str

    def pending(self) -> int: ...

    def oldest_age(self) -> float: ...


_buffers: weakref.WeakSet[Any] = weakref.WeakSet()
_decisions: dict[tuple[str, str], Any] = {}


class BufferCollector(Collector):
    """The backlog of this process's write buffers, read when metrics are scraped."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pending = GaugeMetricFamily(
            "tailor_buffer_pending_rows", "Rows waiting in write buffers.", labels=["buffer"]
        )
        age = GaugeMetricFamily(
            "tailor_buffer_oldest_seconds", "Age of the oldest waiting row.", labels=["buffer"]
        )
        for buffer in list(_buffers):
            pending.add_metric([buffer.name], buffer.pending())
            age.add_metric([buffer.name], buffer.oldest_age())
        yield pending
        yield age


REGISTRY.register(BufferCollector())


def buffer_watch(buffer: _Buffer) -> None:
    _buffers.add(buffer)


def buffer_flushed(name: str, rows: int, lag: float) -> None:
    BUFFER_ROWS_WRITTEN.labels(name).inc(rows)
    BUFFER_FLUSH_LAG.labels(name).observe(lag)


def buffer_flush_failed(name: str) -> None:
    BUFFER_FLUSH_FAILURES.labels(name).inc()


def buffer_dropped(name: str, reason: str, rows: int) -> None:
    BUFFER_ROWS_DROPPED.labels(name, reason).inc(rows)


def decision_counted(slot: str, reason: str) -> None:
    """Count one decision; past `SLOT_LABELS_MAX` slot and reason pairs, under "other"."""
    child = _decisions.get((slot, reason))
    if child is None:
        label = slot if len(_decisions) < SLOT_LABELS_MAX else "other"
        child = _decisions.setdefault((slot, reason), DECISIONS.labels(label, reason))
    child.inc()


def decision_timed(seconds: float) -> None:
    DECISION_SECONDS.observe(seconds)


def run_ended(kind: str, outcome: str, seconds: float | None = None) -> None:
    RUNS.labels(kind, outcome).inc()
    if seconds is not None and outcome == "finished":
        RUN_SECONDS.labels(kind).observe(seconds)


def task_retried(task: str) -> None:
    TASK_RETRIES.labels(task).inc()

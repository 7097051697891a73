"""Tailor's own Prometheus metrics, beside django-prometheus's request and database metrics.

Every label takes values from a bounded set: buffer names, slot keys that exist (others are
counted as "other"), decision reasons, run kinds and outcomes, task names. Recording costs a
dictionary lookup and an increment under a lock (about a microsecond): cheap enough for the
decision path. Served at `/metrics` (`metrics_view`, to allowed addresses or a token); with
`PROMETHEUS_MULTIPROC_DIR` set before start-up, gunicorn's workers and Celery's worker processes
on the machine share their values through that folder and any of them serves them all.
"""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import Counter, Gauge, Histogram

SLOT_LABELS_MAX = 500  # distinct slot keys kept as labels; more are counted under "other"

DECISIONS = Counter(
    "tailor_decisions", "Slot decisions by slot and reason (rule, default, holdout, error, ...).",
    ["slot", "reason"],
)  # fmt: skip
DECISION_SECONDS = Histogram(
    "tailor_decision_seconds", "Time decide() took.",
    buckets=(0.00002, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25),
)  # fmt: skip
BUFFER_PENDING = Gauge(
    "tailor_buffer_pending_rows", "Rows waiting in write buffers (summed over live processes).",
    ["buffer"], multiprocess_mode="livesum",
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


_decisions: dict[tuple[str, str], Any] = {}


def buffer_pending(name: str) -> Any:
    """The gauge of rows waiting in a buffer of this process (set as rows come and go)."""
    return BUFFER_PENDING.labels(name)


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


def decision_observed(slot: str, reason: str, seconds: float) -> None:
    """Count a decision by slot and reason and time it (about 2 µs in all)."""
    decision_counted(slot, reason)
    DECISION_SECONDS.observe(seconds)


def run_ended(kind: str, outcome: str, seconds: float | None = None) -> None:
    RUNS.labels(kind, outcome).inc()
    if seconds is not None and outcome == "finished":
        RUN_SECONDS.labels(kind).observe(seconds)


def task_retried(task: str) -> None:
    TASK_RETRIES.labels(task).inc()


def scrape_allowed(request: HttpRequest) -> bool:
    """From an address of `TAILOR_METRICS_ALLOWED_IPS` (addresses or networks), or with
    `Authorization: Bearer <TAILOR_METRICS_TOKEN>` when a token is set."""
    token = settings.TAILOR_METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    networks = settings.TAILOR_METRICS_ALLOWED_IPS
    return any(address in ipaddress.ip_network(net, strict=False) for net in networks)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus's text format: django-prometheus's request and database metrics and Tailor's
    own (of every process writing to `PROMETHEUS_MULTIPROC_DIR` when it is set)."""
    if not scrape_allowed(request):
        return HttpResponse("Metrics are not served to this address.", status=403)
    return ExportToDjangoView(request)

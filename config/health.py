"""Liveness (`/healthz`) and readiness (`/readyz`) probes for load balancers and orchestrators."""

import logging
import time
import uuid
from collections.abc import Callable

from django.core.cache import caches
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from kombu.exceptions import OperationalError as KombuOperationalError
from redis.exceptions import RedisError

from config.celery import app as celery_app

logger = logging.getLogger(__name__)

# Errors a dependency raises when it is down or misconfigured; anything else is a bug and
# should surface as a 500 rather than be reported as "not ready".
DEPENDENCY_ERRORS: tuple[type[Exception], ...] = (
    DatabaseError,
    OSError,  # refused or timed-out sockets
    RedisError,
    KombuOperationalError,
)


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def check_cache() -> str:
    cache = caches["default"]
    key = f"tailor:readyz:{uuid.uuid4().hex}"
    cache.set(key, "ok", timeout=10)
    value = cache.get(key)
    cache.delete(key)
    if value != "ok":
        raise OSError("the cache did not return the value just written")
    return type(cache).__name__


def check_broker() -> str:
    if not celery_app.conf.broker_url:
        return "no broker configured: tasks run in process"
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
        return conn.transport.driver_type


CHECKS: dict[str, Callable[[], str]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def run_checks() -> dict[str, dict[str, object]]:
    """Run every readiness check and describe each outcome."""
    results: dict[str, dict[str, object]] = {}
    for name, check in CHECKS.items():
        started = time.perf_counter()
        try:
            detail = check()
        except DEPENDENCY_ERRORS as exc:
            # The class names the failure; the message (hosts, ports) stays in the log.
            logger.warning("Readiness check %s failed: %s", name, exc)
            results[name] = {"ok": False, "error": type(exc).__name__}
        else:
            results[name] = {"ok": True, "detail": detail}
        results[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    return results


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and serving requests; no dependency is touched."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Every dependency answers: 200 when all do, 503 naming the ones that do not."""
    checks = run_checks()
    failing = [name for name, result in checks.items() if not result["ok"]]
    body = {"status": "fail" if failing else "ok", "failing": failing, "checks": checks}
    return JsonResponse(body, status=503 if failing else 200)

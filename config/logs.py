"""Log lines as JSON objects carrying the request's id, and one line for an unreachable database.

`RequestIdMiddleware` takes the id from an incoming `X-Request-ID` header (a proxy's or a load
balancer's, when it looks like an id) or makes one, keeps it in a context variable for every
log line written while the request is served (until `request_finished`), and echoes it in the
response's `X-Request-ID`.
`JsonFormatter` writes one object a line: time, level, logger, message, request_id, and the
traceback as `exc_info` when there is one. Kept free of Django models and DRF: the logging
configuration imports this module while Django starts.
"""

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse

DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError)
REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_request_id: ContextVar[str] = ContextVar("tailor_request_id", default="")


def request_id() -> str:
    """The id of the request being served in this context ("" outside a request)."""
    return _request_id.get()


class RequestIdMiddleware:
    """Give every request an id (the caller's `X-Request-ID` when valid) and echo it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        value = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        _request_id.set(value)  # cleared when the response is done (`request_id_clear`)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = value
        return response


def request_id_clear(**kwargs: Any) -> None:
    """`request_finished` receiver: Django logs a 4xx answer after the middleware returned, so
    the id is kept until then, and no later line of the process carries it."""
    _request_id.set("")


def request_id_set(value: str) -> None:
    """Use `value` (a Celery task's id) as the id of the lines logged from now on."""
    _request_id.set(value)


class RequestIdFilter(logging.Filter):
    """Put the current request's id on every record (as `request_id`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


class DatabaseUnavailableFilter(logging.Filter):
    """An unreachable database is one warning line, not a traceback each request: the 503
    answers and the readiness probe already say it."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, DATABASE_UNAVAILABLE):
            record.msg = f"{record.getMessage()} (database unavailable: {type(exc).__name__})"
            record.args = ()
            record.exc_info, record.exc_text = None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or _request_id.get(),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def logging_config(*, level: str, fmt: str) -> dict:
    """Django's LOGGING: one console handler writing `fmt` ("json" or "plain") lines that carry
    the request id; an unreachable database is one line a request, not a traceback."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
            "json": {"()": "config.logs.JsonFormatter"},
        },
        "filters": {
            "request_id": {"()": "config.logs.RequestIdFilter"},
            "database_unavailable": {"()": "config.logs.DatabaseUnavailableFilter"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": fmt,
                "filters": ["request_id"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "INFO"},
            "django.request": {"filters": ["database_unavailable"]},
        },
    }
